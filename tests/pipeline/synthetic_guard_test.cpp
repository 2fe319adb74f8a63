#include "vesselgan/pipeline/synthetic_guard.h"

#include "test_support.h"

namespace vg {

namespace {

Sample labelled(torch::Tensor label, torch::Tensor mask) {
  Sample s;
  s.id = "x";
  s.image = torch::zeros({3, label.size(1), label.size(2)});
  s.label = std::move(label);
  s.mask = std::move(mask);
  return s;
}

}  // namespace

TEST(SyntheticGuard, WholePhotographRangeIsTheFractionInsideEachFov) {
  auto a = torch::zeros({1, 10, 10}), b = torch::zeros({1, 10, 10});
  a.slice(1, 0, 1).fill_(1);  // 10 vessel pixels of 100
  b.slice(1, 0, 3).fill_(1);  // 30 of 100, but the FOV is the top half: 30 / 50
  auto half = torch::zeros({1, 10, 10});
  half.slice(1, 0, 5).fill_(1);
  const auto [lo, hi] = real_vessel_fraction_range({labelled(a, torch::ones({1, 10, 10})), labelled(b, half)}, 0, 0);
  EXPECT_DOUBLE_EQ(lo, 0.1);
  EXPECT_DOUBLE_EQ(hi, 0.6);
}

TEST(SyntheticGuard, CropRangeWeighsCropPositionsTowardVesselsLikeTheGenerator) {
  auto label = torch::zeros({1, 32, 32});
  label.slice(2, 0, 16).fill_(1);  // the left half is vessel
  const std::vector<Sample> real = {labelled(label, torch::ones({1, 32, 32}))};
  // 16 px crops on a stride of 2: 9 columns whose fractions are k / 8, k = 0..8.
  EXPECT_NEAR(real_vessel_fraction_range(real, 16, 0).first, 0.5, 1e-6);  // uniform positions
  EXPECT_NEAR(real_vessel_fraction_range(real, 16, 1).first, (204.0 / 64) / 4.5, 1e-6);  // sum f^2 / sum f
}

TEST(SyntheticGuard, NoCropInsideAnyFovIsAUserError) {
  const std::vector<Sample> real = {labelled(torch::zeros({1, 8, 8}), torch::ones({1, 8, 8}))};
  EXPECT_TRUE(test::contains(test::user_error([&] { real_vessel_fraction_range(real, 16, 0); }), "16 px crop"));
}

TEST(SyntheticGuard, EnforceNamesTheFailingFigureInOneLine) {
  SyntheticSetCheck c;
  c.what = "synthetic labels of run/generate";
  c.fraction_mean = 0.0094;
  c.real_min = 0.046;
  c.real_max = 0.063;
  c.real_view = "whole photographs, inside the FOV";
  const std::string err = test::user_error([&] { enforce(c); });
  EXPECT_TRUE(test::contains(err, "mean vessel fraction 0.0094 is outside the real labels' range 0.0460..0.0630")) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos);
  c.check_fraction = false;
  EXPECT_TRUE(test::contains(enforce(c), "not enforced"));
  c.check_fraction = true;
  c.fraction_mean = 0.05;
  c.label_f1 = 0.2;
  c.min_label_f1 = 0.5;
  EXPECT_TRUE(test::contains(test::user_error([&] { enforce(c); }), "label consistency F1 0.200"));
  c.label_f1 = 0.8;
  EXPECT_TRUE(test::contains(enforce(c), "label consistency F1 0.800"));
}

}  // namespace vg
