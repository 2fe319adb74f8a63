// Spatial attention of SA-UNet (Guo et al. 2020, Sec. 2.2, after CBAM, Woo et al. 2018):
//   M(x) = sigmoid(conv7x7([mean_c(x); max_c(x)])),   y = x * M(x)
// with a 7x7, 2 -> 1 channel convolution without bias, padding 3 (the map keeps its size).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace vg {

class SpatialAttentionImpl : public torch::nn::Module {
 public:
  explicit SpatialAttentionImpl(int64_t kernel_size = 7);
  // x: [N, C, H, W] float -> [N, C, H, W]
  torch::Tensor forward(const torch::Tensor& x);
  // The attention map M(x): [N, 1, H, W] in (0, 1).
  torch::Tensor attention_map(const torch::Tensor& x);

  torch::nn::Conv2d conv{nullptr};  // weight [1, 2, k, k]: input channel 0 = channel mean, 1 = channel max
};
TORCH_MODULE(SpatialAttention);

}  // namespace vg
