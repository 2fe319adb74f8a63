// SA-UNet (Guo et al. 2020, "SA-UNet: Spatial Attention U-Net for Retinal Vessel Segmentation", Fig. 1):
// a U-Net with `depth` 2x2 max poolings; every 3x3 convolution is followed by DropBlock, BatchNorm and
// ReLU; the bottleneck is conv -> spatial attention -> conv; the decoder upsamples with 3x3 stride-2
// transposed convolutions (output_padding 1), concatenates the skip and applies two conv units; a 1x1
// convolution gives one logit per pixel (the sigmoid is folded into the loss). Layer for layer the same as
// the Python peer shared/bench/sa_unet_reference.py. With the paper's settings (3 input channels, 16 base
// channels, depth 3) it has 537,299 parameters.
//
// Variants (ablations of Guo 2020, Table 3): "sa-unet"; "sd-unet" = no spatial attention (SD-Unet);
// "unet" = neither DropBlock nor attention (the plain backbone with BatchNorm).
//
// Cascade (refiner_channels > 0; after the W-Net of Galdran et al. 2022, "State-of-the-art retinal vessel
// segmentation with minimalistic models"): a second, small plain U-Net ("unet" variant, refiner_channels base
// channels, refiner_depth poolings) reads the photograph concatenated with the first network's probability map
// and corrects the first network's logits: forward() returns first + refiner. The refiner's head starts at
// zero, so a cascade built on a trained SA-UNet starts as that SA-UNet and learns only corrections (a W-Net's
// second U-Net replaces the first's map instead; fine-tuned from a trained SA-UNet that way, its fresh refiner
// cost 0.06 validation F1 after 17 epochs, docs/segmenter.md). Training scores both stages (forward_stages()).
//
// Speed on CPU: activations run channels-last (oneDNN's fast layout; NCHW convolutions with 16 channels are
// ~20x slower in LibTorch 1.13) and the transposed convolutions use conv_transpose3x3_stride2. On other
// devices the caller's layout is kept (pass channels-last input for bf16 on CUDA).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "vesselgan/seg/dropblock.h"
#include "vesselgan/seg/spatial_attention.h"

namespace vg {

struct SAUNetOptions {
  int64_t in_channels = 3;
  // Channels of the first level; level k has base * 2^k, the bottleneck base * 2^depth.
  int64_t base_channels = 16;
  int64_t depth = 3;  // number of 2x2 poolings; input sides must be multiples of 2^depth
  // "sa-unet" | "sd-unet" (no attention) | "unet" (no DropBlock, no attention)
  std::string variant = "sa-unet";
  int64_t block_size = 7;   // DropBlock block side (odd)
  double keep_prob = 0.82;  // DropBlock keep probability, in (0, 1]
  // The refining second network of a cascade: its base channels (0 = no cascade, the seed's SA-UNet) and its
  // poolings (at most depth, so the first network's input sides suit it). JSON carries them only when on, so
  // checkpoints without a cascade read and write as before.
  int64_t refiner_channels = 0;
  int64_t refiner_depth = 2;
};

void to_json(nlohmann::json& j, const SAUNetOptions& o);
// Reads the keys present in j over the current values of o; unknown keys and wrong types are UserErrors.
void from_json(const nlohmann::json& j, SAUNetOptions& o);
// Throws vg::UserError naming the first bad field and its valid range.
void validate(const SAUNetOptions& o);

// conv3x3 -> [DropBlock] -> BatchNorm -> ReLU: one unit of the peer's conv_block.
class ConvDropBnReluImpl : public torch::nn::Module {
 public:
  ConvDropBnReluImpl(int64_t in_channels, int64_t out_channels, const SAUNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv{nullptr};
  DropBlock drop{nullptr};  // null in the "unet" variant
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvDropBnRelu);

// Two units: the encoder and decoder block of SA-UNet.
class ConvBlockImpl : public torch::nn::Module {
 public:
  ConvBlockImpl(int64_t in_channels, int64_t out_channels, const SAUNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  ConvDropBnRelu layer1{nullptr}, layer2{nullptr};
};
TORCH_MODULE(ConvBlock);

class SAUNetImpl : public torch::nn::Module {
 public:
  explicit SAUNetImpl(const SAUNetOptions& options = {});
  // x: [N, in_channels, H, W] float, H and W multiples of 2^depth -> logits [N, 1, H, W] (the last stage's)
  torch::Tensor forward(const torch::Tensor& x);
  // Every stage's logits, first to last: one tensor, or two with a cascade (the first network's, the refiner's).
  std::vector<torch::Tensor> forward_stages(const torch::Tensor& x);
  // The contracting half alone: x as in forward() -> depth + 1 tensors, the output of encoder level k
  // ([N, base * 2^k, H / 2^k, W / 2^k], before its pooling; the skip connections) for k = 0..depth-1, then
  // the bottleneck after attention and its second conv ([N, base * 2^depth, H / 2^depth, W / 2^depth]).
  // On CPU they are channels-last. forward() runs the decoder on exactly these.
  std::vector<torch::Tensor> encode(const torch::Tensor& x);
  // forward() of a network without a refiner, and the last decoder block's output the head reads: {logits
  // [N, 1, H, W], features [N, base_channels, H, W]} (the features channels-last on CPU). Training-time terms on
  // the features (seg/pixel_contrast.h) use it; a cascade is refused (c10::Error).
  std::pair<torch::Tensor, torch::Tensor> forward_with_features(const torch::Tensor& x);
  const SAUNetOptions& options() const { return options_; }
  // The refiner of a cascade, or null.
  const std::shared_ptr<SAUNetImpl>& refiner() const { return refiner_; }
  // Input sides must be multiples of this (2^depth).
  int64_t size_multiple() const { return int64_t{1} << options_.depth; }

 private:
  SAUNetOptions options_;
  std::vector<ConvBlock> encoder_;                    // "enc0".."enc{depth-1}"
  ConvDropBnRelu bottleneck1_{nullptr};               // "mid1"
  SpatialAttention attention_{nullptr};               // "attention", only in "sa-unet"
  ConvDropBnRelu bottleneck2_{nullptr};               // "mid2"
  std::vector<torch::nn::ConvTranspose2d> upsample_;  // "up{k}": level k+1 -> k
  std::vector<ConvBlock> decoder_;                    // "dec{k}"
  torch::nn::Conv2d head_{nullptr};                   // "head": 1x1 conv to one logit
  std::shared_ptr<SAUNetImpl> refiner_;               // "refiner", only in a cascade

  torch::Tensor first_stage(const torch::Tensor& x);  // the SA-UNet's own logits
  torch::Tensor decode(const torch::Tensor& x);       // the last decoder block's output, before the head
};
TORCH_MODULE(SAUNet);

// ConvTranspose2d(kernel 3, stride 2, padding 1, output_padding 1), the SA-UNet upsampling, computed as one
// 2x2 convolution with 4 * Cout channels (one group per output pixel phase) followed by a pixel shuffle:
// the same products and sums, with the taps regrouped by phase. On CPU (LibTorch 1.13, 2 threads) this is
// 5-20x faster than the library's transposed convolution, which does not use oneDNN. Differentiable.
// x: [N, Cin, H, W]; weight: [Cin, Cout, 3, 3]; bias: [Cout] or undefined -> [N, Cout, 2H, 2W]
torch::Tensor conv_transpose3x3_stride2(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias);

// Number of scalar parameters (trainable tensors of m and its submodules; BatchNorm running statistics are
// buffers and do not count).
int64_t count_parameters(const torch::nn::Module& m);

}  // namespace vg
