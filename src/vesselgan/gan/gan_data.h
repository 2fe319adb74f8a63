// Real images for the StyleGAN2 discriminator: the training photographs held on the training device and
// served as random minibatches in [-1, 1], in the mode the run asks for:
// - full / joint: each photograph padded (centered, black) to a square and resized to the resolution;
// - patch / joint-patch: random resolution x resolution crops at native scale whose FOV fraction is at least
//   patch_min_fov (many distinct samples from few photographs; fine vessels keep their width), uniformly or,
//   with patch_vessel_bias, toward crops with more vessel pixels;
// - joint modes append the vessel label as a 4th channel (-1 background, +1 vessel; blurred by label_blur so
//   its values are continuous like a generator's) that every later geometric operation moves with the
//   photograph;
// - label-patch serves that vessel channel alone (1 channel), for the label-first route.
// Full modes serve the images in epochs, each a fresh permutation (every image once per epoch, as
// stylegan2-ada-pytorch's shuffling sampler does); the permutation of epoch e depends on the run's seed and e
// alone, so a run resumed at `seek(nimg)` continues the same sequence. Patch modes draw crop positions with
// replacement: they sample hundreds of thousands of positions, where repeats within a run are rare anyway.
// Mirror adds a random x-flip per sample. That and the crop draws come from LibTorch's default CPU generator,
// so a restored RNG state replays the same batches.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "vesselgan/data/dataset.h"
#include "vesselgan/gan/gan_options.h"

namespace vg {

class GanImageSource {
 public:
  // UserError when there are no samples, a joint mode meets a sample without a label, or no crop position of
  // any photograph satisfies patch_min_fov (naming the smallest valid resolution / fraction).
  GanImageSource(const std::vector<Sample>& samples, const GanTrainOptions& o, const torch::Device& device);

  // [n, C, R, R] float in [-1, 1] on the device.
  torch::Tensor batch(int64_t n);
  // Full modes: continue as if `drawn` images had been served already (a resumed run passes its nimg).
  void seek(int64_t drawn) { drawn_ = drawn; }
  // The first n images (or crops from the centre of each photograph's FOV), not flipped: for the reals grid
  // and for statistics. [min(n, count()), C, R, R] in [-1, 1].
  torch::Tensor first(int64_t n) const;
  int64_t count() const { return count_; }
  int64_t channels() const { return channels_; }

 private:
  torch::Tensor crops(const torch::Tensor& index) const;  // index: [n] rows of positions_ -> [n, C, R, R]
  torch::Tensor next_in_epochs(int64_t n);                // full modes: the next n image indices, [n] int64
  int64_t resolution_ = 0, channels_ = 0, count_ = 0;
  bool patch_ = false, mirror_ = false;
  torch::Tensor images_;     // full: [M, C, R, R]; patch: [M, C, H, W] (padded to a common size)
  torch::Tensor positions_;  // patch: [P, 3] int64 (image, top, left), CPU
  torch::Tensor weights_;    // patch with patch_vessel_bias > 0: [P] float draw weights, CPU; else undefined
  uint64_t seed_ = 0;        // full modes: the epochs' permutations derive from it
  int64_t drawn_ = 0;        // full modes: images served so far
  int64_t order_epoch_ = -1;
  torch::Tensor order_;      // full modes: the permutation of epoch order_epoch_, [count] int64, CPU
  torch::Device device_;
};

// Draw weights of crop positions whose vessel fractions are `vessel_fraction` ([P] float): the mixture
// (1 - bias) / P + bias * fraction / sum of fractions (uniform when no position holds a vessel). [P] float.
torch::Tensor vessel_biased_weights(const torch::Tensor& vessel_fraction, double bias);

// `count` random size x size crops lying wholly inside the FOVs of `samples` (photograph, and label where
// the sample has one; mask all ones), drawn uniformly over every such position of every photograph with a
// generator seeded by `seed`; ids "crop<k>". For comparing patch generators with real patches. UserError when
// no photograph has such a crop.
std::vector<Sample> random_fov_crops(const std::vector<Sample>& samples, int64_t size, int64_t count, uint64_t seed);

// The real photographs as a GAN of options `o` sees them, for comparing with its samples: full modes, every
// photograph padded to a square and resized to the resolution; patch modes, `count` random crops wholly
// inside the FOV (random_fov_crops). RGB only: [N, 3, R, R] float in [0, 1] on the CPU.
torch::Tensor real_views(const std::vector<Sample>& samples, const GanTrainOptions& o, int64_t count, uint64_t seed);

}  // namespace vg
