// Layers with an equalized learning rate (Karras et al. 2018, "Progressive growing of GANs", Sec. 4.1; as
// used by StyleGAN2): parameters are stored as N(0, 1) / lr_mul and scaled at run time by
// lr_mul / sqrt(fan_in), so that Adam's per-parameter step sizes act alike on every layer; biases are
// scaled by lr_mul. Activation "linear" or "lrelu" (leaky ReLU with slope 0.2 followed by a gain of sqrt(2),
// which keeps the second moment of N(0, 1) input).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace vg {

// x: [N, C, ...] -> act(x + bias) * gain, clamped to [-clamp, clamp] when clamp > 0 (stylegan2-ada-pytorch's
// bias_act). bias: [C] or undefined; lrelu: slope 0.2 and an extra gain of sqrt(2).
torch::Tensor bias_act(const torch::Tensor& x, const torch::Tensor& bias, bool lrelu, double gain = 1.0,
                       double clamp = 0.0);

// True for "lrelu", false for "linear"; anything else is a broken invariant (TORCH_CHECK).
bool is_lrelu(const std::string& activation);

class EqualLinearImpl : public torch::nn::Module {
 public:
  EqualLinearImpl(int64_t in_features, int64_t out_features, bool bias = true, double bias_init = 0.0,
                  double lr_mul = 1.0, const std::string& activation = "linear");
  // x: [N, in_features] -> [N, out_features]
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [out, in], N(0, 1) / lr_mul
  torch::Tensor
      bias;  // [out], initialized to bias_init (used as bias * lr_mul, as the reference); or undefined

 private:
  double weight_gain_, bias_gain_;
  bool lrelu_;
};
TORCH_MODULE(EqualLinear);

// Convolution with padding k / 2 and optional FIR resampling (up = 2: transposed convolution then filter;
// down = 2: filter then strided convolution; see conv2d_resample.h). conv_clamp > 0 clamps the activated
// output to +-conv_clamp * gain.
class EqualConv2dImpl : public torch::nn::Module {
 public:
  EqualConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, bool bias = true,
                  const std::string& activation = "linear", int64_t up = 1, int64_t down = 1,
                  double conv_clamp = 0.0);
  // x: [N, in, H, W] -> [N, out, H * up / down, W * up / down]; `gain` multiplies the activated output
  // (e.g. sqrt(0.5) on the two branches of a residual block).
  torch::Tensor forward(const torch::Tensor& x, double gain = 1.0);

  torch::Tensor weight;           // [out, in, k, k], N(0, 1)
  torch::Tensor bias;             // [out] or undefined
  torch::Tensor resample_filter;  // buffer [4, 4] when up or down > 1

 private:
  int64_t up_, down_, padding_;
  double weight_gain_, conv_clamp_;
  bool lrelu_;
};
TORCH_MODULE(EqualConv2d);

}  // namespace vg
