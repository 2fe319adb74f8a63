#include "vesselgan/data/degradation.h"

#include <cmath>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/acquisition_shift.h"

namespace vg {

namespace {

const auto kDegradeFields = [](auto& o, auto&& field) {
  field("p", o.p, within(0, 1, "0..1 (probability per degradation and sample)"));
  field("blur_max", o.blur_max, within(0, 20, "0..20 px (0 = off)"));
  field("exposure_min", o.exposure_min, within(0.01, 1, "0.01..1 (1 = off)"));
  field("gamma_max", o.gamma_max, within(1, 10, "1..10 (1 = off)"));
  field("noise_max", o.noise_max, within(0, 1, "0..1 (0 = off)"));
  field("jpeg_min", o.jpeg_min, within(1, 100, "1..100 (100 = off)"));
};

}  // namespace

void to_json(nlohmann::json& j, const DegradeOptions& o) { j = fields_to_json(o, kDegradeFields); }
void from_json(const nlohmann::json& j, DegradeOptions& o) { fields_from_json(j, "augment.degrade", o, kDegradeFields); }
void validate(const DegradeOptions& o) { validate_fields("augment.degrade", o, kDegradeFields); }

bool active(const DegradeOptions& o) {
  return o.p > 0 && (o.blur_max > 0 || o.exposure_min < 1 || o.gamma_max > 1 || o.noise_max > 0 || o.jpeg_min < 100);
}

namespace {

// One draw per degradation and sample: whether it applies, and its level in [0, 1) to be mapped to the range.
struct Draw {
  bool on;
  double u;
};

Draw draw(double p) {
  const auto r = torch::rand({2}, torch::TensorOptions().dtype(torch::kDouble));
  return {r[0].item<double>() < p, r[1].item<double>()};
}

// The acquisition shift `kind` at `level` on one image [C, H, W] (C = 1 is widened to 3 and back for JPEG,
// whose codec and shift speak RGB).
torch::Tensor shifted(const torch::Tensor& x, const std::string& kind, double level, uint64_t seed) {
  Sample s;
  s.image = x.size(0) == 1 ? x.expand({3, x.size(1), x.size(2)}).contiguous() : x;
  s.mask = torch::ones({1, x.size(1), x.size(2)}, x.options());
  torch::Tensor y = apply_shift(s, {kind, level}, seed).image;
  return x.size(0) == 1 ? y.mean(0, /*keepdim=*/true) : y;
}

torch::Tensor degrade_one(torch::Tensor x, const DegradeOptions& o) {
  const auto dtype = x.scalar_type();
  x = x.to(torch::kFloat);
  if (o.blur_max > 0) {
    const Draw d = draw(o.p);
    if (d.on && d.u * o.blur_max > 0) x = shifted(x, "blur", d.u * o.blur_max, 0);
  }
  if (o.exposure_min < 1) {
    const Draw d = draw(o.p);
    if (d.on) x = x * (1 - d.u * (1 - o.exposure_min));
  }
  if (o.gamma_max > 1) {
    const Draw d = draw(o.p);
    if (d.on) x = x.clamp(0, 1).pow(std::exp((2 * d.u - 1) * std::log(o.gamma_max)));
  }
  if (o.noise_max > 0) {
    const Draw d = draw(o.p);
    if (d.on) x = x + torch::randn(x.sizes(), torch::TensorOptions().dtype(torch::kFloat)).to(x.device()) *
                          (d.u * o.noise_max);
  }
  x = x.clamp(0, 1);
  if (o.jpeg_min < 100) {
    const Draw d = draw(o.p);
    const int64_t quality = o.jpeg_min + static_cast<int64_t>(d.u * static_cast<double>(100 - o.jpeg_min + 1));
    if (d.on) x = shifted(x, "jpeg", static_cast<double>(std::min<int64_t>(quality, 100)), 0);
  }
  return x.clamp(0, 1).to(dtype);
}

}  // namespace

torch::Tensor degrade(const torch::Tensor& images, const DegradeOptions& o) {
  TORCH_CHECK(images.dim() == 4 && (images.size(1) == 3 || images.size(1) == 1) && images.is_floating_point(),
              "degrade: images must be [N, 3 or 1, H, W] floating point, got ", images.sizes(), " ",
              images.scalar_type());
  if (!active(o)) return images;
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<size_t>(images.size(0)));
  for (int64_t n = 0; n < images.size(0); ++n) out.push_back(degrade_one(images[n], o));
  return torch::stack(out);
}

}  // namespace vg
