#include "vesselgan/eval/operating_point.h"

#include <algorithm>
#include <cmath>

#include "vesselgan/core/error.h"

namespace vg {

const std::vector<std::string>& operating_point_rules() {
  static const std::vector<std::string> rules = {"fixed", "expected-count"};
  return rules;
}

void check_operating_point_rule(const std::string& rule, const std::string& what) {
  const auto& rules = operating_point_rules();
  if (std::find(rules.begin(), rules.end(), rule) != rules.end()) return;
  std::string valid;
  for (const auto& r : rules) valid += (valid.empty() ? "" : " | ") + r;
  throw UserError(what + " = '" + rule + "' is not an operating-point rule (valid: " + valid + ")");
}

double expected_count_threshold(const torch::Tensor& prob, const torch::Tensor& region, double ratio, double min_t,
                                double max_t) {
  TORCH_CHECK(ratio > 0, "expected_count_threshold: ratio must be > 0, got ", ratio);
  TORCH_CHECK(!region.defined() || region.numel() == prob.numel(), "expected_count_threshold: region has ",
              region.numel(), " elements, the map ", prob.numel());
  torch::Tensor p = prob.detach().to(torch::kCPU, torch::kDouble).flatten();
  if (region.defined()) p = p.masked_select(region.detach().cpu().flatten().ne(0));
  if (p.numel() == 0) return 0.5;
  const auto k = static_cast<int64_t>(std::llround(ratio * p.sum().item<double>()));
  if (k <= 0) return 0.5;
  // The k-th largest probability: exactly k pixels lie at or above it (ties aside).
  const double t = std::get<0>(p.topk(std::min(k, p.numel()))).min().item<double>();
  return std::clamp(t, min_t, max_t);
}

double count_ratio_of(const std::vector<torch::Tensor>& probs, const std::vector<torch::Tensor>& regions) {
  TORCH_CHECK(probs.size() == regions.size(), "count_ratio_of: ", probs.size(), " maps and ", regions.size(),
              " regions");
  double above = 0, sum = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    torch::Tensor p = probs[i].detach().to(torch::kCPU, torch::kDouble).flatten();
    if (regions[i].defined()) {
      TORCH_CHECK(regions[i].numel() == probs[i].numel(), "count_ratio_of: region ", i, " has ",
                  regions[i].numel(), " elements, its map ", probs[i].numel());
      p = p.masked_select(regions[i].detach().cpu().flatten().ne(0));
    }
    above += p.ge(0.5).sum().item<double>();
    sum += p.sum().item<double>();
  }
  if (!(above > 0))
    throw UserError("the count ratio needs maps with vessels: no pixel of the " + std::to_string(probs.size()) +
                    " map(s) lies at or above 0.5 inside its region (is the model trained?)");
  return above / sum;
}

torch::Tensor move_threshold_to_half(const torch::Tensor& prob, double t) {
  TORCH_CHECK(t > 0 && t < 1, "move_threshold_to_half: t must be in (0, 1), got ", t);
  const torch::Tensor below = prob / (2 * t);
  const torch::Tensor above = 0.5 + (prob - t) / (2 * (1 - t));
  return torch::where(prob < t, below, above).clamp(0, 1);
}

torch::Tensor apply_operating_point(const torch::Tensor& prob, const torch::Tensor& region, const std::string& rule,
                                    double ratio) {
  check_operating_point_rule(rule, "operating_point");
  if (rule == "fixed") return prob;
  return move_threshold_to_half(prob, expected_count_threshold(prob, region, ratio));
}

}  // namespace vg
