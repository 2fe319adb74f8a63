#include "vesselgan/seg/ensemble.h"

#include <cmath>
#include <functional>
#include <limits>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/eval/confusion.h"
#include "vesselgan/eval/ranking_metrics.h"
#include "vesselgan/eval/threshold_metrics.h"

namespace vg {

namespace {

const auto kEnsembleFields = [](auto& o, auto&& field) {
  field("method", o.method, one_of({"mean", "weighted", "max", "vote"}));
  field("weights", o.weights);  // depend on the method: checked in validate
  field("threshold", o.threshold, rule([](double t) { return t > 0 && t < 1; }, "0 < threshold < 1"));
};

}  // namespace

void to_json(nlohmann::json& j, const EnsembleOptions& o) { j = fields_to_json(o, kEnsembleFields); }
void from_json(const nlohmann::json& j, EnsembleOptions& o) { fields_from_json(j, "ensemble", o, kEnsembleFields); }
void validate(const EnsembleOptions& o) {
  validate_fields("ensemble", o, kEnsembleFields);
  if (o.method == "weighted") {
    check_field(!o.weights.empty(), "ensemble.weights", o.weights,
                "one weight per model for method 'weighted'");
    double sum = 0;
    for (double w : o.weights) {
      check_field(std::isfinite(w) && w >= 0, "ensemble.weights", o.weights, "finite weights >= 0");
      sum += w;
    }
    check_field(sum > 0, "ensemble.weights", o.weights, "weights >= 0 with a positive sum");
  } else {
    check_field(o.weights.empty(), "ensemble.weights", o.weights,
                "empty unless ensemble.method is 'weighted' (method is '" + o.method + "')");
  }
}

std::vector<double> normalized_weights(const std::vector<double>& w) {
  double sum = 0;
  for (double x : w) sum += x;
  TORCH_CHECK(sum > 0, "normalized_weights: the weights sum to ", sum, " (need a positive sum)");
  std::vector<double> out;
  for (double x : w) out.push_back(x / sum);
  return out;
}

namespace {

// sum_i w_i p_i in float32, accumulated in model order; the one arithmetic combine() and choose_weights()
// share, so chosen weights reproduce the scored maps exactly. Clamped: rounding may step past 1.
torch::Tensor weighted_sum(const std::vector<torch::Tensor>& p, const std::vector<double>& w) {
  torch::Tensor out = torch::zeros_like(p[0], p[0].options().dtype(torch::kFloat));
  for (size_t i = 0; i < p.size(); ++i)
    if (w[i] != 0) out.add_(p[i].to(torch::kFloat), w[i]);
  return out.clamp_(0, 1);
}

// Each map must be [1, H, W] or [H, W] like the first, floating, in [0, 1] (no NaN).
void check_maps(const std::vector<torch::Tensor>& probs) {
  TORCH_CHECK(!probs.empty(), "combine: no probability maps");
  const torch::Tensor& first = probs[0];
  for (size_t i = 0; i < probs.size(); ++i) {
    const torch::Tensor& p = probs[i];
    TORCH_CHECK(p.defined(), "combine: map ", i, " is undefined");
    TORCH_CHECK(p.dim() == 2 || (p.dim() == 3 && p.size(0) == 1), "combine: map ", i,
                " must be [1, H, W] or [H, W], got ", p.sizes());
    TORCH_CHECK(p.sizes() == first.sizes(), "combine: map ", i, " is ", p.sizes(), " but map 0 is ",
                first.sizes());
    TORCH_CHECK(p.device() == first.device(), "combine: map ", i, " is on ", p.device(), " but map 0 on ",
                first.device());
    TORCH_CHECK(p.is_floating_point(), "combine: map ", i, " must be floating, got ", p.scalar_type());
    if (p.numel() == 0) continue;
    const auto lo = p.min().item<double>(), hi = p.max().item<double>();
    TORCH_CHECK(lo >= 0 && hi <= 1 && !p.isnan().any().item<bool>(), "combine: map ", i,
                " must lie in [0, 1] without NaN, got min ", lo, ", max ", hi);
  }
}

}  // namespace

torch::Tensor combine(const std::vector<torch::Tensor>& probs, const EnsembleOptions& opt) {
  validate(opt);
  check_maps(probs);
  const auto n = static_cast<int64_t>(probs.size());
  if (opt.method == "mean") return weighted_sum(probs, std::vector<double>(probs.size(), 1.0 / n));
  if (opt.method == "weighted") {
    if (opt.weights.size() != probs.size())
      throw UserError("ensemble.weights has " + std::to_string(opt.weights.size()) + " values for " +
                      std::to_string(n) + " models (valid: one weight per model)");
    return weighted_sum(probs, normalized_weights(opt.weights));
  }
  if (opt.method == "max") {
    torch::Tensor out = probs[0].to(torch::kFloat).clone();
    for (int64_t i = 1; i < n; ++i) out = torch::maximum(out, probs[i].to(torch::kFloat));
    return out;
  }
  // "vote": compared in double, as eval/confusion.h binarizes (p >= threshold).
  torch::Tensor votes = torch::zeros_like(probs[0], probs[0].options().dtype(torch::kFloat));
  for (const auto& p : probs) votes.add_(p.to(torch::kDouble).ge(opt.threshold).to(torch::kFloat));
  return votes.div_(static_cast<float>(n));
}

namespace {

int64_t divisions_of(double step) { return std::llround(1.0 / step); }

bool whole_division(double step) {
  return step > 0 && step <= 1 && std::abs(1.0 / step - divisions_of(step)) < 1e-6 && divisions_of(step) <= 100;
}

const auto kSearchFields = [](auto& o, auto&& field) {
  field("step", o.step, rule(whole_division, "1/k for a whole k in 1..100, e.g. 0.1, 0.05, 0.25"));
  field("metric", o.metric, one_of({"f1", "auc"}));
  field("threshold", o.threshold, rule([](double t) { return t > 0 && t < 1; }, "0 < threshold < 1"));
};

}  // namespace

void to_json(nlohmann::json& j, const WeightSearchOptions& o) { j = fields_to_json(o, kSearchFields); }
void from_json(const nlohmann::json& j, WeightSearchOptions& o) {
  fields_from_json(j, "weight_search", o, kSearchFields);
}
void validate(const WeightSearchOptions& o) { validate_fields("weight_search", o, kSearchFields); }

std::vector<std::vector<double>> simplex_grid(int64_t models, int64_t divisions) {
  TORCH_CHECK(models >= 1 && divisions >= 1, "simplex_grid: models ", models, ", divisions ", divisions);
  std::vector<std::vector<double>> grid;
  std::vector<int64_t> k(static_cast<size_t>(models), 0);
  // Model 0's share from the largest down, the rest recursively; the last model takes what is left.
  std::function<void(size_t, int64_t)> fill = [&](size_t i, int64_t left) {
    if (i + 1 == k.size()) {
      k[i] = left;
      std::vector<double> w;
      for (int64_t x : k) w.push_back(static_cast<double>(x) / static_cast<double>(divisions));
      grid.push_back(w);
      return;
    }
    for (int64_t x = left; x >= 0; --x) {
      k[i] = x;
      fill(i + 1, left - x);
    }
  };
  fill(0, divisions);
  return grid;
}

std::vector<double> choose_weights(const std::vector<std::vector<EvalItem>>& per_model_val_items,
                                   const WeightSearchOptions& opt, double* best_score) {
  validate(opt);
  if (per_model_val_items.empty()) throw UserError("choose_weights: no models (valid: at least one)");
  const auto& ref = per_model_val_items[0];
  if (ref.empty()) throw UserError("choose_weights: no validation images (valid: at least one)");
  const size_t models = per_model_val_items.size();

  // Pool each model's FOV pixels over the images: pooled[m] is [n_fov], label is [n_fov] bool.
  std::vector<std::vector<torch::Tensor>> parts(models);
  std::vector<torch::Tensor> label_parts;
  for (size_t i = 0; i < ref.size(); ++i) {
    const torch::Tensor label = detail::as_binary_hw(ref[i].label, "label");
    const torch::Tensor fov = ref[i].mask.defined() ? detail::as_binary_hw(ref[i].mask, "mask")
                                                    : torch::ones(label.sizes(), torch::kBool);
    TORCH_CHECK(fov.sizes() == label.sizes(), "choose_weights: item ", ref[i].id, " mask ", fov.sizes(),
                " and label ", label.sizes(), " differ");
    label_parts.push_back(label.masked_select(fov));
    for (size_t m = 0; m < models; ++m) {
      const auto& items = per_model_val_items[m];
      TORCH_CHECK(items.size() == ref.size(), "choose_weights: model ", m, " has ", items.size(),
                  " items but model 0 has ", ref.size());
      TORCH_CHECK(items[i].id == ref[i].id, "choose_weights: item ", i, " is '", items[i].id, "' for model ",
                  m, " but '", ref[i].id, "' for model 0");
      const torch::Tensor p = detail::as_prob_hw(items[i].prob);
      TORCH_CHECK(p.sizes() == label.sizes(), "choose_weights: item ", ref[i].id, " of model ", m, " is ",
                  p.sizes(), " but its label ", label.sizes());
      parts[m].push_back(p.masked_select(fov));
    }
  }
  std::vector<torch::Tensor> pooled;
  for (auto& p : parts) pooled.push_back(torch::cat(p));
  const torch::Tensor labels = torch::cat(label_parts);

  auto score = [&](const std::vector<double>& w) {
    const torch::Tensor s = weighted_sum(pooled, normalized_weights(w));
    if (opt.metric == "auc") return roc_auc(rank_table(s, labels));
    const torch::Tensor pred = s.to(torch::kDouble).ge(opt.threshold);  // as eval/confusion.h binarizes
    Confusion c;
    c.tp = pred.logical_and(labels).sum().item<int64_t>();
    c.fp = pred.logical_and(labels.logical_not()).sum().item<int64_t>();
    c.fn = pred.logical_not().logical_and(labels).sum().item<int64_t>();
    c.tn = labels.numel() - c.tp - c.fp - c.fn;
    return threshold_metrics(c).f1;
  };
  auto distance_to_equal = [&](const std::vector<double>& w) {
    double d = 0;
    for (double x : w) d += (x - 1.0 / models) * (x - 1.0 / models);
    return d;
  };

  std::vector<double> best;
  double best_s = -std::numeric_limits<double>::infinity(), best_d = 0;
  for (const auto& w : simplex_grid(static_cast<int64_t>(models), divisions_of(opt.step))) {
    const double s = score(w), d = distance_to_equal(w);
    const bool better = s > best_s + 1e-12 || (std::abs(s - best_s) <= 1e-12 && d < best_d - 1e-12);
    if (best.empty() || better) best = w, best_s = s, best_d = d;
  }
  if (best_score) *best_score = best_s;
  return normalized_weights(best);
}

}  // namespace vg
