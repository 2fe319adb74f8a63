#include "vesselgan/data/acquisition_shift.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/core/json_fields.h"
#include "vesselgan/data/preprocess.h"
#include "vesselgan/io/image_codec.h"

namespace vg {
namespace {

struct KindInfo {
  const char* name;
  double lo, hi;                  // valid levels
  std::optional<double> identity;  // the level that changes nothing
  std::vector<double> defaults;
  const char* unit;  // how the range reads in an error message
};

const std::vector<KindInfo>& kind_table() {
  static const std::vector<KindInfo> table = {
      {"scale", 0.1, 4, 1.0, {0.6, 0.8, 1.25, 1.6}, "a resize factor"},
      {"gamma", 0.1, 10, 1.0, {0.5, 0.7, 1.4, 2.0}, "an exponent"},
      {"contrast", 0, 4, 1.0, {0.5, 0.7, 1.5}, "a contrast factor"},
      {"blur", 0, 20, 0.0, {1, 2, 3}, "a gaussian sigma in pixels"},
      {"jpeg", 1, 100, std::nullopt, {10, 30, 50}, "a whole JPEG quality"},
      {"illumination", 0, 1, 0.0, {0.3, 0.6}, "a vignette strength"},
      {"colour", 0, 1, 0.0, {0.1, 0.2}, "a colour cast strength"},
      {"noise", 0, 1, 0.0, {0.02, 0.05}, "a noise sigma"},
      {"dark", 0.01, 1, 1.0, {0.5, 0.3}, "an exposure factor"},
  };
  return table;
}

const KindInfo& kind_info(const std::string& kind) {
  for (const auto& k : kind_table())
    if (kind == k.name) return k;
  std::string valid;
  for (const auto& k : shift_kinds()) valid += (valid.empty() ? "" : ", ") + k;
  throw UserError("unknown acquisition shift kind '" + kind + "' (valid: " + valid + ")");
}

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// Per-channel FOV mean of x [3, H, W] under mask [1, H, W] (the whole image when the FOV is empty).
torch::Tensor fov_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  const torch::Tensor m = mask.gt(0.5).to(x.dtype());
  const double n = m.sum().item<double>();
  if (n < 1) return x.mean({1, 2}, /*keepdim=*/true);
  return (x * m).sum({1, 2}, /*keepdim=*/true) / n;
}

torch::Tensor contrast(const torch::Tensor& x, const torch::Tensor& mask, double c) {
  const torch::Tensor mu = fov_mean(x, mask);
  return torch::where(mask.gt(0.5), mu + c * (x - mu), x);
}

torch::Tensor jpeg(const torch::Tensor& x, int quality) {
  const std::string bytes = encode_jpeg(x, quality);
  return decode_image(bytes, "(JPEG quality " + std::to_string(quality) + " in memory)").pixels.to(x.device());
}

// w = ((u + 1)/2 + (u^2 + v^2)/2) / 2 over pixel centers, [1, H, W].
torch::Tensor vignette_weight(int64_t H, int64_t W, const torch::TensorOptions& opts) {
  const auto u = (torch::arange(W, opts) + 0.5) * (2.0 / W) - 1;
  const auto v = (torch::arange(H, opts) + 0.5) * (2.0 / H) - 1;
  const auto uu = u.view({1, 1, W}), vv = v.view({1, H, 1});
  return ((uu + 1) / 2 + (uu * uu + vv * vv) / 2) / 2;
}

torch::Tensor colour(const torch::Tensor& x, double s) {
  const auto gains = torch::tensor({1 + s, 1 - s / 2, 1 - s}, x.options()).view({3, 1, 1});
  return x * gains;
}

torch::Tensor noise(const torch::Tensor& x, double sigma, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto n = torch::randn(x.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat));
  return x + sigma * n.to(x.options());
}

// The photometric shifts: image only.
torch::Tensor photometric(const torch::Tensor& x, const torch::Tensor& mask, const AcquisitionShift& s,
                          uint64_t seed) {
  const double a = s.level;
  if (s.kind == "gamma") return x.clamp(0, 1).pow(a);
  if (s.kind == "contrast") return contrast(x, mask, a);
  if (s.kind == "blur") return gaussian_blur(x, a);
  if (s.kind == "jpeg") return jpeg(x, static_cast<int>(a));
  if (s.kind == "illumination") return x * (1 - a * vignette_weight(x.size(1), x.size(2), x.options()));
  if (s.kind == "colour") return colour(x, a);
  if (s.kind == "noise") return noise(x, a, seed);
  TORCH_CHECK(s.kind == "dark", "apply_shift: no photometric rule for kind ", s.kind);
  return x * a;
}

Sample rescale(const Sample& s, double factor) {
  const int64_t H = std::max<int64_t>(1, std::llround(factor * static_cast<double>(s.image.size(1))));
  const int64_t W = std::max<int64_t>(1, std::llround(factor * static_cast<double>(s.image.size(2))));
  Sample out = s;
  out.image = resize_to(s.image, H, W).clamp(0, 1);
  if (s.label.defined()) out.label = resize_to(s.label, H, W, /*nearest=*/true);
  out.mask = resize_to(s.mask, H, W, /*nearest=*/true);
  return out;
}

}  // namespace

void to_json(nlohmann::json& j, const AcquisitionShift& s) { j = nlohmann::json{{"kind", s.kind}, {"level", s.level}}; }

void from_json(const nlohmann::json& j, AcquisitionShift& s) {
  JsonFields fields(j, "acquisition shift");
  for (const char* key : {"kind", "level"})
    if (!j.contains(key)) throw UserError("acquisition shift " + j.dump() + ": missing key '" + key + "'");
  fields.get("kind", s.kind).get("level", s.level).finish();
}

void validate(const AcquisitionShift& s) {
  const KindInfo& k = kind_info(s.kind);
  const std::string where = "acquisition shift " + s.kind + " level";
  const std::string range = std::string(k.unit) + " from " + number(k.lo) + " to " + number(k.hi);
  check_field(s.level >= k.lo && s.level <= k.hi, where, s.level, range);  // false for NaN
  if (s.kind == "jpeg") check_field(s.level == std::floor(s.level), where, s.level, range);
}

std::string to_string(const AcquisitionShift& s) { return s.kind + " " + number(s.level); }

const std::vector<std::string>& shift_kinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> v;
    for (const auto& k : kind_table()) v.push_back(k.name);
    return v;
  }();
  return kinds;
}

std::optional<double> identity_level(const std::string& kind) { return kind_info(kind).identity; }

std::vector<AcquisitionShift> default_shifts(const std::vector<std::string>& kinds) {
  const std::vector<std::string>& chosen = kinds.empty() ? shift_kinds() : kinds;
  std::vector<AcquisitionShift> out;
  for (size_t i = 0; i < chosen.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (chosen[j] == chosen[i]) throw UserError("acquisition shift kind '" + chosen[i] + "' is listed twice");
    for (double level : kind_info(chosen[i]).defaults) out.push_back({chosen[i], level});
  }
  return out;
}

Sample apply_shift(const Sample& s, const AcquisitionShift& shift, uint64_t seed) {
  validate(shift);
  TORCH_CHECK(s.image.defined() && s.image.dim() == 3 && s.image.size(0) == 3,
              "apply_shift: image must be [3, H, W], got ", s.image.defined() ? s.image.sizes() : at::IntArrayRef{});
  TORCH_CHECK(s.mask.defined() && s.mask.dim() == 3 && s.mask.size(0) == 1 &&
                  s.mask.sizes().slice(1) == s.image.sizes().slice(1),
              "apply_shift: mask must be [1, H, W] like the image ", s.image.sizes());
  TORCH_CHECK(!s.label.defined() || s.label.sizes() == s.mask.sizes(),
              "apply_shift: label must be [1, H, W] like the image ", s.image.sizes(), ", got ", s.label.sizes());
  if (shift.kind == "scale") return rescale(s, shift.level);
  Sample out = s;
  out.image = photometric(s.image.to(torch::kFloat), s.mask, shift, seed).clamp(0, 1);
  return out;
}

}  // namespace vg
