#include "vesselgan/data/preprocess.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace vg {

namespace F = torch::nn::functional;

torch::Tensor pad_center(const torch::Tensor& x, int64_t H2, int64_t W2, PadInfo* info) {
  TORCH_CHECK(x.dim() >= 2, "pad_center: expected [..., H, W], got ", x.sizes());
  const int64_t H = x.size(-2), W = x.size(-1);
  TORCH_CHECK(H2 >= H && W2 >= W, "pad_center: target ", H2, "x", W2, " is smaller than the input ", H, "x",
              W);
  const int64_t top = (H2 - H) / 2, left = (W2 - W) / 2;
  if (info != nullptr) *info = PadInfo{top, left, H, W};
  if (H2 == H && W2 == W) return x;
  // constant_pad_nd takes (left, right, top, bottom) for the last two dimensions.
  return torch::constant_pad_nd(x, {left, W2 - W - left, top, H2 - H - top}, 0);
}

torch::Tensor crop_back(const torch::Tensor& x, const PadInfo& info) {
  TORCH_CHECK(x.dim() >= 2, "crop_back: expected [..., H, W], got ", x.sizes());
  TORCH_CHECK(info.top >= 0 && info.left >= 0 && info.height > 0 && info.width > 0 &&
                  info.top + info.height <= x.size(-2) && info.left + info.width <= x.size(-1),
              "crop_back: window (top ", info.top, ", left ", info.left, ", ", info.height, "x", info.width,
              ") does not fit in ", x.sizes());
  return x.narrow(-2, info.top, info.height).narrow(-1, info.left, info.width).contiguous();
}

int64_t round_up(int64_t v, int64_t multiple) {
  TORCH_CHECK(multiple > 0 && v >= 0, "round_up: need v >= 0 and multiple > 0, got ", v, ", ", multiple);
  return (v + multiple - 1) / multiple * multiple;
}

torch::Tensor resize_to(const torch::Tensor& x, int64_t H, int64_t W, bool nearest) {
  TORCH_CHECK(x.dim() == 3 || x.dim() == 4, "resize_to: expected [N, C, H, W] or [C, H, W], got ", x.sizes());
  TORCH_CHECK(H > 0 && W > 0, "resize_to: target size must be positive, got ", H, "x", W);
  if (x.size(-2) == H && x.size(-1) == W) return x;
  if (nearest) {
    // Nearest with half-pixel centers ("nearest-exact"): source index floor((dst + 0.5) * in / out). Done by
    // gathering, so it behaves the same in every LibTorch version and for every dtype.
    auto index = [&](int64_t in, int64_t out) {
      const auto opts = torch::TensorOptions().dtype(torch::kDouble).device(x.device());
      const torch::Tensor src = ((torch::arange(out, opts) + 0.5) * (static_cast<double>(in) / out)).floor();
      return src.clamp(0, in - 1).to(torch::kLong);
    };
    return x.index_select(-2, index(x.size(-2), H)).index_select(-1, index(x.size(-1), W));
  }
  TORCH_CHECK(x.is_floating_point(), "resize_to: bilinear needs a floating-point tensor, got ",
              x.scalar_type());
  const bool batched = x.dim() == 4;
  const torch::Tensor in = batched ? x : x.unsqueeze(0);
  const bool shrinks = H < in.size(2) || W < in.size(3);
  torch::Tensor out = F::interpolate(in, F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{H, W})
                                             .mode(torch::kBilinear)
                                             .align_corners(false)
                                             .antialias(shrinks));
  return batched ? out : out.squeeze(0);
}

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  const int64_t r = std::min<int64_t>({static_cast<int64_t>(std::ceil(3 * sigma)), x.size(1) - 1, x.size(2) - 1});
  if (sigma <= 0 || r < 1) return x;
  const auto t = torch::arange(-r, r + 1, x.options());
  torch::Tensor k = torch::exp(-0.5 * t * t / (sigma * sigma));
  k = k / k.sum();
  const int64_t c = x.size(0);
  torch::Tensor y = F::pad(x.unsqueeze(0), F::PadFuncOptions({r, r, r, r}).mode(torch::kReflect));
  y = F::conv2d(y, k.view({1, 1, 1, -1}).repeat({c, 1, 1, 1}), F::Conv2dFuncOptions().groups(c));
  y = F::conv2d(y, k.view({1, 1, -1, 1}).repeat({c, 1, 1, 1}), F::Conv2dFuncOptions().groups(c));
  return y.squeeze(0);
}

}  // namespace vg
