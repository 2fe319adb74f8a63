#include "vesselgan/eval/calibration.h"

#include <algorithm>
#include <cmath>

namespace vg {

Calibration calibration(const RankTable& t, int64_t bins) {
  TORCH_CHECK(bins >= 1, "calibration: bins must be >= 1, got ", bins);
  Calibration c;
  std::vector<double> sum_p(static_cast<size_t>(bins), 0.0);
  std::vector<int64_t> n(static_cast<size_t>(bins), 0), pos(static_cast<size_t>(bins), 0);
  for (size_t i = 0; i < t.score.size(); ++i) {
    const double s = t.score[i];
    TORCH_CHECK(s >= 0 && s <= 1, "calibration: scores must be probabilities in [0, 1], got ", s);
    const auto b = static_cast<size_t>(std::min<int64_t>(bins - 1, static_cast<int64_t>(s * static_cast<double>(bins))));
    const int64_t k = t.pos[i] + t.neg[i];
    n[b] += k;
    pos[b] += t.pos[i];
    sum_p[b] += s * static_cast<double>(k);
  }
  const double total = static_cast<double>(t.total_pos + t.total_neg);
  for (int64_t b = 0; b < bins; ++b) {
    ReliabilityBin r;
    r.lo = static_cast<double>(b) / static_cast<double>(bins);
    r.hi = static_cast<double>(b + 1) / static_cast<double>(bins);
    r.count = n[b];
    if (r.count > 0) {
      r.mean_probability = sum_p[b] / static_cast<double>(r.count);
      r.vessel_rate = static_cast<double>(pos[b]) / static_cast<double>(r.count);
      const double gap = std::abs(r.mean_probability - r.vessel_rate);
      c.ece += static_cast<double>(r.count) / total * gap;
      c.mce = std::max(c.mce, gap);
    }
    c.bins.push_back(r);
  }
  return c;
}

void to_json(nlohmann::json& j, const Calibration& c) {
  j = {{"ece", c.ece}, {"mce", c.mce}, {"bins", nlohmann::json::array()}};
  for (const auto& b : c.bins)
    j["bins"].push_back({{"lo", b.lo},
                         {"hi", b.hi},
                         {"count", b.count},
                         {"mean_probability", b.mean_probability},
                         {"vessel_rate", b.vessel_rate}});
}

}  // namespace vg
