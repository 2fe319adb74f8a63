#include "vesselgan/gan/modulated_conv.h"

#include "vesselgan/gan/conv2d_resample.h"
#include "vesselgan/gan/fir_filter.h"

namespace vg {

torch::Tensor modulated_conv2d(const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& styles, bool demodulate, int64_t up,
                               const torch::Tensor& fir, bool fused) {
  // x: [N, I, H, W]; weight: [O, I, k, k]; styles: [N, I]
  TORCH_CHECK(x.dim() == 4, "modulated_conv2d: x must be [N, I, H, W], got ", x.sizes());
  TORCH_CHECK(weight.dim() == 4 && weight.size(1) == x.size(1) && weight.size(2) == weight.size(3) &&
                  weight.size(2) % 2 == 1,
              "modulated_conv2d: weight must be [O, I=", x.size(1), ", k, k] with k odd, got ",
              weight.sizes());
  TORCH_CHECK(styles.dim() == 2 && styles.size(0) == x.size(0) && styles.size(1) == x.size(1),
              "modulated_conv2d: styles must be [N=", x.size(0), ", I=", x.size(1), "], got ",
              styles.sizes());
  TORCH_CHECK(up == 1 || up == 2, "modulated_conv2d: up must be 1 or 2, got ", up);
  const int64_t n = x.size(0), out_ch = weight.size(0), in_ch = weight.size(1), k = weight.size(2);
  const torch::Tensor f = up > 1 ? (fir.defined() ? fir : fir_kernel().to(x.device())) : torch::Tensor();
  const auto w = weight.to(x.scalar_type());
  const auto s = styles.to(x.scalar_type());

  if (!fused) {
    auto y = conv2d_resample(x * s.view({n, in_ch, 1, 1}), w, f, up, 1, k / 2);
    if (!demodulate) return y;
    // d_{n,o} = rsqrt(sum_i s_{n,i}^2 * sum_k w_{o,i,k}^2 + 1e-8)
    const auto d = (s.square().matmul(w.square().sum({2, 3}).t()) + 1e-8).rsqrt();
    return y * d.view({n, out_ch, 1, 1});
  }

  auto wn = w.unsqueeze(0) * s.view({n, 1, in_ch, 1, 1});  // [N, O, I, k, k], eq. 1
  if (demodulate) {
    const auto d = (wn.square().sum({2, 3, 4}) + 1e-8).rsqrt();  // [N, O], eq. 3
    wn = wn * d.view({n, out_ch, 1, 1, 1});
  }
  auto y = conv2d_resample(x.reshape({1, n * in_ch, x.size(2), x.size(3)}),
                           wn.reshape({n * out_ch, in_ch, k, k}), f, up, 1, k / 2, /*groups=*/n);
  return y.reshape({n, out_ch, y.size(2), y.size(3)});
}

}  // namespace vg
