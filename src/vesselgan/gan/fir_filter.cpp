#include "vesselgan/gan/fir_filter.h"

#include <algorithm>

namespace vg {

torch::Tensor fir_kernel(std::vector<double> taps) {
  TORCH_CHECK(!taps.empty(), "fir_kernel: needs at least one tap");
  double sum = 0;
  for (double t : taps) sum += t;
  TORCH_CHECK(sum != 0, "fir_kernel: the taps sum to zero, cannot normalize to unit DC gain");
  auto f = torch::tensor(taps, torch::kDouble) / sum;
  return torch::outer(f, f).to(torch::kFloat);
}

namespace {

using IntArr = torch::IntArrayRef;
using Pad = std::array<int64_t, 4>;

bool any_nonzero(const Pad& p) { return p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0; }

// The resampling itself, without autograd: depthwise (groups = C) convolutions. flip = false: a true
// convolution with the kernel (the public definition); flip = true: a correlation. The result is
// multiplied by `gain`.
torch::Tensor upfirdn2d_raw(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                            const Pad& pad, bool flip, double gain) {
  const int64_t channels = x.size(1), kh = kernel.size(0), kw = kernel.size(1);
  auto k = kernel.to(x.device(), x.scalar_type());
  if (gain != 1.0) k = k * gain;
  torch::Tensor y;
  if (up > 1) {
    // Zero insertion + true convolution == a transposed convolution with stride `up` (which convolves,
    // hence the kernel as is). The full transposed output ((H - 1) * up + kh long) starts kh - 1 - top
    // samples before the wanted window and ends up + bottom - kh samples before its end (negative: too
    // long). The symmetric part of the crop goes into the transposed convolution's own padding.
    if (flip) k = k.flip({0, 1});
    const auto w = k.view({1, 1, kh, kw}).repeat({channels, 1, 1, 1});  // [C, 1, kh, kw]
    Pad adj = {pad[0] - (kw - 1), pad[1] + up - kw, pad[2] - (kh - 1), pad[3] + up - kh};
    const int64_t px = std::max<int64_t>(0, -std::max(adj[0], adj[1]));
    const int64_t py = std::max<int64_t>(0, -std::max(adj[2], adj[3]));
    y = torch::conv_transpose2d(x, w, torch::Tensor(), IntArr{up, up}, IntArr{py, px}, IntArr{0, 0},
                                channels);
    adj = {adj[0] + px, adj[1] + px, adj[2] + py, adj[3] + py};
    if (any_nonzero(adj)) y = torch::constant_pad_nd(y, {adj[0], adj[1], adj[2], adj[3]}, 0);
    if (down > 1) y = y.slice(2, 0, y.size(2), down).slice(3, 0, y.size(3), down);
  } else {
    // conv2d correlates: flip the kernel for a true convolution. A strided convolution == filter, subsample.
    if (!flip) k = k.flip({0, 1});
    const auto w = k.view({1, 1, kh, kw}).repeat({channels, 1, 1, 1});
    y = any_nonzero(pad) ? torch::constant_pad_nd(x, {pad[0], pad[1], pad[2], pad[3]}, 0) : x;
    y = torch::conv2d(y, w, torch::Tensor(), IntArr{down, down}, IntArr{0, 0}, IntArr{1, 1}, channels);
  }
  return y;
}

// upfirdn2d with its own backward: the adjoint of a resampling is again a resampling (up and down swapped,
// kernel flipped, pads mirrored; as stylegan2-ada-pytorch's upfirdn2d), so gradients of any order reuse the
// fast depthwise forward. Differentiating depthwise convolutions directly is slow in LibTorch: the double
// backward of a grouped convolution loops over its groups (measured on the 32 px toy D: R1 297 ms, most of
// it ~360 per-channel convolutions), and single-channel convolutions over an [N * C, 1, H, W] batch have a
// slow backward (284 ms for [512, 1, 34, 34] on 1 thread).
class Upfirdn2dFunction : public torch::autograd::Function<Upfirdn2dFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& kernel, int64_t up, int64_t down, Pad pad, bool flip,
                               double gain) {
    ctx->save_for_backward({kernel});
    ctx->saved_data["up"] = up;
    ctx->saved_data["down"] = down;
    ctx->saved_data["pad"] = std::vector<int64_t>(pad.begin(), pad.end());
    ctx->saved_data["flip"] = flip;
    ctx->saved_data["gain"] = gain;
    ctx->saved_data["in_h"] = x.size(2);
    ctx->saved_data["in_w"] = x.size(3);
    return upfirdn2d_raw(x, kernel, up, down, pad, flip, gain);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto kernel = ctx->get_saved_variables()[0];
    const int64_t up = ctx->saved_data["up"].toInt(), down = ctx->saved_data["down"].toInt();
    const auto p = ctx->saved_data["pad"].toIntVector();
    const int64_t in_h = ctx->saved_data["in_h"].toInt(), in_w = ctx->saved_data["in_w"].toInt();
    const auto& dy = grads[0];
    const int64_t kh = kernel.size(0), kw = kernel.size(1), out_h = dy.size(2), out_w = dy.size(3);
    // Adjoint of (zero insertion, pad, convolution, subsampling): zero insertion by `down`, padding so that
    // the full convolution with the flipped kernel lines up, subsampling by `up`.
    const Pad adjoint_pad = {kw - p[0] - 1, in_w * up - out_w * down + p[0] - up + 1,  //
                             kh - p[2] - 1, in_h * up - out_h * down + p[2] - up + 1};
    const auto dx =
        Upfirdn2dFunction::apply(dy, kernel, down, up, adjoint_pad, !ctx->saved_data["flip"].toBool(),
                                 ctx->saved_data["gain"].toDouble());
    return {dx,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor upfirdn2d(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                        std::array<int64_t, 4> pad) {
  // x: [N, C, H, W]; kernel: [kh, kw]
  TORCH_CHECK(x.dim() == 4, "upfirdn2d: x must be [N, C, H, W], got ", x.sizes());
  TORCH_CHECK(kernel.dim() == 2, "upfirdn2d: kernel must be [kh, kw], got ", kernel.sizes());
  TORCH_CHECK(up >= 1 && down >= 1, "upfirdn2d: up and down must be >= 1, got up=", up, " down=", down);
  const int64_t kh = kernel.size(0), kw = kernel.size(1);
  const int64_t out_h = x.size(2) * up + pad[2] + pad[3] - kh + 1;
  const int64_t out_w = x.size(3) * up + pad[0] + pad[1] - kw + 1;
  TORCH_CHECK(out_h >= 1 && out_w >= 1, "upfirdn2d: empty output for input ", x.sizes(), ", kernel ",
              kernel.sizes(), ", up ", up, ", pad {", pad[0], ", ", pad[1], ", ", pad[2], ", ", pad[3], "}");
  // The kernel is a constant: no gradient flows into it.
  return Upfirdn2dFunction::apply(x, kernel.detach(), up, down, pad, /*flip=*/false,
                                  static_cast<double>(up * up));
}

torch::Tensor upsample2d(const torch::Tensor& x, const torch::Tensor& kernel) {
  TORCH_CHECK(kernel.dim() == 2, "upsample2d: kernel must be [kh, kw], got ", kernel.sizes());
  const int64_t kh = kernel.size(0), kw = kernel.size(1), up = 2;
  return upfirdn2d(x, kernel, up, 1, {(kw + up - 1) / 2, (kw - up) / 2, (kh + up - 1) / 2, (kh - up) / 2});
}

torch::Tensor downsample2d(const torch::Tensor& x, const torch::Tensor& kernel) {
  TORCH_CHECK(kernel.dim() == 2, "downsample2d: kernel must be [kh, kw], got ", kernel.sizes());
  TORCH_CHECK(x.dim() == 4 && x.size(2) % 2 == 0 && x.size(3) % 2 == 0,
              "downsample2d: x must be [N, C, H, W] with even H and W, got ", x.sizes());
  const int64_t kh = kernel.size(0), kw = kernel.size(1), down = 2;
  return upfirdn2d(x, kernel, 1, down,
                   {(kw - down + 1) / 2, (kw - down) / 2, (kh - down + 1) / 2, (kh - down) / 2});
}

}  // namespace vg
