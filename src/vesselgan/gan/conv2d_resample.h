// A 2-D convolution fused with FIR up- or downsampling, as StyleGAN2 resamples inside its layers (Karras et
// al. 2020, App. B; the fast paths of stylegan2-ada-pytorch's conv2d_resample):
//  - up = 2: a stride-2 transposed convolution with the weight, then the FIR filter with gain 4;
//  - down = 2: the FIR filter, then a stride-2 convolution;
//  - otherwise a plain convolution with `padding` zeros on every side.
// With padding = k / 2 and an even input side H, the output side is 2H, H / 2 or H.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace vg {

// The activation layout the networks here run in: channels-last on the CPU, where LibTorch's oneDNN
// convolutions are several times faster in it than in NCHW (LibTorch 1.13, 1 thread: a 3x3 64 -> 64
// convolution of [8, 64, 32, 32] takes 6 ms forward in channels-last vs 45 ms in NCHW; the 32 px toy D
// forward + backward 55 vs 123 ms); elsewhere the tensor's own layout is kept (see discriminator.h).
torch::Tensor preferred_layout(const torch::Tensor& x);

// x: [N, groups * I, H, W]; weight: [O, I, k, k] (O divisible by groups); fir: [f, f] (needed for up/down >
// 1). Returns [N, O, H', W']. Only one of up, down may exceed 1.
torch::Tensor conv2d_resample(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& fir,
                              int64_t up, int64_t down, int64_t padding, int64_t groups = 1);

}  // namespace vg
