// Tiling a batch of images into one picture (the fakes grid of every snapshot, the reals grid at start).
#pragma once
#include <torch/torch.h>

namespace vg {

// images: [N, C, H, W] in [-1, 1] -> [C, rows * H, cols * W] in [0, 1] (clamped), row-major, with
// cols = ceil(sqrt(N)) unless given; empty cells are black.
torch::Tensor image_grid(const torch::Tensor& images, int64_t cols = 0);

}  // namespace vg
