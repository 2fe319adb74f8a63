// Comparing two methods scored on the same test images (e.g. per-image F1 of model A and of model B):
// a percentile bootstrap confidence interval of the mean paired difference and a two-sided sign-flip
// permutation test of "no difference". Both resample the images, the unit of replication, not pixels.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vg {

struct PairedComparison {
  double mean_diff = 0;            // mean over images of b - a
  double ci_low = 0, ci_high = 0;  // percentile bootstrap interval of mean(b - a) at `confidence`
  double p_value = 1;              // two-sided sign-flip permutation test of mean(b - a) = 0
  int64_t n = 0;                   // number of paired images
  double confidence = 0.95;
  std::string test;  // how p_value was computed, e.g. "sign-flip permutation, exact (2^20 patterns)"
};
// Keys exactly: mean_diff, ci_low, ci_high, p_value, n, confidence, test.
void to_json(nlohmann::json& j, const PairedComparison& c);

// a[i], b[i]: the two methods' scores on image i (finite). d = b - a.
// - mean_diff = mean(d).
// - CI: `resamples` bootstrap means of d (n images drawn with replacement), the (1-confidence)/2 and
//   (1+confidence)/2 quantiles with linear interpolation between order statistics (Efron & Tibshirani 1993,
//   ch. 13, percentile interval).
// - p: under H0 each d_i is symmetric about 0, so every sign pattern s in {-1, 1}^n is equally likely;
//   p = P(|sum s_i d_i| >= |sum d_i|). Exact over all 2^n patterns for n <= 20 (so the smallest possible
//   p is 2 / 2^n); else `resamples` random patterns with p = (1 + hits) / (1 + resamples) (Phipson & Smyth
//   2010). Sums equal up to rounding (1e-12 relative) count as "as extreme".
// Deterministic for a seed (own std::mt19937_64 stream, not the torch RNG). Throws UserError when the
// sizes differ, n < 2, a value is not finite, resamples < 1 or confidence is not in (0, 1).
PairedComparison paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                  int64_t resamples = 10000, double confidence = 0.95, uint64_t seed = 0);

}  // namespace vg
