#include "vesselgan/gan/conv2d_resample.h"

#include <algorithm>

#include "vesselgan/gan/fir_filter.h"

namespace vg {

using IntArr = torch::IntArrayRef;

torch::Tensor preferred_layout(const torch::Tensor& x) {
  return x.is_cpu() && x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

torch::Tensor conv2d_resample(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& fir,
                              int64_t up, int64_t down, int64_t padding, int64_t groups) {
  // x: [N, groups * I, H, W]; weight: [O, I, kh, kw]
  TORCH_CHECK(x.dim() == 4 && weight.dim() == 4,
              "conv2d_resample: x must be [N, C, H, W] and weight [O, I, k, k], got ", x.sizes(), " and ",
              weight.sizes());
  TORCH_CHECK(groups >= 1 && x.size(1) == groups * weight.size(1) && weight.size(0) % groups == 0,
              "conv2d_resample: x has ", x.size(1), " channels, weight ", weight.sizes(), ", groups ",
              groups);
  TORCH_CHECK(up >= 1 && down >= 1 && (up == 1 || down == 1), "conv2d_resample: up=", up, " down=", down,
              " (one of them must be 1)");
  const int64_t out_channels = weight.size(0), in_per_group = weight.size(1);
  const int64_t kh = weight.size(2), kw = weight.size(3);
  if (up == 1 && down == 1)
    return torch::conv2d(x, weight, torch::Tensor(), IntArr{1, 1}, IntArr{padding, padding}, IntArr{1, 1},
                         groups);
  TORCH_CHECK(fir.defined() && fir.dim() == 2, "conv2d_resample: resampling needs a 2-D FIR kernel");
  const int64_t fh = fir.size(0), fw = fir.size(1);

  if (down > 1) {
    // Filter (padding so that the strided convolution lands on H / down), then a strided convolution.
    const int64_t px0 = padding + (fw - down + 1) / 2, px1 = padding + (fw - down) / 2;
    const int64_t py0 = padding + (fh - down + 1) / 2, py1 = padding + (fh - down) / 2;
    const auto filtered = upfirdn2d(x, fir, 1, 1, {px0, px1, py0, py1});
    return torch::conv2d(filtered, weight, torch::Tensor(), IntArr{down, down}, IntArr{0, 0}, IntArr{1, 1},
                         groups);
  }

  // Transposed convolution: weight as [groups * I, O / groups, k, k].
  auto wt = weight.reshape({groups, out_channels / groups, in_per_group, kh, kw})
                .transpose(1, 2)
                .reshape({groups * in_per_group, out_channels / groups, kh, kw});
  // Padding of the FIR pass after the full transposed convolution ((H - 1) * up + k long); the part that is
  // a symmetric crop goes into the transposed convolution's own padding.
  int64_t px0 = padding + (fw + up - 1) / 2 - (kw - 1), px1 = padding + (fw - up) / 2 - (kw - up);
  int64_t py0 = padding + (fh + up - 1) / 2 - (kh - 1), py1 = padding + (fh - up) / 2 - (kh - up);
  const int64_t pxt = std::max<int64_t>(0, std::min(-px0, -px1));
  const int64_t pyt = std::max<int64_t>(0, std::min(-py0, -py1));
  auto y =
      torch::conv_transpose2d(x, wt, torch::Tensor(), IntArr{up, up}, IntArr{pyt, pxt}, IntArr{0, 0}, groups);
  // Gain up^2 restores the DC level lost to zero insertion.
  return upfirdn2d(y, fir * static_cast<double>(up * up), 1, 1, {px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt});
}

}  // namespace vg
