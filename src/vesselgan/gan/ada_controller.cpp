#include "vesselgan/gan/ada_controller.h"

#include <torch/torch.h>

#include <algorithm>

#include "vesselgan/core/option_fields.h"

namespace vg {

namespace {

const auto kAdaFields = [](auto& o, auto&& field) {
  field("mode", o.mode, one_of({"ada", "fixed", "off"}));
  field("p", o.p, within(0, 1, "0..1"));
  field("target", o.target, rule([](double t) { return t > -1 && t < 1; }, "-1 < target < 1 (ADA uses 0.6)"));
  field("interval", o.interval, within(1, 1000000, "1..1000000 D steps"));
  field("speed_kimg", o.speed_kimg, rule([](double s) { return s > 0 && s <= 1e6; }, "0 < speed_kimg <= 1e6"));
};

}  // namespace

void to_json(nlohmann::json& j, const AdaOptions& o) { j = fields_to_json(o, kAdaFields); }
void from_json(const nlohmann::json& j, AdaOptions& o) { fields_from_json(j, "ada", o, kAdaFields); }
void validate(const AdaOptions& o) { validate_fields("ada", o, kAdaFields); }

AdaController::AdaController(AdaOptions o, int64_t batch_size)
    : options_(std::move(o)), batch_size_(batch_size) {
  validate(options_);
  check_field(batch_size >= 1, "ada batch_size", batch_size, ">= 1");
  p_ = options_.mode == "off" ? 0.0 : options_.p;
}

void AdaController::accumulate(const torch::Tensor& real_logits) {
  if (real_logits.numel() == 0) return;
  const torch::Tensor s = real_logits.detach().sign().to(torch::kDouble).sum();
  sign_sum_ = sign_sum_.defined() ? sign_sum_.to(s.device()) + s : s;  // a restored CPU sum moves once
  count_ += real_logits.numel();
}

bool AdaController::step() {
  if (++steps_ < options_.interval) return false;
  steps_ = 0;
  if (count_ == 0) return false;
  r_t_ = sign_sum_.item<double>() / static_cast<double>(count_);  // the one host sync per interval
  sign_sum_ = torch::Tensor();
  count_ = 0;
  if (options_.mode != "ada") return false;
  // Karras et al. 2020, sec. 3: p += sign(r_t - target) * (images per adjustment) / (images for 0 -> 1).
  const double sign = r_t_ > options_.target ? 1.0 : (r_t_ < options_.target ? -1.0 : 0.0);
  const double delta =
      sign * static_cast<double>(batch_size_ * options_.interval) / (options_.speed_kimg * 1000);
  p_ = std::clamp(p_ + delta, 0.0, 1.0);
  return true;
}

nlohmann::json AdaController::state() const {
  return {{"p", p_},
          {"r_t", r_t_},
          {"steps", steps_},
          {"sign_sum", sign_sum_.defined() ? sign_sum_.item<double>() : 0.0},
          {"count", count_}};
}

void AdaController::load_state(const nlohmann::json& j) {
  double p = p_, r_t = r_t_, sign_sum = 0;
  int64_t steps = 0, count = 0;
  JsonFields(j, "ada state")
      .get("p", p)
      .get("r_t", r_t)
      .get("steps", steps)
      .get("sign_sum", sign_sum)
      .get("count", count)
      .finish();
  check_field(p >= 0 && p <= 1, "ada state.p", p, "0..1");
  check_field(steps >= 0 && steps < options_.interval, "ada state.steps", steps, "0..interval-1");
  check_field(count >= 0, "ada state.count", count, ">= 0");
  p_ = options_.mode == "ada" ? p : p_;  // "fixed" and "off" keep their configured p
  r_t_ = r_t;
  steps_ = steps;
  count_ = count;
  sign_sum_ = count > 0 ? torch::tensor(sign_sum, torch::kDouble) : torch::Tensor();
}

}  // namespace vg
