#include "vesselgan/gan/label_consistency.h"

#include <algorithm>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/eval/threshold_metrics.h"

namespace vg {

FractionStats fraction_stats(const std::vector<double>& fractions) {
  FractionStats s;
  s.count = static_cast<int64_t>(fractions.size());
  if (fractions.empty()) return s;
  s.min = *std::min_element(fractions.begin(), fractions.end());
  s.max = *std::max_element(fractions.begin(), fractions.end());
  for (double f : fractions) s.mean += f;
  s.mean /= static_cast<double>(fractions.size());
  return s;
}

void to_json(nlohmann::json& j, const FractionStats& s) {
  j = {{"mean", s.mean}, {"min", s.min}, {"max", s.max}, {"count", s.count}};
}

std::vector<double> vessel_fractions(const std::vector<Sample>& samples) {
  std::vector<double> out;
  for (const auto& s : samples) {
    if (!s.label.defined()) continue;
    const auto inside = s.mask.gt(0.5);
    const double n = inside.sum().item<double>();
    out.push_back(n > 0 ? s.label.gt(0.5).logical_and(inside).sum().item<double>() / n : 0.0);
  }
  return out;
}

void to_json(nlohmann::json& j, const LabelConsistency& c) {
  j = {{"f1", c.f1},
       {"precision", c.precision},
       {"recall", c.recall},
       {"images", c.images},
       {"label_vessel_fraction", c.label_fraction},
       {"confusion", {{"tp", c.pooled.tp}, {"fp", c.pooled.fp}, {"tn", c.pooled.tn}, {"fn", c.pooled.fn}}}};
}

std::string to_string(const LabelConsistency& c) {
  char b[256];
  std::snprintf(b, sizeof b,
                "label consistency F1 %.4f (precision %.4f, recall %.4f) over %lld images; label vessel fraction "
                "%.4f (%.4f..%.4f)",
                c.f1, c.precision, c.recall, static_cast<long long>(c.images), c.label_fraction.mean,
                c.label_fraction.min, c.label_fraction.max);
  return b;
}

LabelConsistency label_consistency(const Segmenter& segmenter, const std::vector<Sample>& samples, PredictOptions opt,
                                   double threshold) {
  if (samples.empty()) throw UserError("label consistency needs at least one generated image with its label");
  opt.fov_diameter = 0;
  LabelConsistency c;
  for (const auto& s : samples) {
    if (!s.label.defined())
      throw UserError("label consistency: sample " + s.id + " has no label (a joint generator writes labels/)");
    const auto prob = segmenter.probability(s.image, s.mask, opt);
    c.pooled += confusion_at(prob, s.label, s.mask, threshold);
  }
  const auto m = threshold_metrics(c.pooled);
  c.f1 = m.f1;
  c.precision = m.precision;
  c.recall = m.se;
  c.label_fraction = fraction_stats(vessel_fractions(samples));
  c.images = static_cast<int64_t>(samples.size());
  return c;
}

}  // namespace vg
