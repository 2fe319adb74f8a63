#include "vesselgan/eval/frechet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "vesselgan/core/error.h"

namespace vg {
namespace {

torch::Tensor dvec(std::vector<double> v) { return torch::tensor(v, torch::kDouble); }

GaussianStats gaussian(const torch::Tensor& mu, const torch::Tensor& sigma) {
  GaussianStats s;
  s.mu = mu;
  s.sigma = sigma;
  s.count = 1000;
  return s;
}

// A random orthogonal matrix (Q of a QR decomposition), fixed seed.
torch::Tensor random_rotation(int64_t d, uint64_t seed) {
  torch::manual_seed(seed);
  return std::get<0>(torch::linalg_qr(torch::randn({d, d}, torch::kDouble)));
}

TEST(GaussianStats, IsTheMeanAndUnbiasedCovariance) {
  // Rows (0, 0) and (2, 4): mean (1, 2); deviations -+(1, 2), so S = 2 * (1, 2)(1, 2)^T / (2 - 1).
  const auto s = gaussian_stats(torch::tensor({0.f, 0.f, 2.f, 4.f}).view({2, 2}));
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.mu.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::allclose(s.mu, dvec({1, 2})));
  EXPECT_TRUE(torch::allclose(s.sigma, dvec({2, 4, 4, 8}).view({2, 2})));
}

TEST(GaussianStats, RejectsFewerThanTwoVectors) {
  EXPECT_THROW(gaussian_stats(torch::ones({1, 3})), UserError);
  EXPECT_THROW(gaussian_stats(torch::ones({0, 3})), UserError);
}

TEST(FrechetDistance, MatchesTheClosedFormForDiagonalCovariances) {
  // Diagonal: tr((S1 S2)^1/2) = sum sqrt(s1 s2), so FD = |dmu|^2 + sum (sqrt(s1) - sqrt(s2))^2.
  const auto a = gaussian(dvec({0, 1, 2}), torch::diag(dvec({1, 4, 9})));
  const auto b = gaussian(dvec({1, 1, 0}), torch::diag(dvec({4, 1, 0.25})));
  const double want = (1 + 0 + 4) + (1.0 + 1.0 + 6.25);  // (1-2)^2 + (2-1)^2 + (3-0.5)^2
  EXPECT_NEAR(frechet_distance(a, b), want, 1e-9);
  EXPECT_NEAR(frechet_distance(b, a), want, 1e-9);
}

TEST(FrechetDistance, MatchesTheClosedFormForCommutingCovariances) {
  // S1 = Q diag(l1) Q^T and S2 = Q diag(l2) Q^T share eigenvectors: FD = |dmu|^2 + sum (sqrt l1 - sqrt l2)^2.
  const auto q = random_rotation(5, 7);
  const auto l1 = dvec({0.5, 1, 2, 3, 0}), l2 = dvec({2, 1, 0.5, 0.1, 1});
  const auto a = gaussian(dvec({0, 0, 0, 0, 0}), q.matmul(torch::diag(l1)).matmul(q.t()));
  const auto b = gaussian(dvec({0.5, 0, 0, -1, 0}), q.matmul(torch::diag(l2)).matmul(q.t()));
  const double want = 1.25 + (l1.sqrt() - l2.sqrt()).square().sum().item<double>();
  // S1 is singular: its zero eigenvalue comes back as ~1e-16, whose square root is ~1e-8.
  EXPECT_NEAR(frechet_distance(a, b), want, 1e-6);
}

TEST(FrechetDistance, MatchesTheTwoByTwoClosedFormForNonCommutingCovariances) {
  // For 2x2 M with positive eigenvalues, tr(M^1/2) = sqrt(tr M + 2 sqrt(det M)); here M = S1 S2.
  const auto s1 = dvec({2, 1, 1, 2}).view({2, 2}), s2 = dvec({1, 0, 0, 3}).view({2, 2});
  const auto m = s1.matmul(s2);
  const double tr_root = std::sqrt(m.trace().item<double>() + 2 * std::sqrt(m.det().item<double>()));
  ASSERT_GT((s1.matmul(s2) - s2.matmul(s1)).abs().max().item<double>(), 0.5);  // really non-commuting
  const double want = 4.0 + (4 + 4) - 2 * tr_root;  // |(2, 0)|^2 + tr S1 + tr S2 - 2 tr((S1 S2)^1/2)
  EXPECT_NEAR(frechet_distance(gaussian(dvec({0, 0}), s1), gaussian(dvec({2, 0}), s2)), want, 1e-9);
}

TEST(FrechetDistance, IsZeroForASetAndItself) {
  torch::manual_seed(0);
  const auto s = gaussian_stats(torch::randn({200, 16}) * 3 + 1);
  EXPECT_NEAR(frechet_distance(s, s), 0.0, 1e-8);
}

TEST(FrechetDistance, StaysFiniteAndNonNegativeForSingularCovariances) {
  torch::manual_seed(1);  // 5 vectors in 32 dimensions: rank-4 covariances
  const double fd =
      frechet_distance(gaussian_stats(torch::randn({5, 32})), gaussian_stats(torch::randn({5, 32})));
  EXPECT_TRUE(std::isfinite(fd));
  EXPECT_GT(fd, 0.0);
}

TEST(FrechetDistance, SampleEstimateApproachesTheClosedFormForKnownGaussians) {
  // N(0, I) vs N((1, 0, 0, 0), diag(4, 1, 1, 1)): FD = 1 + (2 - 1)^2 = 2. Sampling error ~ 1/sqrt(N).
  torch::manual_seed(2);
  const int64_t n = 20000;
  const auto x = torch::randn({n, 4}, torch::kDouble);
  const auto y = torch::randn({n, 4}, torch::kDouble) * dvec({2, 1, 1, 1}) + dvec({1, 0, 0, 0});
  EXPECT_NEAR(frechet_distance(gaussian_stats(x), gaussian_stats(y)), 2.0, 0.06);
}

TEST(KernelInceptionDistance, MatchesAHandComputedUnbiasedMmd) {
  // a = {0, 1}, b = {1, 2} in D = 1, k(x, y) = (xy + 1)^3; every subset is the whole set.
  // within: [k(0,1) + k(1,0)] / 2 + [k(1,2) + k(2,1)] / 2 = 1 + 27 = 28
  // cross: 2 [k(0,1) + k(0,2) + k(1,1) + k(1,2)] / 4 = 2 (1 + 1 + 8 + 27) / 4 = 18.5
  const auto r = kernel_inception_distance(torch::tensor({0.f, 1.f}).view({2, 1}),
                                           torch::tensor({1.f, 2.f}).view({2, 1}), 5, 1000, 0);
  EXPECT_NEAR(r.mean, 9.5, 1e-12);
  EXPECT_NEAR(r.std, 0.0, 1e-12);
  EXPECT_EQ(r.subsets, 5);
  EXPECT_EQ(r.subset_size, 2);
}

TEST(KernelInceptionDistance, IsNearZeroForOneDistributionAndPositiveForAShiftedOne) {
  torch::manual_seed(3);
  const auto x = torch::randn({600, 8}), y = torch::randn({600, 8}), z = torch::randn({600, 8}) + 1.0;
  const auto same = kernel_inception_distance(x, y, 20, 200, 0);
  const auto shifted = kernel_inception_distance(x, z, 20, 200, 0);
  EXPECT_LT(std::abs(same.mean), 0.05);
  // Shift by 1 in every dimension (|dmu|^2 / D = 1): the MMD^2 is of order one.
  EXPECT_GT(shifted.mean, 1.0);
  EXPECT_GT(shifted.mean, 10 * std::abs(same.mean));
  EXPECT_GT(shifted.std, 0.0);
}

TEST(KernelInceptionDistance, IsDeterministicForASeedAndVariesWithIt) {
  torch::manual_seed(4);
  const auto x = torch::randn({100, 4}), y = torch::randn({120, 4}) + 0.5;
  const auto r1 = kernel_inception_distance(x, y, 10, 30, 7), r2 = kernel_inception_distance(x, y, 10, 30, 7);
  const auto r3 = kernel_inception_distance(x, y, 10, 30, 8);
  EXPECT_EQ(r1.mean, r2.mean);
  EXPECT_EQ(r1.std, r2.std);
  EXPECT_NE(r1.mean, r3.mean);
  EXPECT_EQ(r1.subset_size, 30);
}

TEST(KernelInceptionDistance, RejectsTooFewVectorsAndMismatchedDimensions) {
  EXPECT_THROW(kernel_inception_distance(torch::ones({1, 3}), torch::ones({5, 3})), UserError);
  EXPECT_THROW(kernel_inception_distance(torch::ones({5, 3}), torch::ones({5, 4})), UserError);
  EXPECT_THROW(kernel_inception_distance(torch::ones({5, 3}), torch::ones({5, 3}), 0), UserError);
}

}  // namespace
}  // namespace vg
