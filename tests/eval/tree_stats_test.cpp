// Tree statistics on maps whose answers are known: a straight vessel, a Y, a ring, a winding vessel, two
// pieces, and a map that leaves the FOV.
#include <gtest/gtest.h>

#include <cmath>

#include "vesselgan/data/phantom.h"
#include "vesselgan/eval/tree_stats.h"

namespace vg {
namespace {

torch::Tensor blank(int64_t h = 64, int64_t w = 64) { return torch::zeros({1, h, w}); }

// A disc-brush stroke of `width` pixels through the points (y, x), sampled finely.
void stroke(torch::Tensor& m, const std::vector<std::pair<double, double>>& pts, double width) {
  auto a = m.accessor<float, 3>();
  const double r = width / 2;
  for (size_t i = 0; i + 1 < pts.size(); ++i)
    for (double t = 0; t <= 1; t += 0.02) {
      const double cy = pts[i].first + t * (pts[i + 1].first - pts[i].first);
      const double cx = pts[i].second + t * (pts[i + 1].second - pts[i].second);
      for (int64_t y = 0; y < m.size(1); ++y)
        for (int64_t x = 0; x < m.size(2); ++x)
          if (std::hypot(y + 0.5 - cy, x + 0.5 - cx) <= r) a[0][y][x] = 1;
    }
}

// A horizontal band of `width` rows from column 8 to 55.
torch::Tensor band(int64_t width) {
  auto m = blank();
  m.slice(1, 30, 30 + width).slice(2, 8, 56).fill_(1);
  return m;
}

TEST(TreeStats, AStraightVesselHasItsWidthNoBranchTwoEndsAndTortuosityOne) {
  const auto m = band(5);
  const TreeStats s = tree_stats(m, torch::ones_like(m));
  EXPECT_NEAR(s.vessel_fraction, 5.0 * 48.0 / (64.0 * 64.0), 1e-12);
  EXPECT_NEAR(s.width_mean, 5, 0.25);
  EXPECT_NEAR(tree_stats(band(4), torch::Tensor()).width_mean, 4, 0.25);  // even widths too
  EXPECT_NEAR(tree_stats(band(1), torch::Tensor()).width_mean, 1, 1e-9);
  EXPECT_EQ(s.width_hist[3], 1.0);  // every centreline pixel in the 4-6 px bin
  EXPECT_EQ(s.branch_density, 0);
  EXPECT_GT(s.end_density, 0);
  EXPECT_NEAR(s.tortuosity, 1.0, 0.05);
  EXPECT_EQ(s.components, 1);
  EXPECT_EQ(s.holes, 0);
}

TEST(TreeStats, AYHasOneBranchPoint) {
  auto m = blank();
  stroke(m, {{60, 32}, {32, 32}}, 3);
  stroke(m, {{32, 32}, {6, 10}}, 3);
  stroke(m, {{32, 32}, {6, 54}}, 3);
  const TreeStats s = tree_stats(m, torch::Tensor());
  double skeleton = s.centreline_density * 64 * 64 / 1000;
  EXPECT_NEAR(s.branch_density * skeleton / 1000, 1.0, 1e-9);
  EXPECT_NEAR(s.end_density * skeleton / 1000, 3.0, 1e-9);
  EXPECT_EQ(s.holes, 0);
}

TEST(TreeStats, ARingEnclosesOneHoleAndTwoPiecesAreTwoComponents) {
  auto m = blank();
  std::vector<std::pair<double, double>> circle;
  for (int k = 0; k <= 64; ++k) circle.emplace_back(32 + 20 * std::sin(k * M_PI / 32), 32 + 20 * std::cos(k * M_PI / 32));
  stroke(m, circle, 3);
  EXPECT_EQ(tree_stats(m, torch::Tensor()).holes, 1);
  auto two = blank();
  stroke(two, {{10, 5}, {10, 50}}, 3);
  stroke(two, {{50, 5}, {50, 50}}, 3);
  EXPECT_EQ(tree_stats(two, torch::Tensor()).components, 2);
}

TEST(TreeStats, AWindingVesselIsMoreTortuousThanAStraightOne) {
  auto m = blank(64, 128);
  std::vector<std::pair<double, double>> wave;
  for (int x = 4; x <= 124; x += 2) wave.emplace_back(32 + 12 * std::sin(x * 2 * M_PI / 40), x);
  stroke(m, wave, 3);
  EXPECT_GT(tree_stats(m, torch::Tensor()).tortuosity, 1.3);
}

TEST(TreeStats, OnlyTheFovCountsAndAnOpenGapIsNoHole) {
  auto m = blank();
  stroke(m, {{32, 0}, {32, 63}}, 3);
  auto fov = torch::zeros_like(m);
  fov.slice(2, 0, 32).fill_(1);  // the left half
  const TreeStats s = tree_stats(m, fov);
  EXPECT_NEAR(s.vessel_fraction, m.slice(2, 0, 32).sum().item<double>() / (64.0 * 32.0), 1e-12);
  EXPECT_EQ(s.holes, 0);  // the background above and below touches the outside of the FOV
  EXPECT_THROW(tree_stats(m, torch::zeros({1, 32, 32})), std::exception);
}

TEST(TreeStats, ProceduralBranchesThatEndBeforeCrossingEncloseFewerHoles) {
  // data/phantom.h end_before_crossing: thin branches stop short of a vessel ahead instead of crossing it.
  PhantomOptions crossing;
  crossing.size = 400;
  PhantomOptions ending = crossing;
  ending.end_before_crossing = 0.3;
  double holes_crossing = 0, holes_ending = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const PhantomSample a = make_phantom(crossing, seed), b = make_phantom(ending, seed);
    holes_crossing += tree_stats(a.label, a.mask).holes;
    holes_ending += tree_stats(b.label, b.mask).holes;
  }
  EXPECT_LT(holes_ending, 0.85 * holes_crossing);
}

TEST(TreeStats, SummaryGivesMeanAndRangeOfEveryFigure) {
  TreeStats a, b;
  a.vessel_fraction = 0.1;
  b.vessel_fraction = 0.3;
  const auto figures = summarize({a, b});
  ASSERT_EQ(figures.front().name, "vessel_fraction");
  EXPECT_NEAR(figures.front().mean, 0.2, 1e-12);
  EXPECT_EQ(figures.front().min, 0.1);
  EXPECT_EQ(figures.front().max, 0.3);
  EXPECT_EQ(figures.size(), 5 + kWidthBins.size() + 3);
}

}  // namespace
}  // namespace vg
