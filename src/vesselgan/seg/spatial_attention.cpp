#include "vesselgan/seg/spatial_attention.h"

namespace vg {

SpatialAttentionImpl::SpatialAttentionImpl(int64_t kernel_size) {
  TORCH_CHECK(kernel_size >= 1 && kernel_size % 2 == 1, "SpatialAttention: kernel_size must be odd, got ",
              kernel_size);
  conv = register_module(
      "conv",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 1, kernel_size).padding(kernel_size / 2).bias(false)));
}

torch::Tensor SpatialAttentionImpl::attention_map(const torch::Tensor& x) {
  // x: [N, C, H, W]
  TORCH_CHECK(x.dim() == 4, "SpatialAttention: x must be [N, C, H, W], got ", x.sizes());
  // Guo 2020, eq. (1): channel-wise average and max pooling, concatenated, 7x7 conv, sigmoid.
  const torch::Tensor pooled = torch::cat({x.mean(1, /*keepdim=*/true), x.amax(1, /*keepdim=*/true)}, 1);
  return torch::sigmoid(conv->forward(pooled));
}

torch::Tensor SpatialAttentionImpl::forward(const torch::Tensor& x) { return x * attention_map(x); }

}  // namespace vg
