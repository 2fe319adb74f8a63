#include "vesselgan/pipeline/synthetic_guard.h"

#include <algorithm>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/gan/gan_data.h"

namespace vg {

namespace {

// Expected vessel fraction of one photograph's crops, or a negative number when no crop fits its FOV.
double expected_crop_fraction(const Sample& s, int64_t crop, double bias) {
  const auto label = s.label.gt(0.5).to(torch::kFloat).unsqueeze(0);
  const auto fov = s.mask.gt(0.5).to(torch::kFloat).unsqueeze(0);
  if (crop == 0) {
    const double n = fov.sum().item<double>();
    return n > 0 ? label.mul(fov).sum().item<double>() / n : -1;
  }
  if (label.size(-1) < crop || label.size(-2) < crop) return -1;
  const int64_t stride = std::max<int64_t>(1, crop / 8);
  namespace F = torch::nn::functional;
  const auto pool = F::AvgPool2dFuncOptions(crop).stride(stride);
  const auto fov_share = F::avg_pool2d(fov, pool).reshape({-1});
  const auto vessel = F::avg_pool2d(label.mul(fov), pool).reshape({-1});
  const auto inside = fov_share.ge(1 - 1e-6);
  if (!inside.any().item<bool>()) return -1;
  const auto f = vessel.masked_select(inside);
  const auto w = vessel_biased_weights(f, bias);
  return w.mul(f).sum().item<double>() / w.sum().item<double>();
}

}  // namespace

std::pair<double, double> real_vessel_fraction_range(const std::vector<Sample>& real, int64_t crop, double bias) {
  double lo = 1, hi = 0;
  int64_t n = 0;
  for (const auto& s : real) {
    if (!s.label.defined() || !s.mask.defined()) continue;
    const double f = expected_crop_fraction(s, crop, bias);
    if (f < 0) continue;
    lo = std::min(lo, f);
    hi = std::max(hi, f);
    ++n;
  }
  if (n == 0)
    throw UserError("no real labelled photograph holds a " + std::to_string(crop) + " px crop wholly inside its FOV " +
                    "(the vessel fraction range of the real labels needs one)");
  return {lo, hi};
}

void to_json(nlohmann::json& j, const SyntheticSetCheck& c) {
  j = {{"fraction_mean", c.fraction_mean}, {"real_min", c.real_min}, {"real_max", c.real_max},
       {"real_view", c.real_view},         {"check_fraction", c.check_fraction}};
  if (c.label_f1 >= 0) {
    j["label_f1"] = c.label_f1;
    j["min_label_f1"] = c.min_label_f1;
  }
}

std::string enforce(const SyntheticSetCheck& c) {
  char buf[512];
  const bool inside = c.fraction_mean >= c.real_min && c.fraction_mean <= c.real_max;
  if (c.check_fraction && !inside) {
    std::snprintf(buf, sizeof buf,
                  "%s: their mean vessel fraction %.4f is outside the real labels' range %.4f..%.4f (%s); the "
                  "generator does not draw vessels like the real ones (train it longer or give a better one; "
                  "pipeline.guard_vessel_fraction false trains on it anyway)",
                  c.what.c_str(), c.fraction_mean, c.real_min, c.real_max, c.real_view.c_str());
    throw UserError(buf);
  }
  if (c.label_f1 >= 0 && c.label_f1 < c.min_label_f1) {
    std::snprintf(buf, sizeof buf,
                  "%s: their label consistency F1 %.3f with model A is below pipeline.min_label_f1 = %.3f; the "
                  "images do not show the vessels their labels draw (train the generator longer, or lower the floor)",
                  c.what.c_str(), c.label_f1, c.min_label_f1);
    throw UserError(buf);
  }
  std::snprintf(buf, sizeof buf, "mean vessel fraction %.4f (real %.4f..%.4f, %s%s)", c.fraction_mean, c.real_min,
                c.real_max, c.real_view.c_str(), c.check_fraction ? "" : "; not enforced");
  std::string s = buf;
  if (c.label_f1 >= 0) {
    if (c.min_label_f1 > 0)
      std::snprintf(buf, sizeof buf, "; the generator's label consistency F1 %.3f with model A (floor %.2f)",
                    c.label_f1, c.min_label_f1);
    else
      std::snprintf(buf, sizeof buf, "; the generator's label consistency F1 %.3f with model A (no floor: its labels do not train)",
                    c.label_f1);
    s += buf;
  }
  return s;
}

}  // namespace vg
