#include "vesselgan/data/degradation.h"

#include <torch/torch.h>

#include "test_support.h"
#include "vesselgan/data/augment.h"

namespace vg {

namespace {

// A sharp pattern: thin dark lines on a bright background, the case blur and JPEG damage most.
torch::Tensor line_images(int64_t N, int64_t C, int64_t S) {
  torch::Tensor x = torch::full({N, C, S, S}, 0.8);
  for (int64_t i = 2; i < S; i += 6) x.narrow(3, i, 1).fill_(0.2);
  return x;
}

// Mean absolute difference between horizontally adjacent pixels: high for sharp lines, low when blurred.
double edge_energy(const torch::Tensor& x) {
  return (x.narrow(3, 1, x.size(3) - 1) - x.narrow(3, 0, x.size(3) - 1)).abs().mean().item<double>();
}

DegradeOptions only(const std::string& which) {
  DegradeOptions o;
  o.p = 1;
  if (which == "blur") o.blur_max = 3;
  if (which == "exposure") o.exposure_min = 0.25;
  if (which == "gamma") o.gamma_max = 2;
  if (which == "noise") o.noise_max = 0.05;
  if (which == "jpeg") o.jpeg_min = 10;
  return o;
}

}  // namespace

TEST(Degrade, IsTheIdentityWhenOffOrWithIdentityRanges) {
  const torch::Tensor x = line_images(2, 3, 32);
  EXPECT_TRUE(torch::equal(degrade(x, DegradeOptions{}), x));  // p = 0
  DegradeOptions o;
  o.p = 1;  // every range at its identity
  EXPECT_FALSE(active(o));
  EXPECT_TRUE(torch::equal(degrade(x, o), x));
}

TEST(Degrade, EachDegradationChangesTheImageAsItsFormulaSays) {
  const torch::Tensor x = line_images(4, 3, 48);
  torch::manual_seed(3);
  const torch::Tensor blurred = degrade(x, only("blur"));
  EXPECT_LT(edge_energy(blurred), 0.9 * edge_energy(x));
  EXPECT_NEAR(blurred.mean().item<double>(), x.mean().item<double>(), 0.01);  // blur keeps the mean

  const torch::Tensor dark = degrade(x, only("exposure"));
  const torch::Tensor ratio = dark.mean({1, 2, 3}) / x.mean({1, 2, 3});
  EXPECT_TRUE((ratio >= 0.25 - 1e-6).all().item<bool>() && (ratio <= 1 + 1e-6).all().item<bool>()) << ratio;
  EXPECT_LT(ratio.mean().item<double>(), 0.95);

  const torch::Tensor g = degrade(x, only("gamma"));  // x^g with g in [1/2, 2]: 0.8 goes to [0.64, 0.89]
  const double bright = g.select(3, 0).mean().item<double>();
  EXPECT_GE(bright, 0.64 - 1e-4);
  EXPECT_LE(bright, 0.8945);

  const torch::Tensor noisy = degrade(x, only("noise"));
  const double sd = (noisy - x).std().item<double>();
  EXPECT_GT(sd, 0.001);
  EXPECT_LT(sd, 0.05);

  const torch::Tensor jpeg = degrade(x, only("jpeg"));
  EXPECT_GT((jpeg - x).abs().max().item<double>(), 0.01);
  EXPECT_LT((jpeg - x).abs().mean().item<double>(), 0.2);

  for (const auto* y : {&blurred, &dark, &g, &noisy, &jpeg}) {
    EXPECT_EQ(y->sizes(), x.sizes());
    EXPECT_GE(y->min().item<double>(), 0.0);
    EXPECT_LE(y->max().item<double>(), 1.0);
  }
}

TEST(Degrade, DrawsFromTheSeededCpuGeneratorAndKeepsShapeAndDtypeOfGrayImages) {
  DegradeOptions o = only("blur");
  o.p = 0.5;
  o.exposure_min = 0.3;
  o.noise_max = 0.03;
  o.jpeg_min = 20;
  const torch::Tensor x = line_images(6, 1, 40);
  torch::manual_seed(11);
  const torch::Tensor a = degrade(x, o);
  torch::manual_seed(11);
  const torch::Tensor b = degrade(x, o);
  torch::manual_seed(12);
  const torch::Tensor c = degrade(x, o);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_EQ(a.sizes(), x.sizes());
  EXPECT_EQ(a.scalar_type(), x.scalar_type());
  // With p = 0.5 some samples are left alone and some are not.
  const torch::Tensor changed = (a - x).abs().amax({1, 2, 3}) > 0;
  EXPECT_GT(changed.sum().item<int64_t>(), 0);
}

TEST(Degrade, AugmentDegradesTheImageButNeverTheLabelOrMask) {
  AugmentOptions o;
  o.hflip = o.vflip = false;
  o.rotate_deg = 0;
  o.scale_min = o.scale_max = 1;
  o.translate = 0;
  o.brightness = o.contrast = o.saturation = o.hue = o.noise_std = 0;
  o.degrade = only("blur");
  const torch::Tensor x = line_images(2, 3, 32);
  const SegBatch in{x, (x.narrow(1, 0, 1) < 0.5).to(torch::kFloat), torch::ones({2, 1, 32, 32})};
  torch::manual_seed(5);
  const SegBatch out = augment(in, o);
  EXPECT_FALSE(torch::equal(out.image, in.image));
  EXPECT_TRUE(torch::equal(out.label, in.label));
  EXPECT_TRUE(torch::equal(out.mask, in.mask));
}

TEST(Degrade, ConfigRoundTripsAndRejectsUnknownKeysAndOutOfRangeValues) {
  AugmentOptions o;
  o.degrade = only("jpeg");
  o.degrade.blur_max = 2.5;
  const nlohmann::json j = o;
  const auto back = j.get<AugmentOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  // An old config without "degrade" keeps it off.
  auto old = j;
  old.erase("degrade");
  EXPECT_FALSE(active(old.get<AugmentOptions>().degrade));

  const std::string unknown = test::user_error(
      [] { nlohmann::json({{"degrade", {{"blurr", 2}}}}).get<AugmentOptions>(); });
  EXPECT_NE(unknown.find("blurr"), std::string::npos) << unknown;
  DegradeOptions bad;
  bad.jpeg_min = 0;
  const std::string range = test::user_error([&] { validate(bad); });
  EXPECT_NE(range.find("augment.degrade.jpeg_min"), std::string::npos) << range;
  bad = DegradeOptions{};
  bad.p = 1.5;
  EXPECT_NE(test::user_error([&] { validate(bad); }).find("augment.degrade.p"), std::string::npos);
}

}  // namespace vg
