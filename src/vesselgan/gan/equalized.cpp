#include "vesselgan/gan/equalized.h"

#include <cmath>

#include "vesselgan/gan/conv2d_resample.h"
#include "vesselgan/gan/fir_filter.h"

namespace vg {

bool is_lrelu(const std::string& activation) {
  TORCH_CHECK(activation == "linear" || activation == "lrelu",
              "activation must be \"linear\" or \"lrelu\", got \"", activation, "\"");
  return activation == "lrelu";
}

torch::Tensor bias_act(const torch::Tensor& x, const torch::Tensor& bias, bool lrelu, double gain,
                       double clamp) {
  // x: [N, C, ...]; bias: [C]
  torch::Tensor y = x;
  if (bias.defined()) {
    TORCH_CHECK(x.dim() >= 2 && bias.dim() == 1 && bias.size(0) == x.size(1), "bias_act: bias ", bias.sizes(),
                " does not match x ", x.sizes());
    std::vector<int64_t> shape(x.dim(), 1);
    shape[1] = bias.size(0);
    y = y + bias.to(x.scalar_type()).view(shape);
  }
  if (lrelu) {
    y = torch::leaky_relu(y, 0.2);
    gain *= std::sqrt(2.0);
  }
  if (gain != 1.0) y = y * gain;
  if (clamp > 0) y = y.clamp(-clamp, clamp);
  return y;
}

EqualLinearImpl::EqualLinearImpl(int64_t in_features, int64_t out_features, bool bias, double bias_init,
                                 double lr_mul, const std::string& activation)
    : weight_gain_(lr_mul / std::sqrt(static_cast<double>(in_features))),
      bias_gain_(lr_mul),
      lrelu_(is_lrelu(activation)) {
  TORCH_CHECK(in_features >= 1 && out_features >= 1 && lr_mul > 0, "EqualLinear: in=", in_features,
              " out=", out_features, " lr_mul=", lr_mul);
  weight = register_parameter("weight", torch::randn({out_features, in_features}) / lr_mul);
  if (bias) this->bias = register_parameter("bias", torch::full({out_features}, bias_init));
}

torch::Tensor EqualLinearImpl::forward(const torch::Tensor& x) {
  // x: [N, in]
  TORCH_CHECK(x.dim() == 2 && x.size(1) == weight.size(1), "EqualLinear: x must be [N, ", weight.size(1),
              "], got ", x.sizes());
  const auto w = (weight * weight_gain_).to(x.scalar_type());
  if (!lrelu_ && bias.defined()) return torch::addmm((bias * bias_gain_).to(x.scalar_type()), x, w.t());
  return bias_act(x.matmul(w.t()), bias.defined() ? bias * bias_gain_ : torch::Tensor(), lrelu_);
}

EqualConv2dImpl::EqualConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, bool bias,
                                 const std::string& activation, int64_t up, int64_t down, double conv_clamp)
    : up_(up),
      down_(down),
      padding_(kernel / 2),
      weight_gain_(1.0 / std::sqrt(static_cast<double>(in_channels * kernel * kernel))),
      conv_clamp_(conv_clamp),
      lrelu_(is_lrelu(activation)) {
  TORCH_CHECK(in_channels >= 1 && out_channels >= 1 && kernel >= 1 && kernel % 2 == 1,
              "EqualConv2d: in=", in_channels, " out=", out_channels, " kernel=", kernel,
              " (odd kernel expected)");
  TORCH_CHECK((up == 1 || up == 2) && (down == 1 || down == 2) && up * down <= 2, "EqualConv2d: up=", up,
              " down=", down, " (one of them 2 at most)");
  weight = register_parameter("weight", torch::randn({out_channels, in_channels, kernel, kernel}));
  if (bias) this->bias = register_parameter("bias", torch::zeros({out_channels}));
  if (up > 1 || down > 1) resample_filter = register_buffer("resample_filter", fir_kernel());
}

torch::Tensor EqualConv2dImpl::forward(const torch::Tensor& x, double gain) {
  // x: [N, in, H, W]
  TORCH_CHECK(x.dim() == 4 && x.size(1) == weight.size(1), "EqualConv2d: x must be [N, ", weight.size(1),
              ", H, W], got ", x.sizes());
  const auto w = (weight * weight_gain_).to(x.scalar_type());
  const auto y = conv2d_resample(x, w, resample_filter, up_, down_, padding_);
  return bias_act(y, bias, lrelu_, gain, conv_clamp_ * gain);
}

}  // namespace vg
