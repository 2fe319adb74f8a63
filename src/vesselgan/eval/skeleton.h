// Skeletons of binary masks by Zhang-Suen thinning (Zhang & Suen 1984, "A fast parallel algorithm for
// thinning digital patterns", CACM 27(3)), used by clDice (cldice.h).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

// Thins the foreground (non-zero bytes) of a row-major h x w image in place to a skeleton one pixel wide
// (8-connected). Pixels outside the image are background. Zhang-Suen deletes some tiny components entirely
// (a 2x2 square vanishes in one step); so that the skeleton keeps every object, a component (8-connected)
// of the input left without any skeleton pixel keeps one pixel: its first in row-major order.
// Output bytes are 0 or 1.
void skeletonize_inplace(uint8_t* image, int64_t h, int64_t w);

// bin: [H, W] or [1, H, W] CPU, bool or numeric (foreground iff > 0.5). Returns the skeleton, [H, W] bool.
torch::Tensor skeletonize(const torch::Tensor& bin);

}  // namespace vg
