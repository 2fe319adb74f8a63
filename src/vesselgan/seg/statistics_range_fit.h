// Fits the ranges of adaptive image statistics (seg/batch_norm_statistics.h) to a model's own training
// photographs: for each network, low = the largest distance of its BatchNorm statistics on one of the
// photographs it was trained on, high = k * low. A photograph that looks like the training photographs to
// a network is then normalised with that network's running statistics alone.
#pragma once
#include <string>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/seg/batch_norm_statistics.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

struct StatisticsRangeFit {
  double k = 2;
  std::vector<StatisticsRange> ranges;           // one per network
  std::vector<std::string> ids;                  // the photographs measured, in the samples' order
  std::vector<std::vector<double>> distances;    // [photograph][network]
};
// Keys: k, ids, distances (ranges are recorded on their own, as "predict"."statistics_ranges").
void to_json(nlohmann::json& j, const StatisticsRangeFit& f);

// member_ids[i] lists the ids (among the samples') of network i's training photographs; each network needs one.
// The photographs go through seg as `opt` would have them segmented (scale, canvas). UserError when k < 1 or
// not finite, when the counts disagree, or when an id is not among the samples. Progress: stage
// "statistics", one unit per photograph.
StatisticsRangeFit fit_statistics_ranges(const Segmenter& seg, const std::vector<Sample>& samples,
                                         const std::vector<std::vector<std::string>>& member_ids, double k,
                                         const PredictOptions& opt, const ProgressFn& progress = {});

}  // namespace vg
