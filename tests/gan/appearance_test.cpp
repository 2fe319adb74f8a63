// The appearance control of whole photographs: each formula as documented, levels within their ranges and
// spread over them, one seed one draw, off means untouched, and a bad range is one line naming its field.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/gan/appearance.h"

namespace vg {
namespace {

torch::Tensor grey(double v, int64_t h = 8, int64_t w = 10) { return torch::full({3, h, w}, v); }

TEST(Appearance, OffDrawsTheIdentityAndLeavesThePhotographUntouched) {
  const AppearanceOptions off;
  const AppearanceDraw d = draw_appearance(off, 7);
  const auto x = torch::rand({3, 12, 9});
  EXPECT_TRUE(torch::equal(apply_appearance(x, d), x));
}

TEST(Appearance, ExposureAndColourAreGainsPerChannel) {
  AppearanceDraw d;
  d.exposure = 0.5;
  d.colour = {1.2, 1.0, 0.5};
  const auto y = apply_appearance(grey(0.6), d);
  EXPECT_NEAR(y[0].mean().item<double>(), 0.36, 1e-6);
  EXPECT_NEAR(y[1].mean().item<double>(), 0.30, 1e-6);
  EXPECT_NEAR(y[2].mean().item<double>(), 0.15, 1e-6);
}

TEST(Appearance, ContrastScalesEachChannelAroundItsMean) {
  AppearanceDraw d;
  d.contrast = 1.5;
  auto x = grey(0.4);
  x.slice(2, 5, 10).fill_(0.6);  // mean 0.5
  const auto y = apply_appearance(x, d);
  EXPECT_NEAR(y[1][0][0].item<double>(), 0.35, 1e-6);
  EXPECT_NEAR(y[1][0][9].item<double>(), 0.65, 1e-6);
}

TEST(Appearance, IlluminationDarkensTowardItsAngleAndGammaIsAPower) {
  AppearanceDraw d;
  d.illumination = 0.5;
  d.angle = 0;  // darker toward the right: w = (1 + u) / 2
  const auto y = apply_appearance(grey(0.8, 4, 100), d);
  EXPECT_NEAR(y[1][2][0].item<double>(), 0.8 * (1 - 0.5 * 0.005), 1e-5);
  EXPECT_NEAR(y[1][2][99].item<double>(), 0.8 * (1 - 0.5 * 0.995), 1e-5);
  AppearanceDraw g;
  g.gamma = 2;
  EXPECT_NEAR(apply_appearance(grey(0.5), g).mean().item<double>(), 0.25, 1e-6);
}

TEST(Appearance, BlurAndNoiseKeepTheMeanAndStayInRange) {
  AppearanceDraw d;
  d.blur = 1.5;
  d.noise = 0.02;
  d.noise_seed = 3;
  const auto x = grey(0.5, 40, 40);
  const auto y = apply_appearance(x, d);
  EXPECT_NEAR(y.mean().item<double>(), 0.5, 0.005);
  EXPECT_NEAR((y - x).std().item<double>(), 0.02, 0.003);
  EXPECT_TRUE(torch::equal(y, apply_appearance(x, d)));
  AppearanceDraw sharp;
  sharp.blur = 1.5;
  auto edge = grey(0, 20, 20);
  edge.slice(2, 10, 20).fill_(1);
  const auto b = apply_appearance(edge, sharp);
  EXPECT_GT(b[0][5][9].item<double>(), 0.1);  // the step is smeared across the edge
  EXPECT_LT(b[0][5][10].item<double>(), 0.9);
}

TEST(Appearance, WideLevelsStayWithinTheirRangesAndSpreadOverThem) {
  AppearanceOptions o;
  o.wide = true;
  double lo_k = 9, hi_k = 0, lo_g = 9, hi_g = 0, lo_c = 9, hi_c = 0, hi_a = 0, hi_b = 0, hi_n = 0, lo_t = 9, hi_t = 0;
  for (uint64_t s = 0; s < 400; ++s) {
    const AppearanceDraw d = draw_appearance(o, s);
    lo_k = std::min(lo_k, d.exposure), hi_k = std::max(hi_k, d.exposure);
    lo_g = std::min(lo_g, d.gamma), hi_g = std::max(hi_g, d.gamma);
    for (double c : d.colour) lo_c = std::min(lo_c, c), hi_c = std::max(hi_c, c);
    lo_t = std::min(lo_t, d.contrast), hi_t = std::max(hi_t, d.contrast);
    hi_a = std::max(hi_a, d.illumination), hi_b = std::max(hi_b, d.blur), hi_n = std::max(hi_n, d.noise);
    EXPECT_GE(d.illumination, 0);
    EXPECT_GE(d.blur, 0);
    EXPECT_GE(d.noise, 0);
  }
  EXPECT_GE(lo_k, o.exposure_min);
  EXPECT_LE(hi_k, o.exposure_max);
  EXPECT_LT(lo_k, o.exposure_min + 0.05);
  EXPECT_GT(hi_k, o.exposure_max - 0.05);
  EXPECT_GE(lo_g, 1 / o.gamma_max - 1e-12);
  EXPECT_LE(hi_g, o.gamma_max + 1e-12);
  EXPECT_LT(lo_g, 1 / o.gamma_max + 0.05);
  EXPECT_GT(hi_g, o.gamma_max - 0.05);
  EXPECT_GE(lo_c, 1 / o.colour_max - 1e-12);
  EXPECT_LE(hi_c, o.colour_max + 1e-12);
  EXPECT_GT(hi_c, o.colour_max - 0.05);
  EXPECT_GE(lo_t, 1 / o.contrast_max - 1e-12);
  EXPECT_LE(hi_t, o.contrast_max + 1e-12);
  EXPECT_LT(lo_t, 1 / o.contrast_max + 0.05);
  EXPECT_GT(hi_t, o.contrast_max - 0.05);
  EXPECT_LE(hi_a, o.illumination_max);
  EXPECT_GT(hi_a, o.illumination_max - 0.02);
  EXPECT_LE(hi_b, o.blur_max);
  EXPECT_GT(hi_b, o.blur_max - 0.1);
  EXPECT_LE(hi_n, o.noise_max);
  EXPECT_GT(hi_n, o.noise_max - 0.002);
}

TEST(Appearance, OneSeedDrawsOneLookAndAnotherSeedAnother) {
  AppearanceOptions o;
  o.wide = true;
  const auto a = draw_appearance(o, 11), b = draw_appearance(o, 11), c = draw_appearance(o, 12);
  EXPECT_EQ(a.exposure, b.exposure);
  EXPECT_EQ(a.colour, b.colour);
  EXPECT_EQ(a.noise_seed, b.noise_seed);
  EXPECT_NE(a.exposure, c.exposure);
}

TEST(Appearance, ABadRangeIsAUserErrorNamingItsField) {
  AppearanceOptions o;
  o.wide = true;
  o.gamma_max = 0.5;
  try {
    draw_appearance(o, 1);
    FAIL() << "gamma_max 0.5 was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("appearance.gamma_max"), std::string::npos) << e.what();
  }
  AppearanceOptions nan_noise;
  nan_noise.noise_max = std::nan("");
  EXPECT_THROW(validate(nan_noise), UserError);
  nlohmann::json j = {{"wide", true}, {"gama_max", 2}};
  AppearanceOptions read;
  EXPECT_THROW(from_json(j, read), UserError);
}

}  // namespace
}  // namespace vg
