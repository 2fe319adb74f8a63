#include "vesselgan/data/clahe.h"

#include <torch/torch.h>

#include "test_support.h"

namespace vg {

namespace {
// A horizontal ramp from lo to hi, h x w.
torch::Tensor ramp(int64_t h, int64_t w, double lo, double hi) {
  return torch::linspace(lo, hi, w).unsqueeze(0).expand({h, w}).contiguous();
}
}  // namespace

TEST(Clahe, AConstantImageStaysConstant) {
  const auto y = clahe(torch::full({40, 50}, 0.3), 2.0, 16);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({40, 50}));
  EXPECT_NEAR((y.max() - y.min()).item<double>(), 0.0, 1e-6);
}

TEST(Clahe, StretchesALowContrastImageAndKeepsTheOrderOfItsValues) {
  // One tile: the map is the clipped histogram's cumulative, the same for every pixel, so it is monotone.
  const auto x = ramp(32, 64, 0.45, 0.55);
  const auto y = clahe(x, 40.0, 64);
  EXPECT_GT((y.max() - y.min()).item<double>(), 0.8) << "a tenth of the range spread over most of it";
  const auto steps = y.select(0, 0).slice(0, 1) - y.select(0, 0).slice(0, 0, -1);
  EXPECT_GE(steps.min().item<double>(), 0.0);
  EXPECT_GE(y.min().item<double>(), 0.0);
  EXPECT_LE(y.max().item<double>(), 1.0 + 1e-6);
}

TEST(Clahe, TheClipLimitBoundsTheStretch) {
  const auto x = ramp(32, 64, 0.45, 0.55);
  const double low = (clahe(x, 1.5, 64).max() - clahe(x, 1.5, 64).min()).item<double>();
  const double high = (clahe(x, 40.0, 64).max() - clahe(x, 40.0, 64).min()).item<double>();
  EXPECT_LT(low, 0.5 * high);
  EXPECT_GT(low, 0.1);  // still stretched beyond the input's 0.1
}

TEST(Clahe, EachTileEqualizesItsOwnBrightness) {
  // A dark left half and a bright right half, each with the same texture: adaptive equalization brings
  // their interiors to about the same level, where a global map would keep them apart.
  torch::manual_seed(0);
  const auto texture = torch::rand({64, 64}) * 0.1;
  const auto x = torch::cat({texture + 0.2, texture + 0.7}, 1);
  // Without clipping to speak of, each half is equalized on its own; a clip limit keeps part of the gap.
  const auto gap = [](const torch::Tensor& y) {
    return (y.slice(1, 104, 128).mean() - y.slice(1, 0, 24).mean()).item<double>();
  };
  EXPECT_GT(gap(x), 0.45);
  EXPECT_NEAR(gap(clahe(x, 100.0, 32)), 0.0, 0.05);
  EXPECT_GT(gap(clahe(x, 4.0, 32)), 0.1);
  EXPECT_LT(gap(clahe(x, 4.0, 32)), 0.35);
}

TEST(Clahe, NeighbouringTilesBlendWithoutSeams) {
  // A full-range ramp across eight tiles: each pixel blends the maps of the tiles around it, so the output
  // moves in small steps, not in jumps at tile borders.
  const auto y = clahe(ramp(16, 256, 0.0, 1.0), 2.0, 32);
  const auto row = y.select(0, 8);
  const double largest_step = (row.slice(0, 1) - row.slice(0, 0, -1)).abs().max().item<double>();
  EXPECT_LT(largest_step, 0.05);
}

TEST(Clahe, RefusesWhatItCannotEqualize) {
  EXPECT_THROW(clahe(torch::rand({3, 16, 16}), 2.0, 8), c10::Error);
  EXPECT_THROW(clahe(torch::rand({16, 16}), 0.5, 8), c10::Error);
  EXPECT_THROW(clahe(torch::rand({16, 16}), 2.0, 4), c10::Error);
  EXPECT_THROW(clahe(torch::ones({16, 16}, torch::kUInt8), 2.0, 8), c10::Error);
}

}  // namespace vg
