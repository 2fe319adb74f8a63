// How strongly a photograph shows the 8 x 8 block grid of JPEG compression. JPEG codes each 8 x 8 block of luma
// on its own and a low quality discards most of each block's detail, so the steps between neighbouring pixels
// that lie on a block boundary grow against the steps inside the blocks. The measure, per axis: the mean
// absolute luma step across the grid's lines over the mean step elsewhere, taken at the grid offset (0-7) where
// it is largest (a cropped photograph's grid need not start at its corner); the photograph's blockiness is the
// mean of the two axes' values.
//
// An uncompressed photograph measures about 1 (its steps do not care where a grid would be). DRIVE's training
// photographs, whose originals were compressed at the camera, measure 1.08-1.13; recompressed with PIL's encoder
// at quality 90 they measure 1.26-1.43, at 50 1.84-2.49, at 30 2.32-3.34, at 10 4.1-6.7 (docs/segmenter.md,
// lever 23). Resizing a photograph after compression blurs its grid away, and then the measure stays near 1.
#pragma once
#include <torch/torch.h>

namespace vg {

// image: [3, H, W] float in [0, 1] (RGB) or [1, H, W]; fov: [1, H, W] {0, 1} or undefined (every pixel counts).
// Only steps between two FOV pixels count. Returns 1 when the image has no steps to compare (flat, or smaller
// than two blocks along an axis, whose value is then left out). Throws (TORCH_CHECK) on other shapes.
double jpeg_blockiness(const torch::Tensor& image, const torch::Tensor& fov = {});

}  // namespace vg
