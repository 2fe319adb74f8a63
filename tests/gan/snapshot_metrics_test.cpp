#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tiny_gan.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/gan/feature_network.h"
#include "vesselgan/gan/snapshot_metrics.h"

namespace vg {
namespace {

// Signed 1-channel maps [n, 1, 16, 16]: background -1, a vertical vessel of `width` columns at a random place.
torch::Tensor stripe_maps(int64_t n, int64_t width) {
  auto x = torch::full({n, 1, 16, 16}, -1.0f);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t at = torch::randint(0, 16 - width, {1}).item<int64_t>();
    x[i].slice(2, at, at + width).fill_(1.0f);
  }
  return x;
}

TEST(ImageSetStats, OneLayoutForEveryImageHasNoSpreadAndVesselFractionCountsTheVesselChannel) {
  seed_everything(3);
  auto net = make_color_stats_network(torch::kCPU);
  const auto varied = stripe_maps(12, 4);
  const auto same = varied[0].unsqueeze(0).expand({12, -1, -1, -1}).contiguous();
  const auto s_same = image_set_stats(same, net->features(feature_view(same)), 0);
  const auto s_varied = image_set_stats(varied, net->features(feature_view(varied)), 0);
  EXPECT_NEAR(s_same.feature_spread, 0.0, 1e-9);
  EXPECT_NEAR(s_same.pixel_spread, 0.0, 1e-9);
  EXPECT_GT(s_varied.pixel_spread, 0.5);  // stripes at different places differ in most of their pixels
  EXPECT_NEAR(s_varied.vessel_fraction, 4.0 / 16, 1e-9);
  EXPECT_NEAR(s_varied.vessel_fraction_p05, 4.0 / 16, 1e-9);
  // Photographs without a vessel channel have no vessel fraction.
  const auto rgb = varied.expand({-1, 3, -1, -1}).contiguous();
  EXPECT_LT(image_set_stats(rgb, net->features(feature_view(rgb)), -1).vessel_fraction, 0);
  EXPECT_THROW(image_set_stats(varied.slice(0, 0, 1), net->features(feature_view(varied.slice(0, 0, 1))), 0),
               UserError);
}

TEST(ImageSetStats, VesselsThatAllRunOneWayAreFarFromVesselsRunningEveryWay) {
  seed_everything(6);
  auto net = make_color_stats_network(torch::kCPU);
  const auto vertical = stripe_maps(16, 3), horizontal = stripe_maps(16, 3).transpose(2, 3).contiguous();
  const auto mixed = torch::cat({stripe_maps(8, 3), stripe_maps(8, 3).transpose(2, 3)});
  const auto stats = [&](const torch::Tensor& x) { return image_set_stats(x, net->features(feature_view(x)), 0); };
  const auto v = stats(vertical).orientation, h = stats(horizontal).orientation, m = stats(mixed).orientation;
  ASSERT_EQ(v.size(), static_cast<size_t>(kOrientationBins));
  EXPECT_NEAR(orientation_distance(v, stats(stripe_maps(16, 3)).orientation), 0.0, 1e-9);  // other places, same way
  EXPECT_NEAR(orientation_distance(v, h), 1.0, 1e-9);
  EXPECT_NEAR(orientation_distance(v, m), 0.5, 0.05);
  // Photographs carry no vessel channel and no histogram.
  const auto rgb = vertical.expand({-1, 3, -1, -1}).contiguous();
  EXPECT_TRUE(image_set_stats(rgb, net->features(feature_view(rgb)), -1).orientation.empty());
}

TEST(RealReference, TheFloorIsSmallForTwoSamplesOfOneDistributionAndLargeAcrossTwo) {
  seed_everything(4);
  auto net = make_color_stats_network(torch::kCPU);
  const auto a = stripe_maps(64, 4), b = stripe_maps(64, 4), wide = stripe_maps(64, 10);
  const double same = real_reference(a, b, *net, 16).floor_fd;
  const double different = real_reference(a, wide, *net, 16).floor_fd;
  EXPECT_GT(different, 10 * same) << same << " vs " << different;
}

TEST(SnapshotMetrics, RowsCompareTheGeneratorWithTheRealsAndNameTheFeatureNetwork) {
  seed_everything(5);
  LoadedGenerator g;
  g.options = test::tiny_gan("label64", 32, 0.1, 0.1, 1);
  GanModels models(g.options);
  g.G = models->G_ema;
  g.G->eval();
  g.state = {{"kimg", 12.5}};
  auto net = make_color_stats_network(torch::kCPU);
  auto maps = [] {
    auto x = torch::full({16, 1, 32, 32}, -1.0f);
    for (int64_t i = 0; i < 16; ++i) x[i].slice(2, 2 * i, 2 * i + 3).fill_(1.0f);
    return x;
  };
  const auto reference = real_reference(maps(), maps(), *net, 8);
  SnapshotMetricsOptions o;
  o.count = 8;
  o.batch = 4;
  const auto row = snapshot_metrics(g, reference, *net, o, torch::kCPU);
  EXPECT_EQ(row["kimg"].get<double>(), 12.5);
  EXPECT_EQ(row["feature_network"], net->name());
  EXPECT_NEAR(row["fd_floor"].get<double>(), 0.0, 1e-6);  // the same reals twice
  EXPECT_GT(row["fd"].get<double>(), 1.0);                 // an untrained generator draws no stripes
  EXPECT_TRUE(row["fake"].contains("vessel_fraction"));
  EXPECT_NEAR(row["orientation_floor"].get<double>(), 0.0, 1e-9);  // the same reals twice
  EXPECT_GE(row["orientation_distance"].get<double>(), 0.0);
  o.count = 1;
  EXPECT_THROW(snapshot_metrics(g, reference, *net, o, torch::kCPU), UserError);
}

}  // namespace
}  // namespace vg
