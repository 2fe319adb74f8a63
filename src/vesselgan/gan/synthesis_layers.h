// Building blocks of the StyleGAN2 synthesis network (Karras et al. 2020, Fig. 2d and Fig. 7, "skip"
// generator; layer details as in stylegan2-ada-pytorch). Parameter names follow the reference
// (affine, weight, bias, noise_strength, noise_const, const, conv0, conv1, torgb).
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "vesselgan/gan/equalized.h"

namespace vg {

// Per-pixel noise inputs (Karras 2019, StyleGAN, Sec. 3.2): fresh N(0, 1) noise per call, the fixed
// per-layer buffers noise_const (repeatable images), or no noise.
enum class NoiseMode { kRandom, kConst, kNone };

// How one synthesis pass runs. fused and channels_last change only speed, not the function computed.
struct SynthesisMode {
  NoiseMode noise = NoiseMode::kRandom;
  bool fused = false;          // modulated convolutions as one grouped convolution (modulated_conv.h)
  bool channels_last = false;  // channels-last activations on every device (on the CPU they always are)
};

// Modulated 3x3 convolution (optionally up 2 + FIR), + noise * noise_strength, + bias, lrelu, clamp.
class SynthesisLayerImpl : public torch::nn::Module {
 public:
  SynthesisLayerImpl(int64_t in_channels, int64_t out_channels, int64_t w_dim, int64_t resolution, int64_t up,
                     bool use_noise, double conv_clamp);
  // x: [N, in, R / up, R / up]; w: [N, w_dim] -> [N, out, R, R]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w, const SynthesisMode& mode);

  EqualLinear affine{nullptr};    // w -> styles [N, in], bias_init 1
  torch::Tensor weight;           // [out, in, 3, 3], N(0, 1)
  torch::Tensor bias;             // [out]
  torch::Tensor noise_strength;   // [] (learned, starts at 0); undefined without noise
  torch::Tensor noise_const;      // buffer [R, R]; undefined without noise
  torch::Tensor resample_filter;  // buffer [4, 4] when up = 2

 private:
  int64_t resolution_, up_;
  double conv_clamp_;
};
TORCH_MODULE(SynthesisLayer);

// Modulated 1x1 convolution to image channels without demodulation; styles scaled by 1 / sqrt(in).
class ToRGBLayerImpl : public torch::nn::Module {
 public:
  ToRGBLayerImpl(int64_t in_channels, int64_t out_channels, int64_t w_dim, double conv_clamp);
  // x: [N, in, R, R]; w: [N, w_dim] -> [N, out, R, R]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w, const SynthesisMode& mode);

  EqualLinear affine{nullptr};
  torch::Tensor weight;  // [out, in, 1, 1]
  torch::Tensor bias;    // [out]

 private:
  double weight_gain_, conv_clamp_;
};
TORCH_MODULE(ToRGBLayer);

// One resolution of the skip generator. The 4x4 block starts from a learned constant and has one
// convolution; the others upsample (conv0, up 2) and convolve again (conv1). Each adds its toRGB output to
// the FIR-upsampled image of the previous resolution.
class SynthesisBlockImpl : public torch::nn::Module {
 public:
  // in_channels = 0 for the first (4x4) block.
  SynthesisBlockImpl(int64_t in_channels, int64_t out_channels, int64_t w_dim, int64_t resolution,
                     int64_t img_channels, bool use_noise, double conv_clamp);
  // x: [N, in, R/2, R/2] (undefined for the first block); img: [N, img_channels, R/2, R/2] or undefined;
  // ws: [N, num_conv() + 1, w_dim] (the last one drives toRGB). Returns {x [N, out, R, R], img [.., R, R]}.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& img,
                                                  const torch::Tensor& ws, const SynthesisMode& mode);
  int64_t num_conv() const { return conv0 ? 2 : 1; }

  torch::Tensor const_input;  // parameter "const" [out, 4, 4] (first block only)
  SynthesisLayer conv0{nullptr}, conv1{nullptr};
  ToRGBLayer torgb{nullptr};
  torch::Tensor resample_filter;  // buffer [4, 4] for the image upsampling (not in the first block)
};
TORCH_MODULE(SynthesisBlock);

}  // namespace vg
