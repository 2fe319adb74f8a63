#include "vesselgan/eval/threshold_metrics.h"

#include <cmath>

namespace vg {
namespace {

// num / den, or `if_empty` when den == 0.
double ratio(int64_t num, int64_t den, double if_empty) {
  return den == 0 ? if_empty : static_cast<double>(num) / static_cast<double>(den);
}

}  // namespace

ThresholdMetrics threshold_metrics(const Confusion& c) {
  ThresholdMetrics m;
  m.se = ratio(c.tp, c.tp + c.fn, c.fp == 0 ? 1.0 : 0.0);
  m.sp = ratio(c.tn, c.tn + c.fp, c.fn == 0 ? 1.0 : 0.0);
  m.acc = ratio(c.tp + c.tn, c.total(), 1.0);
  m.precision = ratio(c.tp, c.tp + c.fp, c.fn == 0 ? 1.0 : 0.0);
  m.f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, 1.0);
  m.iou = ratio(c.tp, c.tp + c.fp + c.fn, 1.0);
  // Products overflow int64 for big images (4 marginals of ~1e6 each): work in double.
  const double tp = static_cast<double>(c.tp), fp = static_cast<double>(c.fp);
  const double tn = static_cast<double>(c.tn), fn = static_cast<double>(c.fn);
  const double den = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
  m.mcc = den > 0 ? (tp * tn - fp * fn) / std::sqrt(den) : 0.0;
  return m;
}

}  // namespace vg
