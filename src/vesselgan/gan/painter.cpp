#include "vesselgan/gan/painter.h"

#include <algorithm>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"

namespace vg {

namespace nn = torch::nn;

namespace {

const auto kPainterFields = [](auto& o, auto&& field) {
  field("levels", o.levels, within(1, 6, "1 to 6"));
  field("resolution", o.resolution);  // a multiple of 2^levels, checked in validate
  field("channels", o.channels, within(1, 512, "1 to 512"));
  field("max_channels", o.max_channels);  // channels to 1024, checked in validate
  field("d_channels", o.d_channels, within(1, 512, "1 to 512"));
  field("batch", o.batch, within(1, 4096, "1 to 4096"));
  field("steps", o.steps, at_least(1, ">= 1"));
  field("lr", o.lr, rule([](double v) { return v > 0 && v < 1; }, "(0, 1)"));
  field("beta1", o.beta1, rule([](double v) { return v >= 0 && v < 1; }, "[0, 1)"));
  field("beta2", o.beta2, rule([](double v) { return v >= 0 && v < 1; }, "[0, 1)"));
  field("l1_weight", o.l1_weight, within(0, 1e4, "0 to 10000"));
  field("vessel_balanced_l1", o.vessel_balanced_l1);
  field("patch_vessel_bias", o.patch_vessel_bias, within(0, 1, "0 to 1"));
  field("log_every", o.log_every, at_least(1, ">= 1"));
  field("snapshot_every", o.snapshot_every, at_least(1, ">= 1"));
  field("seed", o.seed);
};

}  // namespace

void to_json(nlohmann::json& j, const PainterOptions& o) { j = fields_to_json(o, kPainterFields); }
void from_json(const nlohmann::json& j, PainterOptions& o) { fields_from_json(j, "painter", o, kPainterFields); }
void validate(const PainterOptions& o) {
  validate_fields("painter", o, kPainterFields);
  const int64_t unit = int64_t{1} << o.levels;
  check_field(o.resolution >= unit && o.resolution <= 1024 && o.resolution % unit == 0, "painter.resolution",
              o.resolution, "a multiple of 2^levels = " + std::to_string(unit) + " up to 1024");
  check_field(o.max_channels >= o.channels && o.max_channels <= 1024, "painter.max_channels", o.max_channels,
              "channels to 1024");
}

namespace {

nn::LeakyReLU lrelu() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }

// Two 3x3 convolutions, each followed by a leaky ReLU.
nn::Sequential conv_pair(int64_t in, int64_t out) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)), lrelu(),
                        nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1)), lrelu());
}

int64_t width(const PainterOptions& o, int64_t level) {
  return std::min(o.max_channels, o.channels << level);
}

// label [N, 1, H, W] and appearance [N, 3] -> the conditioning planes [N, 4, H, W].
torch::Tensor condition(const torch::Tensor& label, const torch::Tensor& appearance, const char* who) {
  TORCH_CHECK(label.dim() == 4 && label.size(1) == 1, who, ": label must be [N, 1, H, W], got ", label.sizes());
  TORCH_CHECK(appearance.dim() == 2 && appearance.size(0) == label.size(0) && appearance.size(1) == 3, who,
              ": appearance must be [N, 3] for N = ", label.size(0), ", got ", appearance.sizes());
  auto planes =
      appearance.to(label.dtype()).view({label.size(0), 3, 1, 1}).expand({-1, -1, label.size(2), label.size(3)});
  return torch::cat({label, planes}, 1);
}

}  // namespace

PainterImpl::PainterImpl(const PainterOptions& o) : options_(o) {
  validate(o);
  down_ = register_module("down", nn::ModuleList());
  up_ = register_module("up", nn::ModuleList());
  // Encoder: level 0 reads label, appearance and noise (5 planes); each further level halves the side.
  for (int64_t l = 0; l <= o.levels; ++l) down_->push_back(conv_pair(l == 0 ? 5 : width(o, l - 1), width(o, l)));
  // Decoder: upsample, concatenate the encoder's features of that level, two convolutions.
  for (int64_t l = o.levels - 1; l >= 0; --l) up_->push_back(conv_pair(width(o, l + 1) + width(o, l), width(o, l)));
  // The last layer sees the map itself beside the decoder's features: a direct path from "vessel here" to
  // "darker here", which the L1 term finds within tens of steps instead of thousands.
  // It starts at zero, so an untrained painter paints flat grey and owes every vessel to training.
  out_ = register_module("out", nn::Conv2d(nn::Conv2dOptions(width(o, 0) + 1, 3, 1)));
  torch::NoGradGuard no_grad;
  out_->weight.zero_();
  out_->bias.zero_();
  appearance_mean_ = register_buffer("appearance_mean", torch::zeros({3}));
  appearance_chol_ = register_buffer("appearance_chol", torch::eye(3).mul(0.3));
}

torch::Tensor PainterImpl::forward(const torch::Tensor& label, const torch::Tensor& appearance,
                                   const torch::Tensor& noise) {
  const int64_t unit = int64_t{1} << options_.levels;
  auto x = condition(label, appearance, "Painter");
  TORCH_CHECK(noise.sizes() == label.sizes(), "Painter: noise must be shaped like the label ", label.sizes(),
              ", got ", noise.sizes());
  TORCH_CHECK(label.size(2) % unit == 0 && label.size(3) % unit == 0, "Painter: H and W must be multiples of ",
              unit, ", got ", label.sizes());
  x = torch::cat({x, noise.to(x.dtype())}, 1);
  std::vector<torch::Tensor> skips;
  for (size_t l = 0; l < down_->size(); ++l) {
    if (l > 0) x = torch::avg_pool2d(x, 2);
    x = down_[l]->as<nn::Sequential>()->forward(x);
    skips.push_back(x);
  }
  for (size_t k = 0; k < up_->size(); ++k) {
    const auto& skip = skips[skips.size() - 2 - k];
    x = torch::upsample_nearest2d(x, {skip.size(2), skip.size(3)});
    x = up_[k]->as<nn::Sequential>()->forward(torch::cat({x, skip}, 1));
  }
  return torch::tanh(out_->forward(torch::cat({x, label.to(x.dtype())}, 1)));
}

void PainterImpl::set_appearance_distribution(const torch::Tensor& mean, const torch::Tensor& cov) {
  TORCH_CHECK(mean.sizes() == torch::IntArrayRef({3}) && cov.sizes() == torch::IntArrayRef({3, 3}),
              "Painter: appearance mean must be [3] and covariance [3, 3], got ", mean.sizes(), " and ", cov.sizes());
  torch::NoGradGuard no_grad;
  const auto c = cov.to(torch::kDouble) + torch::eye(3, torch::kDouble) * 1e-6;  // positive definite
  appearance_mean_.copy_(mean);
  appearance_chol_.copy_(torch::linalg_cholesky(c));
}

torch::Tensor PainterImpl::appearance_from(const torch::Tensor& eps) const {
  TORCH_CHECK(eps.dim() == 2 && eps.size(1) == 3, "Painter: appearance draws must be [N, 3], got ", eps.sizes());
  const auto e = eps.to(appearance_mean_.device(), torch::kFloat);
  return (appearance_mean_ + torch::matmul(e, appearance_chol_.t())).clamp(-1, 1);
}

PainterCriticImpl::PainterCriticImpl(const PainterOptions& o) {
  validate(o);
  const int64_t c = o.d_channels;
  net_ = register_module("net", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(7, c, 4).stride(2).padding(1)), lrelu(),
                                               nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 4).stride(2).padding(1)), lrelu(),
                                               nn::Conv2d(nn::Conv2dOptions(2 * c, 2 * c, 3).padding(1)), lrelu(),
                                               nn::Conv2d(nn::Conv2dOptions(2 * c, 1, 3).padding(1))));
}

torch::Tensor PainterCriticImpl::forward(const torch::Tensor& label, const torch::Tensor& appearance,
                                         const torch::Tensor& rgb) {
  auto x = condition(label, appearance, "PainterCritic");
  TORCH_CHECK(rgb.dim() == 4 && rgb.size(0) == label.size(0) && rgb.size(1) == 3 && rgb.size(2) == label.size(2) &&
                  rgb.size(3) == label.size(3),
              "PainterCritic: photograph must be [N, 3, H, W] like the label ", label.sizes(), ", got ", rgb.sizes());
  return net_->forward(torch::cat({x, rgb.to(x.dtype())}, 1));
}

PainterModelsImpl::PainterModelsImpl(const PainterOptions& o) {
  G = register_module("G", Painter(o));
  D = register_module("D", PainterCritic(o));
}

}  // namespace vg
