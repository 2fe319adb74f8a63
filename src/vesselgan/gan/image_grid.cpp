#include "vesselgan/gan/image_grid.h"

#include <cmath>

namespace vg {

torch::Tensor image_grid(const torch::Tensor& images, int64_t cols) {
  TORCH_CHECK(images.dim() == 4 && images.size(0) >= 1, "image_grid: expected [N, C, H, W], got ", images.sizes());
  const int64_t n = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  if (cols <= 0) cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + cols - 1) / cols;
  auto x = images.detach().to(torch::kCPU, torch::kFloat).add(1).mul(0.5).clamp(0, 1);
  if (rows * cols > n) x = torch::cat({x, torch::zeros({rows * cols - n, C, H, W})});
  // [rows, cols, C, H, W] -> [C, rows, H, cols, W]
  return x.reshape({rows, cols, C, H, W}).permute({2, 0, 3, 1, 4}).reshape({C, rows * H, cols * W}).contiguous();
}

}  // namespace vg
