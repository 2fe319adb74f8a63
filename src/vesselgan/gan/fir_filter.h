// FIR resampling of StyleGAN2 (Karras et al. 2020, "Analyzing and improving the image quality of StyleGAN",
// Sec. 2 / App. B, after Zhang 2019 "Making convolutional networks shift-invariant again"): images and
// feature maps are up- and downsampled through the separable low-pass filter [1, 3, 3, 1] so that
// resampling does not alias.
//
// upfirdn2d follows the definition of stylegan2-ada-pytorch: (1) upsample by inserting up - 1 zeros after
// every sample, (2) pad by {left, right, top, bottom} (negative values crop), (3) convolve (a true
// convolution, i.e. correlation with the flipped kernel) without padding, (4) keep every down-th sample.
// An upsampling call multiplies the kernel by up^2, so that a constant map stays constant. The output side
// is ((H * up + top + bottom - kh + 1) + down - 1) / down (integer division), likewise for the width.
//
// Built from depthwise conv_transpose2d / conv2d and constant_pad_nd, with a custom backward (the adjoint
// resampling, itself differentiable): gradients of any order, no per-sample or per-channel loops,
// device-agnostic. The kernel is treated as a constant (no gradient).
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace vg {

// 2-D kernel [k, k] = outer(taps, taps) / sum(taps)^2: unit DC gain (sums to 1). float32, CPU.
torch::Tensor fir_kernel(std::vector<double> taps = {1, 3, 3, 1});

// x: [N, C, H, W] float; kernel: [kh, kw] (any device: it follows x); up, down >= 1;
// pad = {left, right, top, bottom}. See the file comment for the exact definition and output size.
torch::Tensor upfirdn2d(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                        std::array<int64_t, 4> pad);

// Upsample by 2 with the kernel (gain 4), padding chosen so that [N, C, H, W] -> [N, C, 2H, 2W].
torch::Tensor upsample2d(const torch::Tensor& x, const torch::Tensor& kernel);
// Filter, then keep every 2nd sample: [N, C, H, W] -> [N, C, H/2, W/2] (H, W even).
torch::Tensor downsample2d(const torch::Tensor& x, const torch::Tensor& kernel);

}  // namespace vg
