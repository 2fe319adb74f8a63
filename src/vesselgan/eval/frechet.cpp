#include "vesselgan/eval/frechet.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "vesselgan/core/error.h"

namespace vg {
namespace {

torch::Tensor as_cpu_double(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kDouble).contiguous();
}

void check_features(const torch::Tensor& f, const char* what) {
  TORCH_CHECK(f.defined() && f.dim() == 2, what, ": features must be [N, D], got ",
              f.defined() ? f.sizes() : torch::IntArrayRef{});
  if (!torch::isfinite(f).all().item<bool>())
    throw UserError(std::string(what) + ": the feature network produced NaN or infinite features");
}

// Uniform integer in [0, n) from a 64-bit engine, by rejection (no modulo bias).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - max % n;  // a multiple of n
  uint64_t r;
  do {
    r = rng();
  } while (r >= limit);
  return r % n;
}

// The first m entries of `pool` become a uniform random m-subset (partial Fisher-Yates; valid whatever
// order the pool is in, so it is reused across subsets without resetting).
torch::Tensor draw_subset(std::vector<int64_t>& pool, int64_t m, std::mt19937_64& rng) {
  const int64_t n = static_cast<int64_t>(pool.size());
  for (int64_t i = 0; i < m; ++i) {
    const int64_t j = i + static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(n - i)));
    std::swap(pool[i], pool[j]);
  }
  return torch::tensor(std::vector<int64_t>(pool.begin(), pool.begin() + m), torch::kLong);
}

}  // namespace

GaussianStats gaussian_stats(const torch::Tensor& features) {
  // features: [N, D]
  check_features(features, "gaussian_stats");
  const int64_t n = features.size(0);
  if (n < 2)
    throw UserError("Frechet distance: " + std::to_string(n) +
                    " feature vector(s) cannot give a covariance (valid: at least 2 images per set)");
  const torch::Tensor x = as_cpu_double(features);
  GaussianStats s;
  s.mu = x.mean(0);
  const torch::Tensor c = x - s.mu;
  s.sigma = torch::matmul(c.t(), c) / static_cast<double>(n - 1);
  s.count = n;
  return s;
}

double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  TORCH_CHECK(a.mu.defined() && b.mu.defined() && a.mu.dim() == 1 && a.mu.sizes() == b.mu.sizes(),
              "frechet_distance: means must be [D] of equal D, got ", a.mu.sizes(), " and ", b.mu.sizes());
  const int64_t d = a.mu.size(0);
  TORCH_CHECK(a.sigma.sizes() == torch::IntArrayRef({d, d}) && b.sigma.sizes() == torch::IntArrayRef({d, d}),
              "frechet_distance: covariances must be [", d, ", ", d, "], got ", a.sigma.sizes(), " and ",
              b.sigma.sizes());
  const torch::Tensor mu1 = as_cpu_double(a.mu), mu2 = as_cpu_double(b.mu);
  torch::Tensor s1 = as_cpu_double(a.sigma), s2 = as_cpu_double(b.sigma);
  s1 = (s1 + s1.t()) * 0.5;  // exact symmetry for the symmetric eigensolver
  s2 = (s2 + s2.t()) * 0.5;
  // sqrt(S1) = V diag(sqrt(max(l, 0))) V^T from S1 = V diag(l) V^T.
  const auto eig1 = torch::linalg_eigh(s1, "L");
  const torch::Tensor& l1 = std::get<0>(eig1);
  const torch::Tensor& v1 = std::get<1>(eig1);
  const torch::Tensor root1 = torch::matmul(v1 * l1.clamp_min(0).sqrt().unsqueeze(0), v1.t());
  // tr((S1 S2)^{1/2}) = sum sqrt(eig(sqrt(S1) S2 sqrt(S1))): the two matrices are similar when S1 is
  // invertible (and by continuity otherwise), and the second is symmetric PSD.
  torch::Tensor m = torch::matmul(torch::matmul(root1, s2), root1);
  m = (m + m.t()) * 0.5;
  const double tr_cross = torch::linalg_eigvalsh(m, "L").clamp_min(0).sqrt().sum().item<double>();
  const double mean_term = (mu1 - mu2).square().sum().item<double>();
  const double fd = mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2.0 * tr_cross;
  return std::max(fd, 0.0);
}

KidResult kernel_inception_distance(const torch::Tensor& a, const torch::Tensor& b, int64_t subsets,
                                    int64_t subset_size, uint64_t seed) {
  // a: [N_a, D], b: [N_b, D]
  check_features(a, "kernel_inception_distance");
  check_features(b, "kernel_inception_distance");
  if (a.size(1) != b.size(1))
    throw UserError("KID: the two feature sets differ in dimension (" + std::to_string(a.size(1)) + " vs " +
                    std::to_string(b.size(1)) + "); both must come from the same feature network");
  if (subsets < 1)
    throw UserError("KID: subsets = " + std::to_string(subsets) + " is not valid (valid: >= 1)");
  const int64_t m = std::min({subset_size, a.size(0), b.size(0)});
  if (m < 2)
    throw UserError("KID: subset size " + std::to_string(m) + " (min of subset_size " +
                    std::to_string(subset_size) + ", " + std::to_string(a.size(0)) + " and " +
                    std::to_string(b.size(0)) + " images) is too small (valid: at least 2)");
  const torch::Tensor x_all = as_cpu_double(a), y_all = as_cpu_double(b);
  const double inv_d = 1.0 / static_cast<double>(a.size(1));
  auto kernel = [inv_d](const torch::Tensor& p, const torch::Tensor& q) {
    return (torch::matmul(p, q.t()) * inv_d + 1.0).pow(3);  // (x.y / D + 1)^3
  };
  std::mt19937_64 rng(seed);
  std::vector<int64_t> pool_a(a.size(0)), pool_b(b.size(0));
  std::iota(pool_a.begin(), pool_a.end(), int64_t{0});
  std::iota(pool_b.begin(), pool_b.end(), int64_t{0});
  const double md = static_cast<double>(m);
  std::vector<double> values;
  values.reserve(subsets);
  for (int64_t s = 0; s < subsets; ++s) {
    const torch::Tensor x = x_all.index_select(0, draw_subset(pool_a, m, rng));
    const torch::Tensor y = y_all.index_select(0, draw_subset(pool_b, m, rng));
    const torch::Tensor kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
    const double within = (kxx.sum() - kxx.trace() + kyy.sum() - kyy.trace()).item<double>();
    values.push_back(within / (md * (md - 1.0)) - 2.0 * kxy.sum().item<double>() / (md * md));
  }
  KidResult r;
  r.subsets = subsets;
  r.subset_size = m;
  r.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(subsets);
  if (subsets > 1) {
    double ss = 0;
    for (double v : values) ss += (v - r.mean) * (v - r.mean);
    r.std = std::sqrt(ss / static_cast<double>(subsets - 1));
  }
  return r;
}

}  // namespace vg
