#include "vesselgan/data/enhance_jitter.h"

#include <torch/torch.h>

#include <cmath>

#include "vesselgan/core/option_fields.h"

namespace vg {

namespace {

const auto kEnhanceJitterFields = [](auto& o, auto&& field) {
  field("clip_min", o.clip_min, within(0, 16, "0 (off, with clip_max 0) or 1..16"));
  field("clip_max", o.clip_max, within(0, 16, "0 (off, with clip_min 0) or clip_min..16"));
  field("gamma_max", o.gamma_max, within(1, 4, "1..4 (1 = off)"));
};

bool clip_drawn(const EnhanceJitterOptions& o) { return o.clip_max > 0; }

}  // namespace

void to_json(nlohmann::json& j, const EnhanceJitterOptions& o) { j = fields_to_json(o, kEnhanceJitterFields); }
void from_json(const nlohmann::json& j, EnhanceJitterOptions& o) {
  fields_from_json(j, "augment.enhance_jitter", o, kEnhanceJitterFields);
}

void validate(const EnhanceJitterOptions& o) {
  validate_fields("augment.enhance_jitter", o, kEnhanceJitterFields);
  const bool off = o.clip_min == 0 && o.clip_max == 0;
  check_field(off || o.clip_min >= 1, "augment.enhance_jitter.clip_min", o.clip_min,
              "0 (off, with clip_max 0) or 1..16");
  check_field(off || o.clip_max >= o.clip_min, "augment.enhance_jitter.clip_max", o.clip_max,
              "0 (off, with clip_min 0) or clip_min..16");
}

bool active(const EnhanceJitterOptions& o) { return clip_drawn(o) || o.gamma_max > 1; }

EnhanceDraw draw_enhancement(const EnhanceJitterOptions& o, double own_clip) {
  const auto u = torch::rand({2}, torch::TensorOptions().dtype(torch::kDouble));
  EnhanceDraw d;
  d.clip = clip_drawn(o) ? o.clip_min + u[0].item<double>() * (o.clip_max - o.clip_min) : own_clip;
  if (o.gamma_max > 1) d.gamma = std::exp((2 * u[1].item<double>() - 1) * std::log(o.gamma_max));
  return d;
}

}  // namespace vg
