#include "vesselgan/seg/statistics_range_fit.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "vesselgan/core/error.h"

namespace vg {

void to_json(nlohmann::json& j, const StatisticsRangeFit& f) {
  j = {{"k", f.k}, {"ids", f.ids}, {"distances", f.distances}};
}

StatisticsRangeFit fit_statistics_ranges(const Segmenter& seg, const std::vector<Sample>& samples,
                                         const std::vector<std::vector<std::string>>& member_ids, double k,
                                         const PredictOptions& opt, const ProgressFn& progress) {
  if (!std::isfinite(k) || k < 1)
    throw UserError("statistics range factor " + std::to_string(k) + " is not valid (valid: k >= 1; 1 is a switch)");
  if (member_ids.size() != seg.member_count())
    throw UserError(std::to_string(member_ids.size()) + " lists of training photographs for a model of " +
                    std::to_string(seg.member_count()) + " networks (need one per network)");
  std::map<std::string, size_t> row;
  for (size_t i = 0; i < samples.size(); ++i) row[samples[i].id] = i;
  for (size_t m = 0; m < member_ids.size(); ++m) {
    if (member_ids[m].empty())
      throw UserError("network " + std::to_string(m + 1) + " lists no training photographs to fit its range on");
    for (const auto& id : member_ids[m])
      if (!row.count(id))
        throw UserError("training photograph " + id + " of network " + std::to_string(m + 1) +
                        " is not among the photographs given");
  }
  StatisticsRangeFit fit;
  fit.k = k;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    const torch::Tensor fov = s.has_mask || s.mask_estimated ? s.mask : torch::Tensor();
    fit.ids.push_back(s.id);
    fit.distances.push_back(seg.statistics_distances(s.image, fov, opt));
    if (progress) {
      Progress p;
      p.stage = "statistics";
      p.unit = "image";
      p.done = static_cast<int64_t>(i + 1);
      p.total = static_cast<int64_t>(samples.size());
      progress(p);
    }
  }
  for (size_t m = 0; m < member_ids.size(); ++m) {
    double low = 0;
    for (const auto& id : member_ids[m]) low = std::max(low, fit.distances[row.at(id)][m]);
    fit.ranges.push_back({low, k * low});
  }
  return fit;
}

}  // namespace vg
