#include "vesselgan/eval/ranking_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace vg {
namespace {

// P(s+ > s-) + 0.5 P(s+ = s-) over all positive/negative pairs.
double brute_force_auc(const std::vector<float>& s, const std::vector<int>& y) {
  double u = 0;
  int64_t pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!y[i]) continue;
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[j]) continue;
      ++pairs;
      u += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
    }
  }
  return u / static_cast<double>(pairs);
}

// Random scores rounded to `step` (many ties), labels correlated with the score.
void make_case(int n, float step, float lo, uint32_t seed, std::vector<float>& s, std::vector<int>& y) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  s.resize(n);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    const float v = u(rng);
    y[i] = u(rng) < 0.3f + 0.4f * v ? 1 : 0;
    s[i] = lo + std::round(v * (1 - lo) / step) * step;
  }
}

torch::Tensor to_tensor(const std::vector<float>& v) { return torch::tensor(v); }
torch::Tensor to_tensor(const std::vector<int>& v) {
  return torch::tensor(std::vector<int64_t>(v.begin(), v.end())).to(torch::kUInt8);
}

TEST(RocAuc, EqualsBruteForcePairCountWithManyTies) {
  std::vector<float> s;
  std::vector<int> y;
  make_case(400, 0.1f, 0.f, 1, s, y);
  EXPECT_NEAR(roc_auc(to_tensor(s), to_tensor(y)), brute_force_auc(s, y), 1e-12);
}

TEST(RocAuc, EqualsBruteForceOnTheRadixPathWithNegativeScoresAndSignedZero) {
  std::vector<float> s;
  std::vector<int> y;
  make_case(6000, 0.01f, -3.f, 2, s, y);  // > 4096 samples: radix sort; scores in [-3, 1]
  for (size_t i = 0; i < s.size(); i += 7) s[i] = (i % 2) ? 0.0f : -0.0f;  // equal, must tie
  EXPECT_NEAR(roc_auc(to_tensor(s), to_tensor(y)), brute_force_auc(s, y), 1e-12);
}

TEST(RocAuc, IsOneForPerfectSeparationAndZeroWhenInverted) {
  const torch::Tensor s = torch::tensor({0.1f, 0.2f, 0.35f, 0.6f, 0.7f, 0.7f});
  const torch::Tensor y = torch::tensor({0, 0, 0, 1, 1, 1});
  EXPECT_DOUBLE_EQ(roc_auc(s, y), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc(-s, y), 0.0);
}

TEST(RocAuc, HandComputedTies) {
  // pos {.8, .8, .3}, neg {.8}: two ties (0.5 each) and one loss -> U = 1 of 3 pairs.
  EXPECT_DOUBLE_EQ(roc_auc(torch::tensor({.8f, .8f, .8f, .3f}), torch::tensor({1, 1, 0, 1})), 1.0 / 3);
}

TEST(RocAuc, DegenerateLabelsGiveOneHalf) {
  const torch::Tensor s = torch::tensor({0.1f, 0.9f, 0.4f});
  EXPECT_EQ(roc_auc(s, torch::ones({3})), 0.5);
  EXPECT_EQ(roc_auc(s, torch::zeros({3})), 0.5);
  EXPECT_EQ(roc_auc(torch::zeros({0}), torch::zeros({0})), 0.5);
}

TEST(AveragePrecision, MatchesHandComputedSteps) {
  // Ranks: + - + - +  -> (R, P) = (1/3, 1), (2/3, 2/3), (1, 3/5): AP = (1 + 2/3 + 3/5) / 3 = 34/45.
  EXPECT_NEAR(average_precision(torch::tensor({.9f, .8f, .7f, .6f, .5f}), torch::tensor({1, 0, 1, 0, 1})),
              34.0 / 45, 1e-15);
  // Tie at .8 holds two positives and one negative: (2/3, 2/3), then (1, 3/4): AP = 4/9 + 1/4.
  EXPECT_NEAR(average_precision(torch::tensor({.8f, .8f, .8f, .3f}), torch::tensor({1, 1, 0, 1})),
              4.0 / 9 + 1.0 / 4, 1e-15);
}

TEST(AveragePrecision, DegenerateLabels) {
  const torch::Tensor s = torch::tensor({0.1f, 0.9f, 0.4f});
  EXPECT_EQ(average_precision(s, torch::zeros({3})), 0.0);
  EXPECT_EQ(average_precision(s, torch::ones({3})), 1.0);
}

TEST(RankTable, GroupsDistinctScoresAndHonoursTheMask) {
  const torch::Tensor s = torch::tensor({.2f, .9f, .2f, .5f, .9f, .1f});
  const torch::Tensor y = torch::tensor({1, 1, 0, 0, 0, 1});
  const torch::Tensor m = torch::tensor({1, 1, 1, 1, 1, 0});
  const RankTable t = rank_table(s, y, m);
  EXPECT_EQ(t.score, (std::vector<float>{.9f, .5f, .2f}));
  EXPECT_EQ(t.pos, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(t.neg, (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(t.total_pos, 2);
  EXPECT_EQ(t.total_neg, 3);
  EXPECT_THROW(rank_table(torch::tensor({NAN, .5f}), torch::tensor({1, 0})), c10::Error);
}

TEST(RocCurve, RunsFromOriginToOneOneAndItsTrapezoidIsTheAuc) {
  std::vector<float> s;
  std::vector<int> y;
  make_case(500, 0.05f, 0.f, 3, s, y);
  const RankTable t = rank_table(to_tensor(s), to_tensor(y));
  const Curve c = roc_curve(t, 0);
  ASSERT_EQ(c.x.size(), t.score.size() + 1);
  EXPECT_EQ(c.x.front(), 0.0);
  EXPECT_EQ(c.y.front(), 0.0);
  EXPECT_TRUE(std::isinf(c.threshold.front()));
  EXPECT_DOUBLE_EQ(c.x.back(), 1.0);
  EXPECT_DOUBLE_EQ(c.y.back(), 1.0);
  double area = 0;
  for (size_t i = 1; i < c.x.size(); ++i) area += (c.x[i] - c.x[i - 1]) * (c.y[i] + c.y[i - 1]) / 2;
  EXPECT_NEAR(area, roc_auc(t), 1e-12);
}

TEST(PrCurve, StepSumIsTheAveragePrecision) {
  std::vector<float> s;
  std::vector<int> y;
  make_case(500, 0.05f, 0.f, 4, s, y);
  const RankTable t = rank_table(to_tensor(s), to_tensor(y));
  const Curve c = pr_curve(t, 0);
  EXPECT_EQ(c.x.front(), 0.0);
  EXPECT_EQ(c.y.front(), 1.0);
  EXPECT_DOUBLE_EQ(c.x.back(), 1.0);
  double ap = 0;
  for (size_t i = 1; i < c.x.size(); ++i) ap += (c.x[i] - c.x[i - 1]) * c.y[i];
  EXPECT_NEAR(ap, average_precision(t), 1e-12);
}

TEST(ThinCurve, KeepsEndpointsAndAtMostMaxPoints) {
  std::vector<float> s;
  std::vector<int> y;
  make_case(20000, 1e-5f, 0.f, 5, s, y);
  const RankTable t = rank_table(to_tensor(s), to_tensor(y));
  const Curve full = roc_curve(t, 0), thin = roc_curve(t, 100);
  ASSERT_GT(full.x.size(), 1000u);
  EXPECT_LE(thin.x.size(), 100u);
  EXPECT_GT(thin.x.size(), 50u);
  EXPECT_EQ(thin.x.front(), full.x.front());
  EXPECT_EQ(thin.y.back(), full.y.back());
  EXPECT_EQ(thin.threshold.back(), full.threshold.back());
}

}  // namespace
}  // namespace vg
