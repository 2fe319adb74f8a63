// How close a GAN run's snapshots come to the real images they learn: one row per snapshot, so a recipe
// search reads as a table. Against `count` real images as the discriminator sees them (before augmentation):
// - the Frechet distance in a feature network's space (gan/feature_network.h), beside its floor, the same
//   figure between two independent real samples;
// - diversity: the mean pairwise feature distance within the samples over the same within the reals (1 =
//   as varied as the data; a generator that draws one layout for every latent scores near 0), and the same
//   ratio for pixels;
// - for generators that draw vessel maps (label-patch, joint modes), the vessel fraction of each image: the
//   share of its vessel channel above the middle of [-1, 1], where the blurred edge of a real vessel lies;
//   and the orientations the vessels run in: a histogram of the vessel channel's edge directions over the set,
//   compared with the reals' by total variation distance (0: the same; a generator that draws every vessel
//   in one direction scores high even when its images differ in place and width).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "vesselgan/gan/feature_network.h"
#include "vesselgan/gan/gan_models.h"

namespace vg {

struct SnapshotMetricsOptions {
  int64_t count = 256;     // images per side
  double truncation = 1;   // psi of the samples (1: the whole distribution)
  uint64_t seed = 0;       // latents of the samples (gan/sampler.h latent_for)
  int64_t batch = 16;      // images per generator / feature-network call
};
void to_json(nlohmann::json& j, const SnapshotMetricsOptions& o);
void validate(const SnapshotMetricsOptions& o);  // UserError naming the first bad field

// Spread and content of one image set, signed images [N, C, R, R] in [-1, 1] with their features [N, D].
struct ImageSetStats {
  double feature_spread = 0;        // mean pairwise Euclidean distance of the feature vectors
  double pixel_spread = 0;          // mean pairwise RMS pixel difference
  double vessel_fraction = -1;      // mean over images (-1: the images carry no vessel channel)
  double vessel_fraction_p05 = -1, vessel_fraction_p95 = -1;  // 5th and 95th percentile over images
  // Edge directions of the vessel channel over the set: kOrientationBins bins over [0, 180) degrees, each
  // pixel weighted by its squared gradient magnitude, summing to 1 (empty: no vessel channel or no edge).
  std::vector<double> orientation;
};
constexpr int64_t kOrientationBins = 8;
// Total variation distance between two orientation histograms: half the sum of absolute differences, 0..1.
double orientation_distance(const std::vector<double>& a, const std::vector<double>& b);
// `vessel_channel`: the channel that holds vessels (-1: none). UserError for fewer than 2 images.
ImageSetStats image_set_stats(const torch::Tensor& images, const torch::Tensor& features, int64_t vessel_channel);
void to_json(nlohmann::json& j, const ImageSetStats& s);

// The reals' side, computed once for all snapshots: two independent samples A and B of real images.
struct RealReference {
  torch::Tensor features_a, features_b;  // [N, D]
  ImageSetStats stats_a;
  double floor_fd = 0;                   // Frechet distance between A and B
  double floor_orientation = -1;         // orientation distance between A and B (-1: no vessel channel)
};
// real_a, real_b: [N, C, R, R] in [-1, 1], as the generator draws them (C = 1, 3 or 4).
RealReference real_reference(const torch::Tensor& real_a, const torch::Tensor& real_b, FeatureNetwork& net,
                             int64_t batch);

// One snapshot's row: {"kimg", "fd", "fd_floor", "diversity_features", "diversity_pixels", "fake": stats,
// "real": stats, "feature_network"}, and for vessel maps "orientation_distance" with its floor
// "orientation_floor" (reals A against B). The generator's G_ema draws o.count images.
nlohmann::json snapshot_metrics(const LoadedGenerator& g, const RealReference& real, FeatureNetwork& net,
                                const SnapshotMetricsOptions& o, const torch::Device& device);

// What a feature network sees of signed images: [N, C, R, R] in [-1, 1] -> [N, 3, R, R] in [0, 1]; RGB of
// photographs (C = 3, 4), the map repeated to three channels for vessel maps (C = 1).
torch::Tensor feature_view(const torch::Tensor& signed_images);

}  // namespace vg
