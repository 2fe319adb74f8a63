#include "vesselgan/eval/paired_test.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "vesselgan/core/error.h"

namespace vg {

void to_json(nlohmann::json& j, const PairedComparison& c) {
  j = {{"mean_diff", c.mean_diff},
       {"ci_low", c.ci_low},
       {"ci_high", c.ci_high},
       {"p_value", c.p_value},
       {"n", c.n},
       {"confidence", c.confidence},
       {"test", c.test}};
}

namespace {

// Uniform in [0, n) without modulo bias (rejection of the incomplete top block).
uint64_t uniform_index(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % n;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % n;
}

// Linear interpolation between order statistics of sorted `x` at quantile q in [0, 1] (Hyndman & Fan type 7).
double quantile_sorted(const std::vector<double>& x, double q) {
  const double h = q * static_cast<double>(x.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= x.size()) return x.back();
  return x[lo] + (h - static_cast<double>(lo)) * (x[lo + 1] - x[lo]);
}

}  // namespace

PairedComparison paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                  int64_t resamples, double confidence, uint64_t seed) {
  if (a.size() != b.size())
    throw UserError("paired comparison: " + std::to_string(a.size()) + " scores for method a but " +
                    std::to_string(b.size()) + " for method b (valid: one score per image for both)");
  if (a.size() < 2)
    throw UserError("paired comparison: " + std::to_string(a.size()) + " paired images (valid: at least 2)");
  if (resamples < 1)
    throw UserError("paired comparison: resamples = " + std::to_string(resamples) + " (valid: >= 1)");
  if (!(confidence > 0 && confidence < 1))
    throw UserError("paired comparison: confidence = " + std::to_string(confidence) + " (valid: 0 < c < 1)");
  const size_t n = a.size();
  std::vector<double> d(n);
  double sum = 0, abs_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      throw UserError("paired comparison: score " + std::to_string(i) +
                      " is not finite (valid: finite numbers)");
    d[i] = b[i] - a[i];
    sum += d[i];
    abs_sum += std::abs(d[i]);
  }
  PairedComparison r;
  r.n = static_cast<int64_t>(n);
  r.confidence = confidence;
  r.mean_diff = sum / static_cast<double>(n);

  std::mt19937_64 rng(seed);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& m : means) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += d[uniform_index(rng, n)];
    m = s / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  r.ci_low = quantile_sorted(means, (1 - confidence) / 2);
  r.ci_high = quantile_sorted(means, (1 + confidence) / 2);

  const double observed = std::abs(sum), tol = 1e-12 * abs_sum;
  if (n <= 20) {
    // Patterns s and -s give the same |sum|: enumerate those with s_{n-1} = +1 (2^(n-1) of them).
    const uint64_t half = uint64_t{1} << (n - 1);
    uint64_t hits = 0;
    for (uint64_t bits = 0; bits < half; ++bits) {
      double s = d[n - 1];
      for (size_t i = 0; i + 1 < n; ++i) s += (bits >> i & 1) ? -d[i] : d[i];
      hits += std::abs(s) >= observed - tol;
    }
    r.p_value = static_cast<double>(hits) / static_cast<double>(half);
    r.test = "sign-flip permutation, exact (2^" + std::to_string(n) + " patterns)";
  } else {
    uint64_t hits = 0;
    for (int64_t k = 0; k < resamples; ++k) {
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += (rng() >> 63) ? -d[i] : d[i];
      hits += std::abs(s) >= observed - tol;
    }
    r.p_value = static_cast<double>(hits + 1) / static_cast<double>(resamples + 1);
    r.test = "sign-flip permutation, Monte Carlo (" + std::to_string(resamples) + " patterns)";
  }
  return r;
}

}  // namespace vg
