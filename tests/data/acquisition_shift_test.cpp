#include "vesselgan/data/acquisition_shift.h"

#include <torch/torch.h>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/phantom.h"

namespace vg {

namespace {

Sample phantom_sample(int64_t size = 96, uint64_t seed = 3) {
  PhantomOptions o;
  o.size = size;
  const PhantomSample p = make_phantom(o, seed);
  Sample s;
  s.id = "p";
  s.image = p.image;
  s.label = p.label;
  s.mask = p.mask;
  s.has_mask = true;
  return s;
}

double fov_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  return ((x * mask).sum() / (mask.sum() * x.size(0))).item<double>();
}

// Sum of squared horizontal and vertical neighbour differences.
double gradient_energy(const torch::Tensor& x) {
  const auto dx = x.slice(2, 1) - x.slice(2, 0, -1), dy = x.slice(1, 1) - x.slice(1, 0, -1);
  return (dx.pow(2).sum() + dy.pow(2).sum()).item<double>();
}

// Mean green of the FOV background minus mean green on the label's vessels.
double vessel_contrast(const torch::Tensor& image, const torch::Tensor& label, const torch::Tensor& mask) {
  const auto vessel = label[0].gt(0.5), background = mask[0].gt(0.5) & label[0].lt(0.5);
  return (image[1].masked_select(background).mean() - image[1].masked_select(vessel).mean()).item<double>();
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST(AcquisitionShift, IdentityLevelsReturnTheInput) {
  const Sample s = phantom_sample();
  for (const auto& kind : shift_kinds()) {
    const auto id = identity_level(kind);
    if (!id) continue;
    const Sample out = apply_shift(s, {kind, *id}, 5);
    ASSERT_EQ(out.image.sizes(), s.image.sizes()) << kind;
    EXPECT_LT(max_abs_diff(out.image, s.image), 1e-6) << kind;
    EXPECT_TRUE(out.label.equal(s.label)) << kind;
    EXPECT_TRUE(out.mask.equal(s.mask)) << kind;
  }
}

TEST(AcquisitionShift, OnlyJpegHasNoIdentityLevel) {
  for (const auto& kind : shift_kinds()) EXPECT_EQ(identity_level(kind).has_value(), kind != "jpeg") << kind;
}

TEST(AcquisitionShift, EveryDefaultLevelChangesThePhotograph) {
  const Sample s = phantom_sample();
  for (const auto& shift : default_shifts()) {
    const Sample out = apply_shift(s, shift, 5);
    const bool changed = out.image.sizes() != s.image.sizes() || max_abs_diff(out.image, s.image) > 1e-3;
    EXPECT_TRUE(changed) << to_string(shift);
  }
}

TEST(AcquisitionShift, DarkScalesTheFovMeanByTheExposure) {
  const Sample s = phantom_sample();
  const Sample out = apply_shift(s, {"dark", 0.3});
  EXPECT_NEAR(fov_mean(out.image, s.mask), 0.3 * fov_mean(s.image, s.mask), 1e-5);
}

TEST(AcquisitionShift, GammaAboveOneDarkensAndBelowOneBrightens) {
  const Sample s = phantom_sample();
  const double clean = fov_mean(s.image, s.mask);
  EXPECT_LT(fov_mean(apply_shift(s, {"gamma", 2.0}).image, s.mask), clean - 0.05);
  EXPECT_GT(fov_mean(apply_shift(s, {"gamma", 0.5}).image, s.mask), clean + 0.05);
}

TEST(AcquisitionShift, ContrastScalesTheSpreadAboutTheFovMeanInsideTheFovOnly) {
  Sample s = phantom_sample();
  s.image = s.image + 0.05 * (1 - s.mask);  // a gray surround, to see that it is kept
  const Sample out = apply_shift(s, {"contrast", 0.5});
  const auto inside = s.mask[0].gt(0.5);
  for (int64_t c = 0; c < 3; ++c) {
    const auto before = s.image[c].masked_select(inside), after = out.image[c].masked_select(inside);
    EXPECT_NEAR(after.std().item<double>(), 0.5 * before.std().item<double>(), 1e-4) << c;
    EXPECT_NEAR(after.mean().item<double>(), before.mean().item<double>(), 1e-4) << c;
    EXPECT_TRUE(out.image[c].masked_select(~inside).equal(s.image[c].masked_select(~inside))) << c;
  }
}

TEST(AcquisitionShift, BlurLowersTheGradientEnergyMoreForLargerSigma) {
  const Sample s = phantom_sample();
  const double e0 = gradient_energy(s.image);
  const double e1 = gradient_energy(apply_shift(s, {"blur", 1}).image);
  const double e3 = gradient_energy(apply_shift(s, {"blur", 3}).image);
  EXPECT_LT(e1, 0.7 * e0);
  EXPECT_LT(e3, 0.7 * e1);
  EXPECT_NEAR(fov_mean(apply_shift(s, {"blur", 2}).image, s.mask), fov_mean(s.image, s.mask), 0.02);
}

TEST(AcquisitionShift, JpegLosesMoreAtLowerQuality) {
  const Sample s = phantom_sample();
  auto error = [&](double q) { return (apply_shift(s, {"jpeg", q}).image - s.image).abs().mean().item<double>(); };
  const double e100 = error(100), e50 = error(50), e10 = error(10);
  EXPECT_LT(e100, 2.0 / 255);
  EXPECT_GT(e50, e100);
  EXPECT_GT(e10, e50);
  EXPECT_EQ(apply_shift(s, {"jpeg", 10}).image.sizes(), s.image.sizes());
}

TEST(AcquisitionShift, IlluminationDimsTheRightSideMoreThanTheLeft) {
  Sample s = phantom_sample();
  s.image = torch::full_like(s.image, 0.5);
  const auto out = apply_shift(s, {"illumination", 0.6}).image;
  const int64_t W = out.size(2), mid = out.size(1) / 2;
  const double left = out[1][mid][W / 4].item<double>(), right = out[1][mid][3 * W / 4].item<double>();
  const double corner = out[1][0][W - 1].item<double>();
  EXPECT_LT(right, left);
  EXPECT_LT(corner, right);
  EXPECT_LE(out.max().item<double>(), 0.5);
  EXPECT_NEAR(corner, 0.5 * (1 - 0.6 * 0.98), 0.01);  // w is near 1 in the top-right corner
}

TEST(AcquisitionShift, ColourCastRaisesRedAndLowersBlue) {
  Sample s = phantom_sample();
  s.image = torch::full_like(s.image, 0.5);
  const auto out = apply_shift(s, {"colour", 0.2}).image;
  EXPECT_NEAR(out[0].mean().item<double>(), 0.6, 1e-6);
  EXPECT_NEAR(out[1].mean().item<double>(), 0.45, 1e-6);
  EXPECT_NEAR(out[2].mean().item<double>(), 0.4, 1e-6);
}

TEST(AcquisitionShift, NoiseHasTheRequestedSpreadAndDependsOnlyOnTheSeed) {
  Sample s = phantom_sample();
  s.image = torch::full_like(s.image, 0.5);
  const auto a = apply_shift(s, {"noise", 0.05}, 11).image;
  EXPECT_NEAR((a - 0.5).std().item<double>(), 0.05, 0.003);
  EXPECT_TRUE(apply_shift(s, {"noise", 0.05}, 11).image.equal(a));
  EXPECT_FALSE(apply_shift(s, {"noise", 0.05}, 12).image.equal(a));
}

TEST(AcquisitionShift, EveryShiftIsDeterministicGivenTheSeed) {
  const Sample s = phantom_sample();
  for (const auto& shift : default_shifts()) {
    torch::manual_seed(1);
    const Sample a = apply_shift(s, shift, 9);
    torch::manual_seed(2);  // the global generator plays no part
    const Sample b = apply_shift(s, shift, 9);
    EXPECT_TRUE(a.image.equal(b.image)) << to_string(shift);
    EXPECT_TRUE(a.label.equal(b.label)) << to_string(shift);
  }
}

TEST(AcquisitionShift, ResultsStayInTheUnitRange) {
  const Sample s = phantom_sample();
  for (const auto& shift : default_shifts()) {
    const auto x = apply_shift(s, shift, 1).image;
    EXPECT_GE(x.min().item<double>(), 0) << to_string(shift);
    EXPECT_LE(x.max().item<double>(), 1) << to_string(shift);
  }
  Sample bright = s;
  bright.image = torch::full_like(s.image, 0.95);
  EXPECT_LE(apply_shift(bright, {"contrast", 1.5}).image.max().item<double>(), 1);
}

TEST(AcquisitionShift, PhotometricShiftsLeaveLabelAndMaskUntouched) {
  const Sample s = phantom_sample();
  for (const auto& shift : default_shifts()) {
    if (shift.kind == "scale") continue;
    const Sample out = apply_shift(s, shift, 1);
    EXPECT_TRUE(out.label.equal(s.label)) << to_string(shift);
    EXPECT_TRUE(out.mask.equal(s.mask)) << to_string(shift);
    EXPECT_EQ(out.id, s.id);
    EXPECT_EQ(out.has_mask, s.has_mask);
  }
}

TEST(AcquisitionShift, ScaleResizesAndKeepsTheLabelBinaryAndAligned) {
  PhantomOptions wide;  // vessels 3 px and wider, which a resize does not wash out
  wide.size = 128;
  wide.vessel_width = 0.04;
  wide.min_width_px = 3;
  const PhantomSample p = make_phantom(wide, 3);
  Sample s;
  s.image = p.image;
  s.label = p.label;
  s.mask = p.mask;
  const double clean = vessel_contrast(s.image, s.label, s.mask);
  ASSERT_GT(clean, 0.05);
  for (double f : {0.8, 1.25}) {
    const Sample out = apply_shift(s, {"scale", f});
    const int64_t side = std::llround(128 * f);
    ASSERT_EQ(out.image.sizes(), torch::IntArrayRef({3, side, side}));
    ASSERT_EQ(out.label.sizes(), torch::IntArrayRef({1, side, side}));
    ASSERT_EQ(out.mask.sizes(), torch::IntArrayRef({1, side, side}));
    EXPECT_TRUE((out.label.eq(0) | out.label.eq(1)).all().item<bool>());
    EXPECT_TRUE((out.mask.eq(0) | out.mask.eq(1)).all().item<bool>());
    // The vessel share of the FOV stays put; the label still marks the photograph's dark vessels about as
    // sharply as before, and more sharply than the label moved by one pixel in any direction.
    const double frac = (s.label.sum() / s.mask.sum()).item<double>();
    EXPECT_NEAR((out.label.sum() / out.mask.sum()).item<double>(), frac, 0.05 * frac) << f;
    const double scaled = vessel_contrast(out.image, out.label, out.mask);
    EXPECT_GT(scaled, 0.8 * clean) << f;
    for (int64_t dy : {-1, 0, 1})
      for (int64_t dx : {-1, 0, 1})
        if (dy != 0 || dx != 0) {
          EXPECT_LT(vessel_contrast(out.image, out.label.roll({dy, dx}, {1, 2}), out.mask), scaled) << f;
        }
  }
}

TEST(AcquisitionShift, InvalidShiftsAreUserErrorsNamingTheKindAndTheRange) {
  const Sample s = phantom_sample(32);
  using test::contains;
  const std::string unknown = test::user_error([&] { apply_shift(s, {"fog", 1}); });
  EXPECT_TRUE(contains(unknown, "'fog'") && contains(unknown, "illumination")) << unknown;
  const std::string gamma = test::user_error([&] { apply_shift(s, {"gamma", 0}); });
  EXPECT_TRUE(contains(gamma, "gamma level") && contains(gamma, "0.1 to 10")) << gamma;
  EXPECT_NE(test::user_error([&] { apply_shift(s, {"jpeg", 30.5}); }), "");
  EXPECT_NE(test::user_error([&] { apply_shift(s, {"dark", 1.5}); }), "");
  EXPECT_NE(test::user_error([&] { apply_shift(s, {"noise", std::nan("")}); }), "");
}

TEST(AcquisitionShift, DefaultShiftsFollowTheTableAndRefuseRepeatedKinds) {
  EXPECT_EQ(default_shifts().size(), 25u);
  EXPECT_EQ(default_shifts().front().kind, "scale");
  const auto some = default_shifts({"dark", "gamma"});
  ASSERT_EQ(some.size(), 6u);
  EXPECT_EQ(some[0].kind, "dark");
  EXPECT_EQ(some[0].level, 0.5);
  EXPECT_EQ(some[2].kind, "gamma");
  EXPECT_NE(test::user_error([] { default_shifts({"blur", "blur"}); }), "");
  EXPECT_NE(test::user_error([] { default_shifts({"haze"}); }), "");
}

TEST(AcquisitionShift, JsonRoundTripsAndRefusesUnknownOrMissingKeys) {
  const AcquisitionShift a{"jpeg", 30};
  const nlohmann::json j = a;
  EXPECT_EQ(j.dump(), R"({"kind":"jpeg","level":30.0})");
  const auto b = j.get<AcquisitionShift>();
  EXPECT_EQ(b.kind, "jpeg");
  EXPECT_EQ(b.level, 30);
  EXPECT_NE(test::user_error([] { nlohmann::json{{"kind", "dark"}}.get<AcquisitionShift>(); }), "");
  const nlohmann::json extra{{"kind", "dark"}, {"level", 0.5}, {"x", 1}};
  EXPECT_NE(test::user_error([&] { extra.get<AcquisitionShift>(); }), "");
}

}  // namespace vg
