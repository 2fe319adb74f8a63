#include "vesselgan/eval/paired_test.h"

#include <cmath>

#include "test_support.h"

namespace vg {

namespace {
using test::contains;

// Twenty per-image scores, roughly like per-image F1 on DRIVE.
std::vector<double> scores20() {
  std::vector<double> a;
  for (int i = 0; i < 20; ++i) a.push_back(0.75 + 0.004 * ((i * 7) % 13));
  return a;
}
}  // namespace

TEST(PairedBootstrap, IdenticalInputsHaveNoDifferenceAndPOne) {
  const auto a = scores20();
  const auto r = paired_bootstrap(a, a);
  EXPECT_EQ(r.mean_diff, 0.0);
  EXPECT_EQ(r.ci_low, 0.0);
  EXPECT_EQ(r.ci_high, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
  EXPECT_EQ(r.n, 20);
}

TEST(PairedBootstrap, ConstantShiftOnTwentyImagesHasTheSmallestExactP) {
  const auto a = scores20();
  auto b = a;
  for (auto& x : b) x += 0.01;
  const auto r = paired_bootstrap(a, b);
  // All 20 differences are positive: of the 2^20 sign patterns only all-plus and all-minus are as extreme.
  EXPECT_DOUBLE_EQ(r.p_value, 2.0 / std::pow(2.0, 20));
  EXPECT_NEAR(r.mean_diff, 0.01, 1e-12);
  EXPECT_NEAR(r.ci_low, 0.01, 1e-12);
  EXPECT_NEAR(r.ci_high, 0.01, 1e-12);
  EXPECT_TRUE(contains(r.test, "exact")) << r.test;
  // Reversed, the difference changes sign and the p-value stays.
  const auto back = paired_bootstrap(b, a);
  EXPECT_NEAR(back.mean_diff, -0.01, 1e-12);
  EXPECT_DOUBLE_EQ(back.p_value, r.p_value);
}

TEST(PairedBootstrap, ThreeImagesMatchHandComputedValues) {
  // d = (1, 2, 3): sign sums +-1 +-2 +-3 have |.| in {6, 4, 2, 0, 0, 2, 4, 6}; |6| is reached twice: p = 2/8.
  auto r = paired_bootstrap({0, 0, 0}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(r.mean_diff, 2.0);
  EXPECT_DOUBLE_EQ(r.p_value, 0.25);
  // The bootstrap mean takes 27 equally likely values; the lowest, 1, has probability 1/27 > 2.5% and the
  // highest, 3, too: the 95% percentile interval is [1, 3].
  EXPECT_DOUBLE_EQ(r.ci_low, 1.0);
  EXPECT_DOUBLE_EQ(r.ci_high, 3.0);
  // d = (1, -2, 3): observed |2|; |sums| = {6, 0, 4, 2, 2, 4, 0, 6} (six of eight >= 2): p = 0.75.
  r = paired_bootstrap({0, 0, 0}, {1, -2, 3});
  EXPECT_NEAR(r.mean_diff, 2.0 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(r.p_value, 0.75);
}

TEST(PairedBootstrap, IsDeterministicForASeed) {
  std::vector<double> a, b;
  for (int i = 0; i < 25; ++i) {
    a.push_back(std::sin(i * 1.3));
    b.push_back(a.back() + 0.05 + 0.3 * std::cos(i * 2.1));
  }
  const auto r1 = paired_bootstrap(a, b, 2000, 0.9, 7), r2 = paired_bootstrap(a, b, 2000, 0.9, 7);
  EXPECT_EQ(r1.ci_low, r2.ci_low);
  EXPECT_EQ(r1.ci_high, r2.ci_high);
  EXPECT_EQ(r1.p_value, r2.p_value);
  const auto r3 = paired_bootstrap(a, b, 2000, 0.9, 8);
  EXPECT_NE(r1.ci_low, r3.ci_low);
  EXPECT_LT(r1.ci_low, r1.mean_diff);
  EXPECT_GT(r1.ci_high, r1.mean_diff);
  EXPECT_TRUE(contains(r1.test, "Monte Carlo")) << r1.test;
}

TEST(PairedBootstrap, MonteCarloPAgreesWithBruteForceEnumeration) {
  // n = 21 is past the exact limit; enumerate the 2^21 patterns here and compare.
  std::vector<double> a(21, 0.0), d;
  for (int i = 0; i < 21; ++i) d.push_back(0.02 + std::sin(i * 0.7) * 0.1);
  double observed = 0;
  for (double x : d) observed += x;
  int64_t hits = 0;
  for (uint32_t bits = 0; bits < (1u << 21); ++bits) {
    double s = 0;
    for (int i = 0; i < 21; ++i) s += (bits >> i & 1) ? -d[i] : d[i];
    hits += std::abs(s) >= std::abs(observed) - 1e-12;
  }
  const double exact = static_cast<double>(hits) / (1u << 21);
  const auto r = paired_bootstrap(a, d, 20000, 0.95, 1);
  EXPECT_GT(exact, 0.05);                // a case where the answer is not trivially tiny
  EXPECT_NEAR(r.p_value, exact, 0.012);  // ~3.5 Monte Carlo standard errors
}

TEST(PairedBootstrap, RejectsMismatchedOrTooFewScores) {
  std::string msg = test::user_error([] { paired_bootstrap({1, 2, 3}, {1, 2}); });
  EXPECT_TRUE(contains(msg, "3 scores for method a but 2")) << msg;
  EXPECT_FALSE(contains(msg, "\n"));
  msg = test::user_error([] { paired_bootstrap({1}, {2}); });
  EXPECT_TRUE(contains(msg, "at least 2")) << msg;
  msg = test::user_error([] { paired_bootstrap({1, 2}, {2, 3}, 100, 1.0); });
  EXPECT_TRUE(contains(msg, "confidence")) << msg;
  msg = test::user_error([] { paired_bootstrap({1, NAN}, {2, 3}); });
  EXPECT_TRUE(contains(msg, "finite")) << msg;
}

TEST(PairedBootstrap, ComparisonWritesItsFieldsToJson) {
  const auto j = nlohmann::json(paired_bootstrap({0, 0, 0}, {1, 2, 3}));
  for (const char* k : {"mean_diff", "ci_low", "ci_high", "p_value", "n", "confidence", "test"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["n"], 3);
}

}  // namespace vg
