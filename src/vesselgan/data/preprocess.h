// Geometric preprocessing on tensors: centered zero padding (and its inverse) and resizing. Everything runs
// on the input's device and keeps its dtype.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

// Where the original image sits inside the padded canvas (rows top..top+height, cols left..left+width).
struct PadInfo {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// x: [..., H, W] any dtype. Zero-pads (black) to [..., H2, W2] with H2 >= H, W2 >= W, centered with the
// odd pixel going to the bottom / right: top = floor((H2 - H) / 2), left = floor((W2 - W) / 2). For DRIVE
// (584 x 565 -> 592 x 592, the SA-UNet reference) that is top 4 / bottom 4, left 13 / right 14.
// `info`, when given, receives the placement for crop_back. Returns x itself when no padding is needed.
torch::Tensor pad_center(const torch::Tensor& x, int64_t H2, int64_t W2, PadInfo* info = nullptr);

// x: [..., H2, W2]. Inverse of pad_center: the [..., info.height, info.width] window at (top, left),
// returned contiguous.
torch::Tensor crop_back(const torch::Tensor& x, const PadInfo& info);

// Smallest multiple of `multiple` (> 0) that is >= v (>= 0).
int64_t round_up(int64_t v, int64_t multiple);

// x: [N, C, H, W] or [C, H, W]. Resizes to (H, W) with half-pixel centers (align_corners false).
// Bilinear by default (x floating point), antialiased (a triangle filter widened by the scale, like Pillow)
// when either axis shrinks; `nearest` picks the source pixel floor((dst + 0.5) * in / out) instead
// ("nearest-exact", any dtype: for masks and labels). Returns x itself when the size already matches.
torch::Tensor resize_to(const torch::Tensor& x, int64_t H, int64_t W, bool nearest = false);

// x: [C, H, W] floating point. Separable gaussian of `sigma` pixels (radius ceil(3 sigma), at most the image's
// size less one), mirrored borders; x itself when sigma <= 0.
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma);

}  // namespace vg
