#include "vesselgan/data/fov.h"

#include <chrono>
#include <functional>
#include <cmath>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/acquisition_shift.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

PhantomSample phantom(int64_t size, uint64_t seed) {
  PhantomOptions o;
  o.size = size;
  return make_phantom(o, seed);
}

// [1, H, W] disc of radius r (pixel centers within r of (cx, cy)).
torch::Tensor disc(int64_t H, int64_t W, double cx, double cy, double r) {
  auto y = torch::arange(H, torch::kFloat).add(0.5).view({H, 1}),
       x = torch::arange(W, torch::kFloat).add(0.5).view({1, W});
  return ((x - cx).pow(2) + (y - cy).pow(2)).le(r * r).to(torch::kFloat).unsqueeze(0);
}

TEST(FovDiameter, IsTheLargerBoundingBoxSide) {
  auto m = torch::zeros({1, 10, 20});
  EXPECT_EQ(fov_diameter(m), 0.0);
  m.slice(1, 2, 5).slice(2, 3, 15).fill_(1);  // 3 rows x 12 columns
  EXPECT_EQ(fov_diameter(m), 12.0);
  m[0][9][3] = 1;  // rows 2..9: 8 high, still 12 wide
  EXPECT_EQ(fov_diameter(m[0]), 12.0);
  EXPECT_EQ(fov_diameter(torch::ones({1, 17, 5})), 17.0);
}

TEST(MaskDice, HasItsClosedForm) {
  auto a = torch::zeros({1, 4, 4}), b = torch::zeros({1, 4, 4});
  EXPECT_EQ(mask_dice(a, b), 1.0);  // both empty
  a.slice(1, 0, 2).fill_(1);        // 8 pixels
  b.slice(1, 1, 4).fill_(1);        // 12 pixels, 4 shared
  EXPECT_DOUBLE_EQ(mask_dice(a, b), 2.0 * 4 / 20);
}

TEST(EstimateFov, FindsThePhantomDisc) {
  for (int64_t size : {128, 300}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      const PhantomSample p = phantom(size, seed);
      const torch::Tensor m = estimate_fov(p.image);
      ASSERT_EQ(m.sizes(), torch::IntArrayRef({1, size, size}));
      EXPECT_TRUE(torch::equal(m, m.gt(0.5).to(torch::kFloat)));  // binary
      EXPECT_GE(mask_dice(m, p.mask), 0.98) << "size " << size << " seed " << seed;
      EXPECT_NEAR(fov_diameter(m), fov_diameter(p.mask), 0.03 * size) << "size " << size << " seed " << seed;
    }
  }
}

TEST(EstimateFov, IsRobustToDarkAndOverExposedPhotographs) {
  const PhantomSample p = phantom(256, 7);
  // A dim surround (stray light, sensor noise) makes the threshold matter.
  torch::manual_seed(0);
  const torch::Tensor img =
      (p.image + (1 - p.mask) * (0.03 + 0.01 * torch::randn({3, 256, 256}))).clamp(0, 1);
  const torch::Tensor normal = estimate_fov(img);
  const torch::Tensor dark = estimate_fov(img * 0.3);
  const torch::Tensor bright = estimate_fov((img * 2).clamp(0, 1));
  EXPECT_GE(mask_dice(normal, p.mask), 0.98);
  EXPECT_GE(mask_dice(dark, p.mask), 0.98);
  EXPECT_GE(mask_dice(bright, p.mask), 0.98);
  // The threshold follows the exposure: darkening changes (almost) nothing.
  EXPECT_GE(mask_dice(dark, normal), 0.995);
}

TEST(EstimateFov, KeepsTheFullWidthOfAClippedFovAndWorksOnGray) {
  // HRF-like: a wide frame whose FOV circle is cut by the top and bottom edges.
  const PhantomSample p = phantom(240, 11);
  const torch::Tensor img = p.image.slice(1, 40, 200),
                      truth = p.mask.slice(1, 40, 200);  // 240 wide, 160 high
  const torch::Tensor m = estimate_fov(img);
  EXPECT_GE(mask_dice(m, truth), 0.98);
  EXPECT_NEAR(fov_diameter(m), fov_diameter(p.mask), 4.0);
  EXPECT_GE(mask_dice(estimate_fov(img.mean(0, true)), truth), 0.98);
}

TEST(EstimateFov, FillsHolesAndDropsStrayBlobs) {
  const int64_t H = 120, W = 140;
  const torch::Tensor fov = disc(H, W, 70, 60, 50);
  torch::Tensor img = fov.repeat({3, 1, 1}) * 0.6;
  img.slice(1, 50, 70).slice(2, 60, 80).fill_(0.0);   // a black hole inside the FOV (a reflection artefact)
  img.slice(1, 2, 12).slice(2, 125, 135).fill_(0.8);  // a bright label burnt into the surround
  const torch::Tensor m = estimate_fov(img);
  EXPECT_EQ(m.slice(1, 50, 70).slice(2, 60, 80).min().item<float>(), 1.0f);   // hole filled
  EXPECT_EQ(m.slice(1, 2, 12).slice(2, 125, 135).max().item<float>(), 0.0f);  // blob dropped
  EXPECT_GE(mask_dice(m, fov), 0.98);
}

TEST(EstimateFov, NoDarkSurroundMeansTheWholeImage) {
  const PhantomSample p = phantom(200, 5);
  const torch::Tensor inside = p.image.slice(1, 60, 140).slice(2, 60, 140);  // a crop within the FOV
  EXPECT_TRUE(torch::equal(estimate_fov(inside), torch::ones({1, 80, 80})));
}

TEST(EstimateFov, LargePhotographsAreShrunkForTheWorkAndMappedBack) {
  const PhantomSample p = phantom(400, 3);
  FovOptions small;
  small.work_size = 128;
  const torch::Tensor m = estimate_fov(p.image, small);
  ASSERT_EQ(m.sizes(), torch::IntArrayRef({1, 400, 400}));
  EXPECT_GE(mask_dice(m, p.mask), 0.98);
}

TEST(FovOptions, JsonRoundTripAndValidation) {
  FovOptions o;
  o.level = 0.3;
  o.work_size = 512;
  nlohmann::json j = o;
  FovOptions back = j.get<FovOptions>();
  EXPECT_EQ(back.level, 0.3);
  EXPECT_EQ(back.work_size, 512);
  EXPECT_THROW((nlohmann::json{{"levle", 0.3}}.get<FovOptions>()), UserError);
  o.level = 1.5;
  try {
    validate(o);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("fov.level"), std::string::npos) << e.what();
  }
  EXPECT_THROW(estimate_fov(torch::rand({2, 8, 8})), c10::Error);
}

// DRIVE's provided FOV masks are the reference: all 40 photographs, as given, and 5 of them darkened and
// over-exposed.
TEST(EstimateFov, MatchesDrivesProvidedMasks) {
  VG_REQUIRE_DRIVE(drive);
  const DatasetFiles d = find_dataset(drive, "all", "drive");
  ASSERT_EQ(d.samples.size(), 40u);
  double sum = 0, worst = 1, sum_dark = 0, sum_bright = 0, seconds = 0;
  for (size_t i = 0; i < d.samples.size(); ++i) {
    ASSERT_FALSE(d.samples[i].mask.empty());
    const torch::Tensor image = read_image(d.samples[i].image).pixels;  // the label is not needed
    const torch::Tensor mask = read_image(d.samples[i].mask).pixels.ge(0.5).to(torch::kFloat);
    const auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor estimate = estimate_fov(image);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double dice = mask_dice(estimate, mask);
    sum += dice;
    worst = std::min(worst, dice);
    if (i % 8 == 0) {
      sum_dark += mask_dice(estimate_fov(image * 0.3), mask);
      sum_bright += mask_dice(estimate_fov((image * 2).clamp(0, 1)), mask);
    }
  }
  const double mean = sum / 40;
  std::printf(
      "DRIVE FOV estimate vs provided masks: mean Dice %.4f, worst %.4f; x0.3 %.4f, x2 clipped %.4f; "
      "%.0f ms per photograph\n",
      mean, worst, sum_dark / 5, sum_bright / 5, 1000 * seconds / 40);
  // README quotes these figures (mean 0.9947, worst 0.9913): the test guards them, with a little slack.
  EXPECT_GE(mean, 0.993);
  EXPECT_GE(worst, 0.99);
  EXPECT_GE(sum_dark / 5, 0.97);
  EXPECT_GE(sum_bright / 5, 0.97);
}


// Hard photographs with known masks: DRIVE photographs re-acquired as other cameras, exposures and eyes would
// give them (issue 19, item 4). Each case transforms the photograph and its provided mask together.
TEST(EstimateFov, HoldsOnHardPhotographsMadeFromDrive) {
  VG_REQUIRE_DRIVE(drive);
  const DatasetFiles d = find_dataset(drive, "test", "drive");
  ASSERT_GE(d.samples.size(), 20u);
  namespace F = torch::nn::functional;
  struct Case {
    std::string name;
    std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor&, const torch::Tensor&)> make;
    double min_dice;
  };
  auto pad = [](const torch::Tensor& x, int64_t l, int64_t r, int64_t t, int64_t b) {
    return F::pad(x.unsqueeze(0), F::PadFuncOptions({l, r, t, b})).squeeze(0);
  };
  auto shift = [](const torch::Tensor& img, const torch::Tensor& mask, const std::string& kind, double level) {
    Sample s;
    s.image = img;
    s.mask = mask;
    return apply_shift(s, {kind, level}, 1).image;
  };
  const std::vector<Case> cases = {
      // Framing: the disc cut at top and bottom (HRF-like), a wide black frame around a small disc, a disc
      // off the frame's centre.
      {"cropped top and bottom", [](auto& x, auto& m) { return std::pair{x.slice(1, 70, 514), m.slice(1, 70, 514)}; }, 0.985},
      {"wide field, small disc", [&](auto& x, auto& m) { return std::pair{pad(x, 300, 300, 250, 250), pad(m, 300, 300, 250, 250)}; }, 0.985},
      {"off centre", [&](auto& x, auto& m) { return std::pair{pad(x, 220, 20, 150, 10), pad(m, 220, 20, 150, 10)}; }, 0.985},
      // Exposure: very dark with a noisy surround, over-exposed and clipped, uneven illumination.
      {"dark x0.15 + noise", [&](auto& x, auto& m) { return std::pair{shift(x * 0.15, m, "noise", 0.01), m}; }, 0.985},
      {"dark x0.05 + noise", [&](auto& x, auto& m) { return std::pair{shift(x * 0.05, m, "noise", 0.01), m}; }, 0.985},
      {"over-exposed x3", [](auto& x, auto& m) { return std::pair{(x * 3).clamp(0, 1), m}; }, 0.985},
      {"uneven illumination 0.6", [&](auto& x, auto& m) { return std::pair{shift(x, m, "illumination", 0.6), m}; }, 0.985},
      // Image quality: defocus and heavy compression.
      {"blur 4 px", [&](auto& x, auto& m) { return std::pair{shift(x, m, "blur", 4), m}; }, 0.985},
      {"JPEG 10", [&](auto& x, auto& m) { return std::pair{shift(x, m, "jpeg", 10), m}; }, 0.985},
      // Pathology: bright exudate-like spots and a large dark haemorrhage inside the FOV.
      {"lesions",
       [](const torch::Tensor& x, const torch::Tensor& m) {
         torch::Tensor y = x.clone();
         y.slice(1, 250, 330).slice(2, 200, 300).fill_(0.02);                        // dark haemorrhage
         for (int64_t k = 0; k < 6; ++k) y.slice(1, 150 + 40 * k, 162 + 40 * k).slice(2, 330, 345).fill_(1.0);  // exudates
         return std::pair{y, m};
       },
       0.985},
  };
  for (const auto& c : cases) {
    double sum = 0, worst = 1;
    const size_t n = 4;
    for (size_t i = 0; i < n; ++i) {
      const auto& sf = d.samples[i * 5];
      const torch::Tensor image = read_image(sf.image).pixels;
      const torch::Tensor mask = read_image(sf.mask).pixels.ge(0.5).to(torch::kFloat);
      const auto [img, truth] = c.make(image, mask);
      const double dice = mask_dice(estimate_fov(img), truth);
      sum += dice;
      worst = std::min(worst, dice);
    }
    std::printf("FOV estimate, %s: mean Dice %.4f, worst %.4f over %zu DRIVE test photographs\n", c.name.c_str(),
                sum / n, worst, n);
    EXPECT_GE(worst, c.min_dice) << c.name;
  }
}

}  // namespace
}  // namespace vg
