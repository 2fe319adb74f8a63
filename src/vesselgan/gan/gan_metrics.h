// Scores of a generator against the real images it learned: FID (Frechet distance of feature Gaussians,
// Heusel et al. 2017) and KID (kernel distance, Binkowski et al. 2018) in the space of a named feature
// network (gan/feature_network.h), from image files or from tensors in memory.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "vesselgan/core/progress.h"
#include "vesselgan/eval/frechet.h"
#include "vesselgan/gan/feature_network.h"

namespace vg {

struct GanMetricsOptions {
  std::string features;            // feature network spec (make_feature_network); "" = the shipped SA-UNet
  int64_t max_images = 50000;      // per side: the first max_images files (sorted by path) or tensor rows
  int64_t batch = 16;              // images per feature-network call
  int64_t kid_subsets = 100;       // KID: number of random subsets
  int64_t kid_subset_size = 1000;  // KID: rows per subset (capped by the smaller set)
  uint64_t seed = 0;               // KID subset draws
};
void to_json(nlohmann::json& j, const GanMetricsOptions& o);
// Keys present override the current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, GanMetricsOptions& o);
// Throws UserError naming the first out-of-range field and its valid range.
void validate(const GanMetricsOptions& o);

struct GanMetrics {
  double fid = 0;  // Frechet distance in the feature space of `feature_network`
  KidResult kid;
  std::string feature_network;  // FeatureNetwork::name(): scores from different networks do not compare
  int64_t real_count = 0, fake_count = 0;
};
void to_json(nlohmann::json& j, const GanMetrics& m);

// One line: "FID 12.34, KID 0.00567 +- 0.00012 (100 subsets of 1000), features color-stats, 20 real / 20
// fake".
std::string to_string(const GanMetrics& m);

// Real and fake images as files: `real` and `fake` are each a folder of images (image files directly
// inside, sorted by name) or a data set root in any layout data/dataset.h reads (then all its images,
// training and test). Images are read with io/image_io.h, grayscale repeated to 3 channels; consecutive
// images of the same size are batched. The feature network is built from o.features on `device`.
// UserError (one line, naming the folder) when a folder is missing or holds no images, or a side has
// fewer than 2 images. `progress` gets stage "real" / "fake" with unit "image".
GanMetrics compute_gan_metrics(const std::filesystem::path& real, const std::filesystem::path& fake,
                               const GanMetricsOptions& o, const torch::Device& device,
                               const ProgressFn& progress = {});

// The images of `dir`: image files directly inside (sorted), else every image of the data set rooted there.
// UserError naming `what` and the folder when it is missing or holds neither.
std::vector<std::filesystem::path> list_image_files(const std::filesystem::path& dir, const std::string& what = "");

// The same with each side's image files listed (e.g. one split of a data set); at most o.max_images of each.
GanMetrics compute_gan_metrics(std::vector<std::filesystem::path> real_files,
                               std::vector<std::filesystem::path> fake_files, const GanMetricsOptions& o,
                               const torch::Device& device, const ProgressFn& progress = {});

// The same with images already in memory: real, fake [N, 3, H, W] float in [0, 1] (any device), at most
// o.max_images rows of each are used, fed through `net` in batches of o.batch (o.features is ignored).
GanMetrics compute_gan_metrics(const torch::Tensor& real, const torch::Tensor& fake, FeatureNetwork& net,
                               const GanMetricsOptions& o);

// Scores from features already computed ([N, D] and [M, D] from one network named `network`).
GanMetrics gan_metrics_from_features(const torch::Tensor& real_features, const torch::Tensor& fake_features,
                                     const std::string& network, const GanMetricsOptions& o);

}  // namespace vg
