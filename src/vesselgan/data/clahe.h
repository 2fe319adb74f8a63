// Contrast-limited adaptive histogram equalization (CLAHE; Zuiderveld 1994, "Contrast limited adaptive
// histogram equalization", Graphics Gems IV): each tile of the image gets its own equalizing map, built from
// its histogram clipped at clip_limit times the uniform bin height (the clipped excess spread evenly over the
// bins, which bounds the map's slope and so the noise it amplifies), and each pixel's value is the bilinear
// blend of the maps of the four tiles whose centres surround it. The classical enhancement of the green
// channel of fundus photographs before vessel segmentation: it evens out illumination and lifts faint vessels
// from a dark background.
#pragma once

#include <torch/torch.h>

namespace vg {

// x: [H, W] float in [0, 1] (values outside are clamped), quantized to 256 levels as an 8-bit image is.
// tile: the tiles' side in pixels (the grid is ceil(H / tile) x ceil(W / tile) equal tiles), >= 8.
// clip_limit: >= 1, the highest bin allowed as a multiple of the uniform bin height (OpenCV's clipLimit);
// the larger, the nearer plain per-tile histogram equalization. Returns [H, W] float in [0, 1].
torch::Tensor clahe(const torch::Tensor& x, double clip_limit, int64_t tile);

}  // namespace vg
