// StyleGAN2 discriminator, "resnet" architecture (Karras et al. 2020, Fig. 7c; config F details as in
// stylegan2-ada-pytorch): fromRGB (1x1, lrelu) at the top resolution; per block b{R}..b8
//   y = skip(x) * sqrt(0.5)        1x1, FIR downsample, no bias, linear
//   x = conv1(conv0(x)) * sqrt(0.5) 3x3 lrelu, then 3x3 lrelu with FIR downsample
//   x = x + y
// and the epilogue b4: minibatch standard deviation (Karras 2018, Sec. 3), conv 3x3 lrelu, fc lrelu,
// fc -> one logit. All layers use an equalized learning rate (equalized.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "vesselgan/gan/equalized.h"

namespace vg {

struct DiscriminatorOptions {
  int64_t resolution = 256, img_channels = 3;
  int64_t channel_base = 32768, channel_max = 512;  // channels at r: min(channel_base / r, channel_max)
  int64_t mbstd_group = 4;     // samples per minibatch-stddev group (see minibatch_stddev)
  int64_t mbstd_channels = 1;  // stddev feature maps appended (0 = no minibatch stddev)
  double conv_clamp = 256;     // clamp conv outputs to +-conv_clamp (0 = off)
};

void to_json(nlohmann::json& j, const DiscriminatorOptions& o);
void from_json(const nlohmann::json& j, DiscriminatorOptions& o);
// Throws vg::UserError ("discriminator.<field> = <value> is not valid (valid: ...)") for the first bad field.
void validate(const DiscriminatorOptions& o);

// The group size minibatch_stddev uses for a batch of n: G = min(group, n) as in stylegan2-ada-pytorch, and
// where n is not a multiple of G the largest G' < G that divides n (so any batch works; a prime n > group
// gives G = 1, whose stddev feature is the constant sqrt(1e-8)).
int64_t mbstd_group_size(int64_t group, int64_t n);

// Minibatch standard deviation (Karras 2018, Sec. 3; stylegan2-ada-pytorch's MinibatchStdLayer).
// x: [N, C, H, W] -> [N, C + channels, H, W]. The batch is split into N / G groups of G samples (sample i is
// in group i % (N / G)) and the channels into `channels` sets of C / channels; each appended map is, for
// its group and channel set, the mean over those channels and all pixels of the stddev over the group
// (sqrt(var + 1e-8), biased variance).
torch::Tensor minibatch_stddev(const torch::Tensor& x, int64_t group, int64_t channels);

class DiscriminatorBlockImpl : public torch::nn::Module {
 public:
  // in_channels = 0 for the first block (it reads the image through fromrgb).
  DiscriminatorBlockImpl(int64_t in_channels, int64_t tmp_channels, int64_t out_channels,
                         int64_t img_channels, double conv_clamp);
  // x: [N, in, R, R] (undefined for the first block); img: [N, img_channels, R, R] -> [N, out, R/2, R/2]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& img);

  EqualConv2d fromrgb{nullptr}, conv0{nullptr}, conv1{nullptr}, skip{nullptr};
};
TORCH_MODULE(DiscriminatorBlock);

class DiscriminatorEpilogueImpl : public torch::nn::Module {
 public:
  DiscriminatorEpilogueImpl(int64_t in_channels, int64_t mbstd_group, int64_t mbstd_channels,
                            double conv_clamp);
  // x: [N, C, 4, 4] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x);

  EqualConv2d conv{nullptr};
  EqualLinear fc{nullptr}, out{nullptr};

 private:
  int64_t mbstd_group_, mbstd_channels_;
};
TORCH_MODULE(DiscriminatorEpilogue);

class DiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorImpl(const DiscriminatorOptions& o);
  // img: [N, img_channels, R, R] float, about [-1, 1] -> logits [N, 1]. Runs channels-last on the CPU
  // (preferred_layout) and in img's layout elsewhere (on an H100, fp32, 256 px, channel_base 16384, batch 16:
  // forward + backward 36 ms NCHW vs 63 ms channels-last; R1 154 vs 222 ms).
  torch::Tensor forward(const torch::Tensor& img);
  const DiscriminatorOptions& options() const { return options_; }

  std::vector<DiscriminatorBlock> blocks;   // b{R}, ..., b8
  DiscriminatorEpilogue epilogue{nullptr};  // registered as "b4"

 private:
  DiscriminatorOptions options_;
};
TORCH_MODULE(Discriminator);

}  // namespace vg
