// Expected calibration error of probability maps: zero when each probability is the vessel share of the
// pixels that carry it, the gap when a map is overconfident, and probability 1 in the last bin.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vesselgan/eval/calibration.h"

namespace vg {
namespace {

// `count` pixels of score s, of which `positives` are vessel, for each (s, count, positives).
std::pair<torch::Tensor, torch::Tensor> pixels(const std::vector<std::tuple<float, int, int>>& groups) {
  std::vector<float> s, l;
  for (const auto& [score, count, positives] : groups)
    for (int i = 0; i < count; ++i) {
      s.push_back(score);
      l.push_back(i < positives ? 1.f : 0.f);
    }
  return {torch::tensor(s), torch::tensor(l)};
}

TEST(Calibration, IsZeroWhenEachProbabilityIsTheVesselShareOfItsPixels) {
  const auto [s, l] = pixels({{0.05f, 100, 5}, {0.35f, 100, 35}, {0.75f, 100, 75}});
  const Calibration c = calibration(rank_table(s, l));
  EXPECT_NEAR(c.ece, 0, 1e-6);
  EXPECT_NEAR(c.mce, 0, 1e-6);
  ASSERT_EQ(c.bins.size(), 15u);
  EXPECT_EQ(c.bins[0].count, 100);
  EXPECT_EQ(c.bins[5].count, 100);  // 0.35 * 15 = 5.25
  EXPECT_EQ(c.bins[11].count, 100);  // 0.75 * 15 = 11.25
}

TEST(Calibration, MeasuresTheGapOfAnOverconfidentMap) {
  // Everything claimed 90% vessel, half of it is; plus a calibrated group that halves the error.
  const auto [s, l] = pixels({{0.9f, 200, 100}, {0.1f, 200, 20}});
  const Calibration c = calibration(rank_table(s, l));
  EXPECT_NEAR(c.ece, 0.5 * 0.4, 1e-6);
  EXPECT_NEAR(c.mce, 0.4, 1e-6);
  EXPECT_NEAR(c.bins[13].mean_probability, 0.9, 1e-6);
  EXPECT_NEAR(c.bins[13].vessel_rate, 0.5, 1e-12);
}

TEST(Calibration, ProbabilityOneFallsInTheLastBinAndNoPixelsGiveZero) {
  const auto [s, l] = pixels({{1.0f, 10, 10}});
  const Calibration c = calibration(rank_table(s, l), 10);
  EXPECT_EQ(c.bins.back().count, 10);
  EXPECT_NEAR(c.ece, 0, 1e-12);
  const Calibration none = calibration(rank_table(s, l, torch::zeros_like(s)));
  EXPECT_EQ(none.ece, 0);
  EXPECT_THROW(calibration(rank_table(s, l), 0), c10::Error);
}

}  // namespace
}  // namespace vg
