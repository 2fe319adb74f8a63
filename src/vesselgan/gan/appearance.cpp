#include "vesselgan/gan/appearance.h"

#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/data/acquisition_shift.h"

namespace vg {

namespace {

const auto kAppearanceFields = [](auto& o, auto&& field) {
  field("wide", o.wide);
  field("exposure_min", o.exposure_min, within(0.05, 1, "0.05..1 (1 with exposure_max 1 = off)"));
  field("exposure_max", o.exposure_max, within(1, 4, "1..4"));
  field("colour_max", o.colour_max, within(1, 4, "1..4 (a gain ratio; 1 = off)"));
  field("contrast_max", o.contrast_max, within(1, 4, "1..4 (a factor; 1 = off)"));
  field("illumination_max", o.illumination_max, within(0, 1, "0..1 (0 = off)"));
  field("gamma_max", o.gamma_max, within(1, 4, "1..4 (1 = off)"));
  field("blur_max", o.blur_max, within(0, 10, "0..10 px (0 = off)"));
  field("noise_max", o.noise_max, within(0, 0.5, "0..0.5 (0 = off)"));
};

// Uniform in [lo, hi] from the generator.
double uniform(at::Generator& gen, double lo, double hi) {
  return lo + (hi - lo) * torch::rand({1}, gen, torch::TensorOptions().dtype(torch::kDouble)).item<double>();
}

// x (1 - a w) with w = clamp((1 + u cos t + v sin t) / 2, 0, 1) over pixel centres.
torch::Tensor illuminate(const torch::Tensor& x, double a, double t) {
  const int64_t H = x.size(1), W = x.size(2);
  const auto opts = x.options();
  const auto u = ((torch::arange(W, opts) + 0.5) * (2.0 / static_cast<double>(W)) - 1).view({1, 1, W});
  const auto v = ((torch::arange(H, opts) + 0.5) * (2.0 / static_cast<double>(H)) - 1).view({1, H, 1});
  const auto w = ((u * std::cos(t) + v * std::sin(t) + 1) / 2).clamp(0, 1);
  return x * (1 - a * w);
}

}  // namespace

void to_json(nlohmann::json& j, const AppearanceOptions& o) { j = fields_to_json(o, kAppearanceFields); }
void from_json(const nlohmann::json& j, AppearanceOptions& o) { fields_from_json(j, "appearance", o, kAppearanceFields); }
void validate(const AppearanceOptions& o) { validate_fields("appearance", o, kAppearanceFields); }

AppearanceDraw draw_appearance(const AppearanceOptions& o, uint64_t seed) {
  AppearanceDraw d;
  if (!o.wide) return d;
  validate(o);
  auto gen = at::detail::createCPUGenerator(mix_seed(seed ^ 0x61707065ULL));
  d.exposure = uniform(gen, o.exposure_min, o.exposure_max);
  for (auto& g : d.colour) g = std::exp(uniform(gen, -std::log(o.colour_max), std::log(o.colour_max)));
  d.illumination = uniform(gen, 0, o.illumination_max);
  d.contrast = std::exp(uniform(gen, -std::log(o.contrast_max), std::log(o.contrast_max)));
  d.angle = uniform(gen, 0, 2 * M_PI);
  d.gamma = std::exp(uniform(gen, -std::log(o.gamma_max), std::log(o.gamma_max)));
  d.blur = uniform(gen, 0, o.blur_max);
  d.noise = uniform(gen, 0, o.noise_max);
  d.noise_seed = mix_seed(seed ^ 0x6e6f6973ULL);
  return d;
}

torch::Tensor apply_appearance(const torch::Tensor& image, const AppearanceDraw& d) {
  TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "apply_appearance: expected [3, H, W], got ", image.sizes());
  const AppearanceDraw id;  // the default draw changes nothing
  if (d.exposure == id.exposure && d.colour == id.colour && d.contrast == id.contrast &&
      d.illumination == id.illumination && d.gamma == id.gamma && d.blur == id.blur && d.noise == id.noise)
    return image;
  const auto gains = torch::tensor({d.colour[0], d.colour[1], d.colour[2]}, image.options()).view({3, 1, 1});
  torch::Tensor x = (image * d.exposure * gains).clamp(0, 1);
  const auto m = x.mean({1, 2}, /*keepdim=*/true);
  x = (m + d.contrast * (x - m)).clamp(0, 1);
  x = illuminate(x, d.illumination, d.angle).clamp(0, 1).pow(d.gamma);
  if (d.blur > 0) {
    Sample s;
    s.image = x;
    s.mask = torch::ones({1, x.size(1), x.size(2)}, x.options());
    x = apply_shift(s, {"blur", d.blur}).image;
  }
  if (d.noise > 0) {
    auto gen = at::detail::createCPUGenerator(d.noise_seed);
    x = x + d.noise * torch::randn(x.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat)).to(x.options());
  }
  return x.clamp(0, 1);
}

}  // namespace vg
