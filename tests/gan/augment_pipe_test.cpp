#include "vesselgan/gan/augment_pipe.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vesselgan/core/error.h"

namespace {

namespace F = torch::nn::functional;
using vg::AugmentPipe;
using vg::AugmentPipeOptions;

// Every multiplier 0: a starting point for single-op pipes.
AugmentPipeOptions none() {
  AugmentPipeOptions o;
  o.xflip = o.rotate90 = o.xint = o.scale = o.rotate = o.aniso = o.xfrac = 0;
  o.brightness = o.contrast = o.lumaflip = o.hue = o.saturation = 0;
  return o;
}
AugmentPipeOptions geometric_only() {
  AugmentPipeOptions o;
  o.brightness = o.contrast = o.lumaflip = o.hue = o.saturation = 0;
  return o;
}
AugmentPipeOptions color_only() {
  AugmentPipeOptions o;
  o.xflip = o.rotate90 = o.xint = o.scale = o.rotate = o.aniso = o.xfrac = 0;
  return o;
}

torch::Tensor images(int64_t n, int64_t c, int64_t h, int64_t w) { return torch::rand({n, c, h, w}) * 2 - 1; }

TEST(AugmentPipe, ZeroProbabilityIsTheIdentity) {
  torch::manual_seed(0);
  const torch::Tensor x = images(4, 3, 8, 8);
  const torch::Tensor y = AugmentPipe()(x, 0.0);
  EXPECT_TRUE(y.is_same(x));
}

TEST(AugmentPipe, XflipAtFullProbabilityMirrorsOrKeepsEachSample) {
  // Each sample is mirrored with probability 1/2 (ADA); at p = 1 the outcome is exactly one of the two.
  torch::manual_seed(1);
  AugmentPipeOptions o = none();
  o.xflip = 1;
  for (int64_t w : {16, 13}) {  // powers of two (bit exact) and odd sizes
    const int64_t h = w == 16 ? 8 : 9;
    const torch::Tensor x = images(64, 3, h, w);
    const torch::Tensor y = AugmentPipe(o)(x, 1.0);
    int flipped = 0;
    for (int64_t n = 0; n < 64; ++n) {
      const bool same = torch::allclose(y[n], x[n], 0, 1e-6);
      const bool mirror = torch::allclose(y[n], x[n].flip({2}), 0, 1e-6);
      EXPECT_TRUE(same != mirror) << "sample " << n << " width " << w;
      flipped += mirror;
    }
    EXPECT_GT(flipped, 16);
    EXPECT_LT(flipped, 48);
    if (w == 16) {
      for (int64_t n = 0; n < 64; ++n)
        EXPECT_TRUE(torch::equal(y[n], x[n]) || torch::equal(y[n], x[n].flip({2})));
    }
  }
}

TEST(AugmentPipe, OpsFireWithProbabilityPTimesMultiplier) {
  // x-flip fires with p * multiplier and then mirrors half the time: 0.5 * 0.6 / 2 = 0.15 of the samples.
  torch::manual_seed(2);
  AugmentPipeOptions o = none();
  o.xflip = 0.6;
  const int64_t n = 2000;
  const torch::Tensor x = images(n, 3, 2, 4);
  const torch::Tensor y = AugmentPipe(o)(x, 0.5);
  const double flipped = (y - x).abs().flatten(1).amax(1).gt(1e-6).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(flipped, 0.15, 0.03);  // ~4 binomial standard deviations
}

TEST(AugmentPipe, Rotate90GivesExactQuarterTurns) {
  torch::manual_seed(3);
  AugmentPipeOptions o = none();
  o.rotate90 = 1;
  const torch::Tensor x = images(32, 3, 8, 8);
  const torch::Tensor y = AugmentPipe(o)(x, 1.0);
  std::set<int> seen;
  for (int64_t n = 0; n < 32; ++n) {
    int match = -1;
    for (int k = 0; k < 4; ++k) {
      if (torch::equal(y[n], torch::rot90(x[n], k, {1, 2}))) match = k;
    }
    EXPECT_GE(match, 0) << "sample " << n << " is not a quarter turn of its input";
    seen.insert(match);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(AugmentPipe, IntegerTranslationUsesReflectPadding) {
  // xint_max 0.125 on 16 pixels: shifts of -2..2 pixels; the uncovered border is mirrored (no edge repeat).
  torch::manual_seed(4);
  AugmentPipeOptions o = none();
  o.xint = 1;
  const torch::Tensor x = images(24, 3, 16, 16);
  const torch::Tensor y = AugmentPipe(o)(x, 1.0);
  const torch::Tensor padded = F::pad(x, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReflect));
  int shifted = 0;
  for (int64_t n = 0; n < 24; ++n) {
    bool found = false;
    for (int dy = -2; dy <= 2 && !found; ++dy) {
      for (int dx = -2; dx <= 2 && !found; ++dx) {
        // Output pixel (i, j) = input (i - dy, j - dx), i.e. padded (i - dy + 2, j - dx + 2).
        const torch::Tensor ref = padded[n].narrow(1, 2 - dy, 16).narrow(2, 2 - dx, 16);
        if (torch::equal(y[n], ref)) {
          found = true;
          shifted += (dx != 0 || dy != 0);
        }
      }
    }
    EXPECT_TRUE(found) << "sample " << n << " is not an integer shift with reflect padding";
  }
  EXPECT_GT(shifted, 12);
}

TEST(AugmentPipe, GeometricOpsMoveALabelChannelWithTheImage) {
  torch::manual_seed(5);
  torch::Tensor x = images(8, 4, 16, 12);
  x.select(1, 3).copy_(x.select(1, 0));  // the 4th channel is a copy of the 1st
  const torch::Tensor y = AugmentPipe(geometric_only())(x, 1.0);
  EXPECT_TRUE(torch::allclose(y.select(1, 3), y.select(1, 0), 0, 1e-6));
  EXPECT_GT((y - x).abs().max().item<double>(), 0.1);  // and it did move
  // Reflect padding keeps values in range: bilinear blends of pixels in [-1, 1].
  EXPECT_LE(y.abs().max().item<double>(), 1.0 + 1e-6);
}

TEST(AugmentPipe, ColorOpsLeaveExtraChannelsUntouched) {
  torch::manual_seed(6);
  const torch::Tensor x = images(8, 4, 8, 8);
  const torch::Tensor y = AugmentPipe(color_only())(x, 1.0);
  EXPECT_TRUE(torch::equal(y.select(1, 3), x.select(1, 3)));
  EXPECT_GT((y.narrow(1, 0, 3) - x.narrow(1, 0, 3)).abs().max().item<double>(), 0.1);
}

TEST(AugmentPipe, BrightnessAddsOneNormalOffsetPerSample) {
  torch::manual_seed(7);
  AugmentPipeOptions o = none();
  o.brightness = 1;
  const int64_t n = 4000;
  const torch::Tensor x = images(n, 4, 2, 2);
  const torch::Tensor y = AugmentPipe(o)(x, 1.0);
  const torch::Tensor d = (y - x).narrow(1, 0, 3).flatten(1);  // [N, 12]
  const torch::Tensor b = d.select(1, 0);
  EXPECT_TRUE(torch::allclose(d, b.unsqueeze(1).expand_as(d), 0, 1e-5));  // same shift on every RGB pixel
  EXPECT_TRUE(torch::equal(y.select(1, 3), x.select(1, 3)));
  EXPECT_NEAR(b.mean().item<double>(), 0.0, 0.015);  // N(0, 0.2^2): standard error 0.2 / sqrt(4000)
  EXPECT_NEAR(b.std().item<double>(), 0.2, 0.01);
  // Per sample, the image mean moves by exactly b.
  EXPECT_TRUE(
      torch::allclose(y.narrow(1, 0, 3).mean({1, 2, 3}) - x.narrow(1, 0, 3).mean({1, 2, 3}), b, 0, 1e-5));
}

TEST(AugmentPipe, LumaFlipAndHueKeepLumaOrFlipIt) {
  // Hue rotation and saturation act orthogonally to the luma axis (1, 1, 1): the channel sum is kept.
  torch::manual_seed(8);
  AugmentPipeOptions o = none();
  o.hue = 1;
  o.saturation = 1;
  const torch::Tensor x = images(16, 3, 4, 4);
  const torch::Tensor y = AugmentPipe(o)(x, 1.0);
  EXPECT_TRUE(torch::allclose(y.sum(1), x.sum(1), 0, 1e-4));
  EXPECT_GT((y - x).abs().max().item<double>(), 0.1);
  // A luma flip negates the channel sum (Householder reflection across the plane orthogonal to luma).
  AugmentPipeOptions f = none();
  f.lumaflip = 1;
  const torch::Tensor z = AugmentPipe(f)(x, 1.0);
  for (int64_t n = 0; n < 16; ++n) {
    const bool kept = torch::allclose(z[n], x[n], 0, 1e-6);
    const bool flipped = torch::allclose(z[n].sum(0), -x[n].sum(0), 0, 1e-5);
    EXPECT_TRUE(kept || flipped) << "sample " << n;
  }
}

TEST(AugmentPipe, OneChannelImagesSkipColourUnlessAskedThenTakeTheRgbPathsChannelMean) {
  // stylegan2-ada-pytorch puts L images through the colour matrix averaged over its RGB rows: for a grey image
  // that is exactly the mean over the channels of the RGB path on the grey image repeated three times.
  const torch::Tensor x = images(32, 1, 8, 8);
  AugmentPipeOptions o;  // every op on
  torch::manual_seed(9);
  EXPECT_TRUE(torch::equal(AugmentPipe(color_only())(x, 1.0), x));  // off: the colour stage is skipped
  o.one_channel_colour = true;
  torch::manual_seed(9);
  const torch::Tensor grey = AugmentPipe(o)(x, 1.0);
  torch::manual_seed(9);
  const torch::Tensor rgb = AugmentPipe(o)(x.repeat({1, 3, 1, 1}), 1.0);
  ASSERT_EQ(grey.sizes(), x.sizes());
  EXPECT_TRUE(torch::allclose(grey, rgb.mean(1, true), 1e-5, 1e-5));
  // ... so a luma flip alone negates a vessel map, or keeps it.
  AugmentPipeOptions f = none();
  f.lumaflip = 1;
  f.one_channel_colour = true;
  const torch::Tensor z = AugmentPipe(f)(x, 1.0);
  int64_t flipped = 0;
  for (int64_t n = 0; n < 32; ++n) {
    const bool is_flipped = torch::allclose(z[n], -x[n], 0, 1e-6);
    EXPECT_TRUE(is_flipped || torch::allclose(z[n], x[n], 0, 1e-6)) << "sample " << n;
    flipped += is_flipped ? 1 : 0;
  }
  EXPECT_GT(flipped, 4);
  EXPECT_LT(flipped, 28);
}

TEST(AugmentPipe, SameSeedSameOutput) {
  const AugmentPipe pipe;
  torch::manual_seed(9);
  const torch::Tensor x = images(4, 3, 16, 16);
  torch::manual_seed(10);
  const torch::Tensor a = pipe(x, 0.7);
  torch::manual_seed(10);
  const torch::Tensor b = pipe(x, 0.7);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(AugmentPipe, DoubleBackwardMatchesFiniteDifference) {
  // R1 through the pipe: d/dw sum((d D(aug(x)) / d x)^2), D(y) = sum(tanh(conv(y, w))). The augmentation is
  // re-drawn from the same seed for every evaluation so the finite difference sees one fixed transform.
  const auto kD = torch::TensorOptions().dtype(torch::kDouble);
  torch::manual_seed(11);
  const torch::Tensor x0 = torch::rand({2, 3, 8, 8}, kD) * 2 - 1;
  const torch::Tensor w0 = torch::randn({2, 3, 3, 3}, kD) * 0.3;
  const AugmentPipe pipe;
  auto r1 = [&](const torch::Tensor& w) {
    const torch::Tensor x = x0.clone().requires_grad_(true);
    torch::manual_seed(12);
    const torch::Tensor logits =
        torch::tanh(F::conv2d(pipe(x, 1.0), w, F::Conv2dFuncOptions().padding(1))).sum();
    const torch::Tensor g = torch::autograd::grad({logits}, {x}, {}, true, true)[0];
    return g.square().sum();
  };
  const torch::Tensor w = w0.clone().requires_grad_(true);
  r1(w).backward();
  ASSERT_TRUE(w.grad().defined());
  const double eps = 1e-6;
  for (int64_t flat : {0, 13, 40}) {
    torch::Tensor wp = w0.clone(), wm = w0.clone();
    wp.view(-1)[flat] += eps;
    wm.view(-1)[flat] -= eps;
    const double fd = (r1(wp).item<double>() - r1(wm).item<double>()) / (2 * eps);
    const double a = w.grad().view(-1)[flat].item<double>();
    EXPECT_NEAR(a, fd, 1e-6 * (1 + std::abs(a))) << "weight " << flat;
  }
}

TEST(AugmentPipeOptions, JsonRoundTripAndValidation) {
  AugmentPipeOptions o;
  o.hue = 0;
  o.xfrac_std = 0.25;
  const nlohmann::json j = o;
  AugmentPipeOptions back = none();
  back = j.get<AugmentPipeOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.hue, 0);
  EXPECT_EQ(back.xfrac_std, 0.25);
  EXPECT_THROW(nlohmann::json({{"xflp", 1}}).get<AugmentPipeOptions>(), vg::UserError);
  AugmentPipeOptions bad;
  bad.scale = -1;
  EXPECT_THROW(vg::validate(bad), vg::UserError);
  bad = {};
  bad.rotate_max = 2;
  EXPECT_THROW(AugmentPipe{bad}, vg::UserError);
}

TEST(AugmentPipe, RejectsImagesWithoutChannelsAndAnOutOfRangeP) {
  EXPECT_THROW(AugmentPipe()(torch::zeros({1, 0, 8, 8}), 0.5), c10::Error);
  EXPECT_THROW(AugmentPipe()(torch::zeros({1, 8, 8}), 0.5), c10::Error);
  EXPECT_THROW(AugmentPipe()(torch::zeros({1, 3, 8, 8}), 1.5), c10::Error);
}

TEST(AugmentPipe, RunsOnCudaWithDoubleBackward) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device dev(torch::kCUDA);
  torch::manual_seed(13);
  torch::Tensor x = images(8, 4, 32, 32).to(dev);
  x.select(1, 3).copy_(x.select(1, 0));
  const torch::Tensor g = AugmentPipe(geometric_only())(x, 1.0);
  EXPECT_TRUE(torch::allclose(g.select(1, 3), g.select(1, 0), 0, 1e-6));
  AugmentPipeOptions o = none();
  o.rotate90 = 1;
  const torch::Tensor r = AugmentPipe(o)(x, 1.0).cpu(), xc = x.cpu();
  for (int64_t n = 0; n < 8; ++n) {
    bool quarter = false;
    for (int k = 0; k < 4; ++k) quarter |= torch::equal(r[n], torch::rot90(xc[n], k, {1, 2}));
    EXPECT_TRUE(quarter) << "sample " << n;
  }
  const torch::Tensor xr = x.clone().requires_grad_(true);
  const torch::Tensor w = torch::randn({2, 4, 3, 3}, torch::TensorOptions().device(dev)).requires_grad_(true);
  const torch::Tensor logits = torch::tanh(F::conv2d(AugmentPipe()(xr, 1.0), w)).sum();
  const torch::Tensor grad = torch::autograd::grad({logits}, {xr}, {}, true, true)[0];
  grad.square().sum().backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_TRUE(torch::isfinite(w.grad()).all().item<bool>());
  EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
