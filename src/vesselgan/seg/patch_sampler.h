// Patch training: SA-UNet learns from random native-resolution crops instead of whole padded photographs, so
// real photographs and small synthetic patches (a patch GAN's 64 px tiles) can share a batch, and an epoch
// costs what its crops cost, not what 592x592 canvases cost. Whole photographs still segment in one call.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <vector>

namespace vg {

struct PatchOptions {
  int64_t size = 0;        // crop side in pixels (a multiple of 2^depth); 0 = train on whole photographs
  int64_t per_epoch = 0;   // crops in one epoch (rounded up to whole batches)
  double fov_share = 0.9;  // share of crops centred on an FOV pixel; the others anywhere in the image
};
// Keys exactly: size, per_epoch, fov_share.
void to_json(nlohmann::json& j, const PatchOptions& o);
void from_json(const nlohmann::json& j, PatchOptions& o);  // absent keys keep their current values
void validate(const PatchOptions& o);                      // UserError naming "train.patch.<field>"

// Draws crops of one size from images of any sizes. An image smaller than the crop is zero-padded around
// its centre (its mask is 0 there), so an image exactly the crop's size is always taken whole.
class PatchSampler {
 public:
  // image [C, H, W], label [1, H, W], mask [1, H, W] per sample, all on one device.
  PatchSampler(std::vector<torch::Tensor> images, std::vector<torch::Tensor> labels,
               std::vector<torch::Tensor> masks, int64_t size, double fov_share);

  // `n` crops: the sample uniformly, then with probability fov_share a centre uniform over the sample's FOV
  // pixels (clamped so the crop fits), else a position uniform over the image. Draws from the default CPU
  // generator only (reproducible under torch::manual_seed, exact on resume). Returns [n, C|1|1, size, size].
  void draw(int64_t n, torch::Tensor* image, torch::Tensor* label, torch::Tensor* mask) const;

  int64_t samples() const { return static_cast<int64_t>(images_.size()); }

 private:
  std::vector<torch::Tensor> images_, labels_, masks_;
  std::vector<torch::Tensor> fov_;  // per sample: flat indices of FOV pixels (CPU, long)
  int64_t size_;
  double fov_share_;
};

}  // namespace vg
