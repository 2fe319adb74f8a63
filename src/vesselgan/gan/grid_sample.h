// Bilinear grid sampling that can be differentiated twice with respect to its input.
//
// R1 on augmented reals (Karras et al. 2020, "Training generative adversarial networks with limited data",
// ADA) needs d/dtheta ||d D(aug(x)) / dx||^2, i.e. the backward of grid sampling must itself be
// differentiable. LibTorch's aten::grid_sampler_2d_backward has no derivative in recent releases
// ("derivative for aten::grid_sampler_2d_backward is not implemented"), so this is a custom autograd
// function pair: forward = grid_sampler_2d; its backward (grad_input = S^T grad_output, with S the linear
// sampling operator) is a second custom function whose own backward is S again (the adjoint of the adjoint),
// so the chain can be differentiated any number of times with respect to `input` and the incoming gradients.
//
// The grid gets a first-order gradient only: its first derivative is returned (not differentiable further)
// and it receives no second-order gradient. In ADA the grid comes from random augmentation parameters, which
// never require a gradient, so this is all the regularizers need.
#pragma once
#include <torch/torch.h>

namespace vg {

// input: [N, C, H, W] float; grid: [N, Ho, Wo, 2] in [-1, 1] (x, y), same dtype and device -> [N, C, Ho, Wo].
// Bilinear, zeros padding, align_corners = false (torch::grid_sampler with modes 0, 0, false).
torch::Tensor grid_sample_2x_differentiable(const torch::Tensor& input, const torch::Tensor& grid);

}  // namespace vg
