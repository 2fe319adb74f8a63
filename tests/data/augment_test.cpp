#include "vesselgan/data/augment.h"

#include <torch/torch.h>

#include <cmath>

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

namespace F = torch::nn::functional;

namespace {

AugmentOptions all_off() {
  AugmentOptions o;
  o.hflip = o.vflip = false;
  o.rotate_deg = 0;
  o.scale_min = o.scale_max = 1;
  o.translate = o.shear_deg = 0;
  o.brightness = o.contrast = o.saturation = o.hue = o.noise_std = 0;
  return o;
}

AugmentOptions geometric_only() {
  AugmentOptions o = all_off();
  o.hflip = o.vflip = true;
  o.rotate_deg = 180;
  o.scale_min = 0.8;
  o.scale_max = 1.25;
  o.translate = 0.1;
  o.shear_deg = 10;
  return o;
}

// A batch whose label is a thresholded smooth pattern of the image's green channel, plus a FOV disc.
SegBatch pattern_batch(int64_t N, int64_t H, int64_t W, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor low = torch::rand({N, 3, 4, 4});
  const torch::Tensor image = F::interpolate(low, F::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{H, W})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
  const torch::Tensor label = (image.narrow(1, 1, 1) > 0.5).to(torch::kFloat);
  const torch::Tensor y = torch::arange(H, torch::kFloat).view({1, 1, H, 1}) - (H - 1) / 2.0;
  const torch::Tensor x = torch::arange(W, torch::kFloat).view({1, 1, 1, W}) - (W - 1) / 2.0;
  const torch::Tensor mask =
      ((x * x + y * y) < 0.2 * H * W).to(torch::kFloat).expand({N, 1, H, W}).contiguous();
  return {image, label, mask};
}

torch::Tensor warp(const torch::Tensor& x, const torch::Tensor& theta) {
  const torch::Tensor grid = F::affine_grid(theta, {x.size(0), x.size(1), x.size(2), x.size(3)}, false);
  return F::grid_sample(
      x, grid,
      F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
}

torch::Tensor theta_for(double angle, double scale, double shear, double tx, double ty, double fx, double fy,
                        int64_t H, int64_t W) {
  auto t = [](double v) { return torch::full({1}, v); };
  return affine_theta(t(angle), t(scale), t(shear), t(tx), t(ty), t(fx), t(fy), H, W);
}

}  // namespace

TEST(Augment, DisabledOrAllOffIsTheExactIdentity) {
  const SegBatch b = pattern_batch(4, 16, 12, 1);
  AugmentOptions off;
  off.enabled = false;
  const SegBatch o1 = augment(b, off);
  EXPECT_TRUE(torch::equal(o1.image, b.image) && torch::equal(o1.label, b.label) &&
              torch::equal(o1.mask, b.mask));
  const SegBatch o2 = augment(b, all_off());
  EXPECT_TRUE(torch::equal(o2.image, b.image) && torch::equal(o2.label, b.label) &&
              torch::equal(o2.mask, b.mask));
}

TEST(Augment, FlipsAloneAreExactAndMoveImageLabelAndMaskTogether) {
  const SegBatch b = pattern_batch(16, 10, 14, 2);
  AugmentOptions o = all_off();
  o.hflip = o.vflip = true;
  torch::manual_seed(7);
  const SegBatch out = augment(b, o);
  int seen[2][2] = {{0, 0}, {0, 0}};
  for (int64_t n = 0; n < 16; ++n) {
    int matched = 0;
    for (int h = 0; h < 2; ++h) {
      for (int v = 0; v < 2; ++v) {
        auto f = [&](const torch::Tensor& t) {
          torch::Tensor r = t[n];
          if (h) r = r.flip({2});
          if (v) r = r.flip({1});
          return r;
        };
        if (torch::equal(out.image[n], f(b.image))) {
          EXPECT_TRUE(torch::equal(out.label[n], f(b.label))) << "sample " << n;
          EXPECT_TRUE(torch::equal(out.mask[n], f(b.mask))) << "sample " << n;
          ++seen[h][v];
          ++matched;
        }
      }
    }
    EXPECT_EQ(matched, 1) << "sample " << n << " is not an exact flip of its input";
  }
  // 16 fair draws: each of the four flip combinations shows up (fixed seed).
  for (int h = 0; h < 2; ++h)
    for (int v = 0; v < 2; ++v) EXPECT_GT(seen[h][v], 0) << "hflip " << h << " vflip " << v;
}

TEST(AffineTheta, QuarterTurnOfASquareMatchesRot90) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::rand({1, 2, 9, 9});
  const torch::Tensor y = warp(x, theta_for(M_PI / 2, 1, 0, 0, 0, 1, 1, 9, 9));
  // Positive angles turn the content counter-clockwise as displayed, like torch.rot90(k=1) on (H, W).
  EXPECT_LT((y - torch::rot90(x, 1, {2, 3})).abs().max().item<double>(), 1e-5);
}

TEST(AffineTheta, HalfTurnOfANonSquareImageIsBothFlips) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::rand({1, 1, 6, 11});
  const torch::Tensor y = warp(x, theta_for(M_PI, 1, 0, 0, 0, 1, 1, 6, 11));
  EXPECT_LT((y - x.flip({2, 3})).abs().max().item<double>(), 1e-5);
  const torch::Tensor z = warp(x, theta_for(0, 1, 0, 0, 0, -1, -1, 6, 11));
  EXPECT_LT((z - x.flip({2, 3})).abs().max().item<double>(), 1e-5);
}

TEST(AffineTheta, TranslationByOnePixelShiftsContent) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::rand({1, 1, 8, 10});
  // tx = 1 / W: one pixel to the right; ty = -1 / H: one pixel up.
  const torch::Tensor y = warp(x, theta_for(0, 1, 0, 1.0 / 10, -1.0 / 8, 1, 1, 8, 10));
  const torch::Tensor expect = x.narrow(2, 1, 7).narrow(3, 0, 9);
  EXPECT_LT((y.narrow(2, 0, 7).narrow(3, 1, 9) - expect).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(y.select(3, 0).abs().max().item<double>(), 0.0);  // zeros enter from the left
}

TEST(AffineTheta, ZoomAndShearHaveTheirClosedForm) {
  // Zoom 2 about the center: the output reads the input at half the normalised coordinate.
  const torch::Tensor t = theta_for(0, 2, 0, 0, 0, 1, 1, 4, 8);
  EXPECT_TRUE(torch::allclose(t, torch::tensor({0.5f, 0.f, 0.f, 0.f, 0.5f, 0.f}).view({1, 2, 3})));
  // Shear of 45 degrees on an H x W image: x_in = x_out - y_out in pixels, i.e. theta[0][1] = -H / W.
  const torch::Tensor s = theta_for(0, 1, M_PI / 4, 0, 0, 1, 1, 4, 8);
  EXPECT_NEAR(s[0][0][1].item<double>(), -0.5, 1e-6);
  EXPECT_NEAR(s[0][1][0].item<double>(), 0.0, 1e-6);
}

TEST(Augment, GeometricTransformsKeepImageAndLabelAligned) {
  // image = label replicated into 3 channels: after any warp, thresholding the warped image at 0.5 must give
  // the re-binarised warped label (same grid, same bilinear weights).
  SegBatch b = pattern_batch(8, 24, 20, 6);
  b.image = b.label.expand({8, 3, 24, 20}).contiguous();
  torch::manual_seed(11);
  const SegBatch out = augment(b, geometric_only());
  ASSERT_EQ(out.image.sizes(), b.image.sizes());
  const torch::Tensor from_image = (out.image.mean(1, true) >= 0.5).to(torch::kFloat);
  const double mismatch = (from_image != out.label).to(torch::kFloat).mean().item<double>();
  EXPECT_LT(mismatch, 1e-3);
  EXPECT_TRUE(((out.label == 0) | (out.label == 1)).all().item<bool>());  // binary labels stay binary
  EXPECT_TRUE(((out.mask == 0) | (out.mask == 1)).all().item<bool>());    // mask sampled nearest
  EXPECT_GT((out.label != b.label).to(torch::kFloat).mean().item<double>(), 0.05);  // it did move
  // The mask moves with the image and the label: a label equal to the mask warps (bilinear, re-binarised)
  // to nearly the nearest-warped mask, and the mask never lands where the warped image is empty.
  SegBatch ones{torch::ones({8, 3, 24, 20}), b.mask, b.mask};
  torch::manual_seed(11);
  const SegBatch o2 = augment(ones, geometric_only());
  EXPECT_LT((o2.label != o2.mask).to(torch::kFloat).mean().item<double>(), 0.02);
  EXPECT_EQ((o2.mask * (o2.image.narrow(1, 0, 1) == 0)).sum().item<double>(), 0.0);
}

TEST(Augment, SoftLabelsStaySoft) {
  SegBatch b = pattern_batch(4, 16, 16, 8);
  b.label = b.label * 0.6 + 0.2;  // values 0.2 / 0.8
  torch::manual_seed(1);
  const SegBatch out = augment(b, geometric_only());
  const torch::Tensor inner = out.label.narrow(2, 6, 4).narrow(3, 6, 4);  // center: inside the image
  EXPECT_GT(inner.min().item<double>(), 0.19);
  EXPECT_LT(inner.max().item<double>(), 0.81);
}

TEST(Augment, PhotometricKeepsRangeAndLeavesLabelAndMaskUntouched) {
  const SegBatch b = pattern_batch(6, 16, 16, 9);
  AugmentOptions o = all_off();
  o.brightness = 0.8;
  o.contrast = 0.8;
  o.saturation = 0.8;
  o.hue = 0.3;
  o.noise_std = 0.2;
  torch::manual_seed(2);
  const SegBatch out = augment(b, o);
  EXPECT_GE(out.image.min().item<double>(), 0.0);
  EXPECT_LE(out.image.max().item<double>(), 1.0);
  EXPECT_GT((out.image - b.image).abs().mean().item<double>(), 0.05);
  EXPECT_TRUE(torch::equal(out.label, b.label));
  EXPECT_TRUE(torch::equal(out.mask, b.mask));
}

TEST(Augment, BrightnessScalesEachSampleByOneFactorInRange) {
  SegBatch b = pattern_batch(8, 8, 8, 10);
  b.image = b.image * 0.5 + 0.1;  // no clamping for factors <= 1.5
  AugmentOptions o = all_off();
  o.brightness = 0.5;
  torch::manual_seed(3);
  const torch::Tensor ratio = augment(b, o).image / b.image;
  for (int64_t n = 0; n < 8; ++n) {
    const double lo = ratio[n].min().item<double>(), hi = ratio[n].max().item<double>();
    EXPECT_NEAR(lo, hi, 1e-5) << "sample " << n;
    EXPECT_GE(lo, 0.5 - 1e-6);
    EXPECT_LE(hi, 1.5 + 1e-6);
  }
}

TEST(Augment, HueRotationKeepsLumaAndChromaMagnitude) {
  SegBatch b = pattern_batch(4, 8, 8, 12);
  b.image = b.image * 0.2 + 0.4;  // mid-range colours: the rotation stays inside the RGB cube
  AugmentOptions o = all_off();
  o.hue = 0.25;
  torch::manual_seed(4);
  const torch::Tensor out = augment(b, o).image;
  auto yiq = [](const torch::Tensor& x) {
    const torch::Tensor m =
        torch::tensor({0.299f, 0.587f, 0.114f, 0.596f, -0.274f, -0.322f, 0.211f, -0.523f, 0.312f})
            .view({3, 3});
    return torch::einsum("ij,njhw->nihw", {m, x});
  };
  const torch::Tensor a = yiq(b.image), c = yiq(out);
  EXPECT_LT((a.select(1, 0) - c.select(1, 0)).abs().max().item<double>(), 1e-5);  // luma unchanged
  const torch::Tensor chroma_a = a.narrow(1, 1, 2).pow(2).sum(1), chroma_c = c.narrow(1, 1, 2).pow(2).sum(1);
  EXPECT_LT((chroma_a - chroma_c).abs().max().item<double>(), 1e-5);  // a rotation of the (I, Q) plane
  EXPECT_GT((out - b.image).abs().max().item<double>(), 1e-3);
}

TEST(Augment, SameSeedSameOutputDifferentSeedDifferentOutput) {
  const SegBatch b = pattern_batch(4, 16, 16, 13);
  const AugmentOptions o;  // defaults: everything on
  torch::manual_seed(42);
  const SegBatch x1 = augment(b, o);
  torch::manual_seed(42);
  const SegBatch x2 = augment(b, o);
  torch::manual_seed(43);
  const SegBatch x3 = augment(b, o);
  EXPECT_TRUE(torch::equal(x1.image, x2.image) && torch::equal(x1.label, x2.label) &&
              torch::equal(x1.mask, x2.mask));
  EXPECT_FALSE(torch::equal(x1.image, x3.image));
}

TEST(Augment, UndefinedMaskAndLabelStayUndefined) {
  SegBatch b = pattern_batch(2, 8, 8, 14);
  b.mask = torch::Tensor();
  torch::manual_seed(0);
  EXPECT_FALSE(augment(b, AugmentOptions{}).mask.defined());
  b.label = torch::Tensor();
  EXPECT_FALSE(augment(b, AugmentOptions{}).label.defined());
}

TEST(Augment, RejectsMismatchedShapes) {
  SegBatch b = pattern_batch(2, 8, 8, 15);
  b.label = torch::zeros({2, 1, 8, 9});
  EXPECT_THROW(augment(b, AugmentOptions{}), c10::Error);
}

TEST(AugmentOptions, JsonRoundTripAndStrictKeys) {
  AugmentOptions o = geometric_only();
  o.hue = 0.125;
  const nlohmann::json j = o;
  const AugmentOptions back = j.get<AugmentOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  // Absent keys keep their defaults.
  const AugmentOptions partial = nlohmann::json{{"rotate_deg", 90}}.get<AugmentOptions>();
  EXPECT_EQ(partial.rotate_deg, 90);
  EXPECT_EQ(partial.scale_max, AugmentOptions{}.scale_max);
  EXPECT_THROW(nlohmann::json({{"rotation", 90}}).get<AugmentOptions>(), UserError);
  EXPECT_THROW(nlohmann::json({{"hue", "lots"}}).get<AugmentOptions>(), UserError);
}

TEST(AugmentOptions, ValidateNamesTheBadField) {
  EXPECT_NO_THROW(validate(AugmentOptions{}));
  AugmentOptions o;
  o.scale_min = 1.2;
  o.scale_max = 1.1;
  try {
    validate(o);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("augment.scale_max"), std::string::npos) << e.what();
  }
  o = AugmentOptions{};
  o.hue = std::nan("");
  EXPECT_THROW(validate(o), UserError);
}

}  // namespace vg
