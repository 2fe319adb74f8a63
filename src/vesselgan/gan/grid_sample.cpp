#include "vesselgan/gan/grid_sample.h"

#include <torch/torch.h>

#include <tuple>

namespace vg {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// aten's integer codes for grid_sampler_2d: interpolation 0 = bilinear, padding 0 = zeros.
constexpr int64_t kBilinear = 0;
constexpr int64_t kZeros = 0;
constexpr bool kAlignCorners = false;

// y = S(grid) x: bilinear sampling, linear in x.
class GridSampleFn : public torch::autograd::Function<GridSampleFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& grid);
  static variable_list backward(AutogradContext* ctx, variable_list grads);
};

// grad_input = S(grid)^T grad_output. Linear in grad_output, so its derivative with respect to grad_output,
// applied to an incoming g, is S(grid) g: a GridSampleFn again. `input` is passed only for its shape and
// dtype (detached by the caller); it and the grid get no gradient from here.
class GridSampleBackwardFn : public torch::autograd::Function<GridSampleBackwardFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& grad_output,
                               const torch::Tensor& input, const torch::Tensor& grid);
  static variable_list backward(AutogradContext* ctx, variable_list grads);
};

torch::Tensor GridSampleFn::forward(AutogradContext* ctx, const torch::Tensor& input,
                                    const torch::Tensor& grid) {
  ctx->save_for_backward({input, grid});
  return at::grid_sampler_2d(input, grid, kBilinear, kZeros, kAlignCorners);
}

variable_list GridSampleFn::backward(AutogradContext* ctx, variable_list grads) {
  const auto saved = ctx->get_saved_variables();
  const torch::Tensor& input = saved[0];
  const torch::Tensor& grid = saved[1];
  const torch::Tensor& grad_output = grads[0];
  torch::Tensor grad_input, grad_grid;
  if (ctx->needs_input_grad(0)) {
    grad_input = GridSampleBackwardFn::apply(grad_output, input.detach(), grid.detach());
  }
  if (ctx->needs_input_grad(1)) {  // first order only (see the header)
    torch::NoGradGuard no_grad;
    grad_grid = std::get<1>(at::grid_sampler_2d_backward(grad_output, input, grid, kBilinear, kZeros,
                                                         kAlignCorners, {false, true}));
  }
  return {grad_input, grad_grid};
}

torch::Tensor GridSampleBackwardFn::forward(AutogradContext* ctx, const torch::Tensor& grad_output,
                                            const torch::Tensor& input, const torch::Tensor& grid) {
  ctx->save_for_backward({grid});
  return std::get<0>(at::grid_sampler_2d_backward(grad_output, input, grid, kBilinear, kZeros, kAlignCorners,
                                                  {true, false}));
}

variable_list GridSampleBackwardFn::backward(AutogradContext* ctx, variable_list grads) {
  const torch::Tensor grid = ctx->get_saved_variables()[0];
  torch::Tensor grad_grad_output;
  if (ctx->needs_input_grad(0)) grad_grad_output = GridSampleFn::apply(grads[0], grid);
  return {grad_grad_output, torch::Tensor(), torch::Tensor()};
}

}  // namespace

torch::Tensor grid_sample_2x_differentiable(const torch::Tensor& input, const torch::Tensor& grid) {
  TORCH_CHECK(input.dim() == 4, "grid_sample_2x_differentiable: input must be [N, C, H, W], got ",
              input.sizes());
  TORCH_CHECK(grid.dim() == 4 && grid.size(3) == 2 && grid.size(0) == input.size(0),
              "grid_sample_2x_differentiable: grid must be [N, Ho, Wo, 2] with N = ", input.size(0), ", got ",
              grid.sizes());
  TORCH_CHECK(input.is_floating_point() && input.scalar_type() == grid.scalar_type(),
              "grid_sample_2x_differentiable: input and grid must share one floating dtype, got ",
              input.scalar_type(), " and ", grid.scalar_type());
  TORCH_CHECK(input.device() == grid.device(), "grid_sample_2x_differentiable: input on ", input.device(),
              " but grid on ", grid.device());
  return GridSampleFn::apply(input, grid);
}

}  // namespace vg
