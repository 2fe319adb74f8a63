#include "vesselgan/seg/statistics_range_fit.h"

#include "phantom_samples.h"
#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

namespace {

// Two tiny networks of different seeds, averaged.
Segmenter two_networks() {
  SAUNetOptions o;
  o.base_channels = 4;
  torch::manual_seed(7);
  SAUNet a(o);
  SAUNet b(o);
  return Segmenter({a, b}, {1.0, 1.0}, InputOptions{}, torch::kCPU);
}

}  // namespace

TEST(StatisticsRangeFit, EachNetworksLowIsTheLargestDistanceAmongItsOwnTrainingPhotographs) {
  const Segmenter seg = two_networks();
  auto samples = test::phantom_samples(3, 48, 40, "p");
  samples[2].image = samples[2].image * 0.3;  // a darker photograph, far from the others
  const StatisticsRangeFit fit = fit_statistics_ranges(seg, samples, {{"p0", "p1"}, {"p1", "p2"}}, 1.5, {});
  ASSERT_EQ(fit.distances.size(), 3u);
  ASSERT_EQ(fit.ranges.size(), 2u);
  EXPECT_EQ(fit.ids, (std::vector<std::string>{"p0", "p1", "p2"}));
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto d = seg.statistics_distances(samples[i].image, samples[i].mask, {});
    EXPECT_NEAR(fit.distances[i][0], d[0], 1e-9);
    EXPECT_NEAR(fit.distances[i][1], d[1], 1e-9);
  }
  EXPECT_NE(fit.distances[0][0], fit.distances[1][0]);
  EXPECT_EQ(fit.ranges[0].low, std::max(fit.distances[0][0], fit.distances[1][0]));
  EXPECT_EQ(fit.ranges[1].low, std::max(fit.distances[1][1], fit.distances[2][1]));
  EXPECT_NEAR(fit.ranges[0].high, 1.5 * fit.ranges[0].low, 1e-12);
  EXPECT_NEAR(fit.ranges[1].high, 1.5 * fit.ranges[1].low, 1e-12);
}

TEST(StatisticsRangeFit, RefusesABadFactorAndPhotographsItWasNotGiven) {
  const Segmenter seg = two_networks();
  const auto samples = test::phantom_samples(2, 32, 40, "p");
  EXPECT_THROW(fit_statistics_ranges(seg, samples, {{"p0"}, {"p1"}}, 0.5, {}), UserError);
  EXPECT_THROW(fit_statistics_ranges(seg, samples, {{"p0"}, {"p1"}}, std::nan(""), {}), UserError);
  EXPECT_THROW(fit_statistics_ranges(seg, samples, {{"p0"}}, 2, {}), UserError);
  EXPECT_THROW(fit_statistics_ranges(seg, samples, {{"p0"}, {"p9"}}, 2, {}), UserError);
  EXPECT_THROW(fit_statistics_ranges(seg, samples, {{"p0"}, {}}, 2, {}), UserError);
}

}  // namespace vg
