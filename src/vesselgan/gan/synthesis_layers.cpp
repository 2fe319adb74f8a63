#include "vesselgan/gan/synthesis_layers.h"

#include "vesselgan/dist/batch_shard.h"

#include <cmath>

#include "vesselgan/gan/conv2d_resample.h"
#include "vesselgan/gan/fir_filter.h"
#include "vesselgan/gan/modulated_conv.h"

namespace vg {

SynthesisLayerImpl::SynthesisLayerImpl(int64_t in_channels, int64_t out_channels, int64_t w_dim,
                                       int64_t resolution, int64_t up, bool use_noise, double conv_clamp)
    : resolution_(resolution), up_(up), conv_clamp_(conv_clamp) {
  TORCH_CHECK(up == 1 || up == 2, "SynthesisLayer: up must be 1 or 2, got ", up);
  affine = register_module("affine", EqualLinear(w_dim, in_channels, true, /*bias_init=*/1.0));
  weight = register_parameter("weight", torch::randn({out_channels, in_channels, 3, 3}));
  if (use_noise) {
    noise_const = register_buffer("noise_const", torch::randn({resolution, resolution}));
    noise_strength = register_parameter("noise_strength", torch::zeros({}));
  }
  bias = register_parameter("bias", torch::zeros({out_channels}));
  if (up > 1) resample_filter = register_buffer("resample_filter", fir_kernel());
}

torch::Tensor SynthesisLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& w,
                                          const SynthesisMode& mode) {
  // x: [N, in, R / up, R / up]; w: [N, w_dim]
  TORCH_CHECK(x.dim() == 4 && x.size(2) * up_ == resolution_ && x.size(3) * up_ == resolution_,
              "SynthesisLayer: x must be [N, C, ", resolution_ / up_, ", ", resolution_ / up_, "], got ",
              x.sizes());
  const auto styles = affine->forward(w);
  auto y = modulated_conv2d(x, weight, styles, /*demodulate=*/true, up_, resample_filter, mode.fused);
  if (noise_strength.defined() && mode.noise != NoiseMode::kNone) {
    // Karras 2019, Sec. 3.2: single-channel noise broadcast over channels with a learned strength.
    const auto n = mode.noise == NoiseMode::kRandom
                       ? draw_rows(y.size(0), [&](int64_t n) { return torch::randn({n, 1, resolution_, resolution_}, y.options()); })
                       : noise_const.to(y.scalar_type()).view({1, 1, resolution_, resolution_});
    y = y + n * noise_strength.to(y.scalar_type());
  }
  return bias_act(y, bias, /*lrelu=*/true, 1.0, conv_clamp_);
}

ToRGBLayerImpl::ToRGBLayerImpl(int64_t in_channels, int64_t out_channels, int64_t w_dim, double conv_clamp)
    : weight_gain_(1.0 / std::sqrt(static_cast<double>(in_channels))), conv_clamp_(conv_clamp) {
  affine = register_module("affine", EqualLinear(w_dim, in_channels, true, /*bias_init=*/1.0));
  weight = register_parameter("weight", torch::randn({out_channels, in_channels, 1, 1}));
  bias = register_parameter("bias", torch::zeros({out_channels}));
}

torch::Tensor ToRGBLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& w,
                                      const SynthesisMode& mode) {
  // x: [N, in, R, R]; w: [N, w_dim]
  const auto styles = affine->forward(w) * weight_gain_;
  const auto y = modulated_conv2d(x, weight, styles, /*demodulate=*/false, 1, {}, mode.fused);
  return bias_act(y, bias, /*lrelu=*/false, 1.0, conv_clamp_);
}

SynthesisBlockImpl::SynthesisBlockImpl(int64_t in_channels, int64_t out_channels, int64_t w_dim,
                                       int64_t resolution, int64_t img_channels, bool use_noise,
                                       double conv_clamp) {
  if (in_channels == 0) {
    TORCH_CHECK(resolution == 4, "SynthesisBlock: the first block must be 4x4, got ", resolution);
    const_input = register_parameter("const", torch::randn({out_channels, 4, 4}));
  } else {
    conv0 = register_module("conv0", SynthesisLayer(in_channels, out_channels, w_dim, resolution, /*up=*/2,
                                                    use_noise, conv_clamp));
  }
  conv1 = register_module(
      "conv1", SynthesisLayer(out_channels, out_channels, w_dim, resolution, 1, use_noise, conv_clamp));
  torgb = register_module("torgb", ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp));
  if (in_channels != 0) resample_filter = register_buffer("resample_filter", fir_kernel());
}

std::pair<torch::Tensor, torch::Tensor> SynthesisBlockImpl::forward(const torch::Tensor& x,
                                                                    const torch::Tensor& img,
                                                                    const torch::Tensor& ws,
                                                                    const SynthesisMode& mode) {
  // ws: [N, num_conv + 1, w_dim]
  TORCH_CHECK(ws.dim() == 3 && ws.size(1) == num_conv() + 1, "SynthesisBlock: ws must be [N, ",
              num_conv() + 1, ", w_dim], got ", ws.sizes());
  torch::Tensor y;
  if (conv0) {
    TORCH_CHECK(x.defined(), "SynthesisBlock: a block after the first needs the previous features");
    y = conv0->forward(x, ws.select(1, 0), mode);
    y = conv1->forward(y, ws.select(1, 1), mode);
  } else {
    y = const_input.to(ws.scalar_type()).unsqueeze(0).repeat({ws.size(0), 1, 1, 1});
    // Later layers keep the layout of their input.
    y = mode.channels_last ? y.contiguous(torch::MemoryFormat::ChannelsLast) : preferred_layout(y);
    y = conv1->forward(y, ws.select(1, 0), mode);
  }
  auto rgb = torgb->forward(y, ws.select(1, num_conv()), mode);
  if (img.defined()) rgb = rgb + upsample2d(img, resample_filter);
  return {y, rgb};
}

}  // namespace vg
