// A trained SA-UNet ready to segment photographs of any size: loads a checkpoint, fits each image to the
// network as it was trained (model_input.h), tiles images too large for one pass, optionally averages
// flipped copies (test-time augmentation), and maps the probability back to the photograph's pixels.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/model_input.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg {

struct PredictOptions {
  bool tta = false;            // average over identity, h-flip, v-flip and both flips
  int64_t tile = 1024;         // canvases with a side above this are segmented in tiles of this side
  int64_t tile_overlap = 64;   // pixels shared by neighbouring tiles (blended with a linear ramp)
  bool bf16 = true;            // CUDA only
};

class Segmenter {
 public:
  // Loads a "sa-unet" checkpoint (UserError when missing or of another kind) onto `device`.
  static Segmenter load(const std::filesystem::path& checkpoint, const torch::Device& device);
  Segmenter(SAUNet model, InputOptions input, const torch::Device& device);

  // image: [3, H, W] float in [0, 1] (any device) -> vessel probability [1, H, W] float on the CPU.
  torch::Tensor probability(const torch::Tensor& image, const PredictOptions& opt = {}) const;

  const CheckpointHeader& header() const { return header_; }
  const torch::Device& device() const { return device_; }
  SAUNet& model() { return model_; }

 private:
  torch::Tensor forward_canvas(const torch::Tensor& canvas, const PredictOptions& opt) const;  // [1,3,H,W]
  torch::Tensor forward_tiled(const torch::Tensor& canvas, const PredictOptions& opt) const;

  mutable SAUNet model_;
  InputOptions input_;
  torch::Device device_;
  CheckpointHeader header_;
};

}  // namespace vg
