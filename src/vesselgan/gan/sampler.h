// Sampling a trained generator: synthetic fundus photographs (and, from a joint-mode GAN, their vessel
// labels) written in the folder layout that `train`, `segment` and `evaluate` read.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "vesselgan/core/progress.h"
#include "vesselgan/gan/gan_models.h"

namespace vg {

// The latent of image `index` under `seed`: its own generator, so image i is the same whatever the count
// and the batch size (the first 50 of 1000 images are the 50 images of a 50-image run). [z_dim] float.
torch::Tensor latent_for(uint64_t seed, int64_t index, int64_t z_dim);

// Images first .. first+n-1 of `seed`: [n, C, R, R] in [-1, 1], truncation psi toward w_avg, constant noise.
torch::Tensor sample_images(Generator& G, int64_t first, int64_t n, double psi, uint64_t seed,
                            const torch::Device& device);

// Images first .. first+n-1 of `seed` with their vessel maps: [n, 4, R, R] in [-1, 1] (RGB, vessel channel).
// A joint generator draws both; a label-first one draws the map, and its painter paints the photograph of the
// map thresholded at 0.5, with an appearance code and noise of the image's own (so image i depends only on
// seed and i). UserError for a generator that draws no labels, or a label-patch one without a painter.
torch::Tensor sample_with_labels(const LoadedGenerator& g, int64_t first, int64_t n, double psi, uint64_t seed,
                                 const torch::Device& device);

// The file stem of generated image `index`: 6 digits ("000042").
std::string image_id(int64_t index);

struct GenerateOptions {
  int64_t count = 100;
  double truncation = 0.7;   // psi: 1 = no truncation, 0 = the mean image
  uint64_t seed = 0;
  int64_t batch = 16;
  int64_t grid = 0;          // > 0: also out/grid.png of the first `grid` images, 8 a row, each above its label
};
void validate(const GenerateOptions& o);

struct GenerateResult {
  int64_t written = 0, skipped = 0;  // skipped: already present (a resumed generation)
  std::filesystem::path out;
};

// Writes out/images/<id>.png (8-bit RGB), out/masks/<id>.png (the FOV: estimated from the photograph in the
// full modes and for patches that may cross the FOV border, all ones for patches cropped wholly inside the FOV)
// and, for a joint-mode or label-first generator, out/labels/<id>.png (the vessel channel
// thresholded at 0.5) and out/probs/<id>.png (16-bit probability); id = 6-digit index. Files already present
// are kept, so a killed generation resumes. Also writes out/generate.json (checkpoint, options, feature of the
// run). Each file is written atomically.
GenerateResult generate_images(const LoadedGenerator& g, const std::filesystem::path& out, const GenerateOptions& o,
                               const torch::Device& device, const ProgressFn& progress = {});

}  // namespace vg
