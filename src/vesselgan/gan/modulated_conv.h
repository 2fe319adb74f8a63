// Modulated convolution of StyleGAN2 (Karras et al. 2020, Sec. 2.2, eqs. 1-3): every sample n convolves with
// its own weight
//   w'_{n,o,i,k}  = w_{o,i,k} * s_{n,i}                                   (eq. 1, modulation)
//   w''_{n,o,i,k} = w'_{n,o,i,k} / sqrt(sum_{i,k} w'_{n,o,i,k}^2 + 1e-8)   (eq. 3, demodulation)
// which keeps unit output variance for unit-variance input (eq. 2).
//
// Two exact implementations without per-sample loops (as in stylegan2-ada-pytorch):
//  - fused: one grouped convolution over [1, N * I, H, W] with the [N * O, I, k, k] per-sample weights;
//  - unfused: scale the input by s, convolve with the shared weight, scale the output by the demodulation
//    coefficients d_{n,o} = rsqrt(sum_i s_{n,i}^2 sum_k w_{o,i,k}^2 + 1e-8) -- the same numbers, computed
//    with an ordinary batched convolution (faster on the CPU and on an H100, see generator.h; and LibTorch's
//    double backward of a grouped convolution loops over the groups, which slows path-length regularization).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace vg {

// x: [N, I, H, W]; weight: [O, I, k, k] (k odd, padding k / 2); styles: [N, I] -> [N, O, H', W'] with
// H' = H (up = 1) or 2H (up = 2: a transposed convolution followed by the FIR `fir`, default fir_kernel()).
torch::Tensor modulated_conv2d(const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& styles, bool demodulate = true, int64_t up = 1,
                               const torch::Tensor& fir = {}, bool fused = true);

}  // namespace vg
