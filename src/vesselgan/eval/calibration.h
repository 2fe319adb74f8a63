// How far a map's probabilities are from the frequencies they claim: the reliability diagram's bins and
// the expected calibration error (Naeini et al. 2015, "Obtaining well calibrated probabilities using
// Bayesian binning"; Guo et al. 2017, "On calibration of modern neural networks"), for a binary map: in each
// equal-width bin of the predicted vessel probability, the mean probability against the share of vessel
// pixels. Computed from a RankTable (eval/ranking_metrics.h), so pooled over any pixel set in one pass.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "vesselgan/eval/ranking_metrics.h"

namespace vg {

struct ReliabilityBin {
  double lo = 0, hi = 0;           // the bin [lo, hi) of predicted probability ([lo, 1] for the last)
  int64_t count = 0;               // pixels in it
  double mean_probability = 0;     // their mean prediction
  double vessel_rate = 0;          // the share of them that are vessel
};

struct Calibration {
  double ece = 0;  // sum over bins of count / N * |mean_probability - vessel_rate|
  double mce = 0;  // the largest such gap over non-empty bins
  std::vector<ReliabilityBin> bins;
};

// Scores must lie in [0, 1]. `bins` bins always (bins >= 1); with no pixels every count, ece and mce are 0.
Calibration calibration(const RankTable& t, int64_t bins = 15);

void to_json(nlohmann::json& j, const Calibration& c);

}  // namespace vg
