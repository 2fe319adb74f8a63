#include "vesselgan/eval/evaluator.h"

#include <cmath>
#include <set>

#include "vesselgan/core/error.h"
#include "vesselgan/eval/cldice.h"
#include "vesselgan/eval/confusion.h"
#include "vesselgan/eval/threshold_metrics.h"

namespace vg {
namespace {

// The ten metrics as an array, so mean / std are loops.
constexpr int kNumMetrics = 10;
double* field(MetricSet& m, int k) {
  double* f[kNumMetrics] = {&m.se,  &m.sp,  &m.acc,     &m.precision, &m.f1,
                            &m.iou, &m.mcc, &m.auc_roc, &m.auc_pr,    &m.cldice};
  return f[k];
}

MetricSet metric_set(const Confusion& c, const RankTable& t, const ClDiceCounts& cl) {
  const ThresholdMetrics tm = threshold_metrics(c);
  MetricSet m;
  m.se = tm.se;
  m.sp = tm.sp;
  m.acc = tm.acc;
  m.precision = tm.precision;
  m.f1 = tm.f1;
  m.iou = tm.iou;
  m.mcc = tm.mcc;
  m.auc_roc = roc_auc(t);
  m.auc_pr = average_precision(t);
  m.cldice = cldice(cl);
  return m;
}

}  // namespace

void to_json(nlohmann::json& j, const MetricSet& m) {
  j = nlohmann::json{{"se", m.se},         {"sp", m.sp},        {"acc", m.acc}, {"precision", m.precision},
                     {"f1", m.f1},         {"iou", m.iou},      {"mcc", m.mcc}, {"auc_roc", m.auc_roc},
                     {"auc_pr", m.auc_pr}, {"cldice", m.cldice}};
}

void from_json(const nlohmann::json& j, MetricSet& m) {
  j.at("se").get_to(m.se);
  j.at("sp").get_to(m.sp);
  j.at("acc").get_to(m.acc);
  j.at("precision").get_to(m.precision);
  j.at("f1").get_to(m.f1);
  j.at("iou").get_to(m.iou);
  j.at("mcc").get_to(m.mcc);
  j.at("auc_roc").get_to(m.auc_roc);
  j.at("auc_pr").get_to(m.auc_pr);
  j.at("cldice").get_to(m.cldice);
}

void EvalOptions::validate() const {
  if (!(threshold >= 0 && threshold <= 1))
    throw UserError("eval threshold = " + std::to_string(threshold) +
                    " is out of range; valid: 0 <= threshold <= 1");
  if (curve_points < 0)
    throw UserError("eval curve_points = " + std::to_string(curve_points) +
                    " is out of range; valid: 0 (keep every point) or a positive count");
}

void to_json(nlohmann::json& j, const EvalOptions& o) {
  j = nlohmann::json{{"threshold", o.threshold}, {"curve_points", o.curve_points}};
}

void from_json(const nlohmann::json& j, EvalOptions& o) {
  if (j.contains("threshold")) j.at("threshold").get_to(o.threshold);
  if (j.contains("curve_points")) j.at("curve_points").get_to(o.curve_points);
}

EvalReport evaluate(const std::vector<EvalItem>& items, const EvalOptions& opt) {
  opt.validate();
  if (items.empty())
    throw UserError("evaluate: no images to evaluate; give at least one prediction/label pair");
  EvalReport r;
  r.threshold = opt.threshold;

  Confusion conf_fov, conf_whole;
  ClDiceCounts cl_fov, cl_whole;
  std::vector<torch::Tensor> all_p, all_l, all_m;  // flattened, for the pooled rankings
  std::set<std::string> ids;
  for (const EvalItem& it : items) {
    if (!ids.insert(it.id).second)
      throw UserError("evaluate: image id '" + it.id + "' appears twice; ids must be unique");
    // prob: [H, W] float in [0, 1]; label, mask: [H, W] bool.
    const torch::Tensor p = detail::as_prob_hw(it.prob);
    const torch::Tensor l = detail::as_binary_hw(it.label, "label");
    const torch::Tensor m = it.mask.defined() ? detail::as_binary_hw(it.mask, "mask") : torch::ones_like(l);
    TORCH_CHECK(p.sizes() == l.sizes() && p.sizes() == m.sizes(), "evaluate: image '", it.id, "' has prob ",
                p.sizes(), ", label ", l.sizes(), " and mask ", m.sizes(), "; they must be equal");
    const torch::Tensor pred = binarize(p, opt.threshold);

    const Confusion c = confusion_at(p, l, m, opt.threshold);
    const ClDiceCounts cl = cldice_counts(pred, l, m);
    r.per_image.emplace_back(it.id, metric_set(c, rank_table(p, l, m), cl));
    conf_fov += c;
    cl_fov += cl;
    conf_whole += confusion_at(p, l, {}, opt.threshold);
    cl_whole += cldice_counts(pred, l, {});
    all_p.push_back(p.reshape({-1}));
    all_l.push_back(l.reshape({-1}));
    all_m.push_back(m.reshape({-1}));
    r.total_pixels += p.numel();
  }
  r.fov_pixels = conf_fov.total();

  const torch::Tensor P = torch::cat(all_p), L = torch::cat(all_l), M = torch::cat(all_m);
  {
    const RankTable t = rank_table(P, L, M);
    r.fov_pooled = metric_set(conf_fov, t, cl_fov);
    r.roc_fov = roc_curve(t, opt.curve_points);
    r.pr_fov = pr_curve(t, opt.curve_points);
    r.calibration_fov = calibration(t);
  }
  r.whole_image_pooled = metric_set(conf_whole, rank_table(P, L), cl_whole);

  const double n = static_cast<double>(r.per_image.size());
  for (int k = 0; k < kNumMetrics; ++k) {
    double sum = 0;
    for (auto& [id, m] : r.per_image) sum += *field(m, k);
    const double mean = sum / n;
    double ss = 0;
    for (auto& [id, m] : r.per_image) ss += (*field(m, k) - mean) * (*field(m, k) - mean);
    *field(r.per_image_mean, k) = mean;
    *field(r.per_image_std, k) = r.per_image.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
  }
  return r;
}

}  // namespace vg
