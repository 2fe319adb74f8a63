#include "vesselgan/eval/operating_point.h"

#include <torch/torch.h>

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

TEST(OperatingPoint, ExpectedCountCutsWhereAsManyPixelsLieAboveAsTheMapsSummedProbability) {
  // 10 pixels at 0.9, 10 at 0.3, 80 at 0: sum 12, so the cut keeps the 10 at 0.9 and 2 of the 0.3s;
  // the 12th largest is 0.3.
  torch::Tensor p = torch::zeros({100});
  p.slice(0, 0, 10).fill_(0.9);
  p.slice(0, 10, 20).fill_(0.3);
  EXPECT_NEAR(expected_count_threshold(p, torch::Tensor()), 0.3, 1e-6);
  // A ratio scales the count: 0.5 * 12 = 6 pixels, all at 0.9; 1.5 * 12 = 18, so still within the 0.3s.
  EXPECT_NEAR(expected_count_threshold(p, torch::Tensor(), 0.5), 0.9, 1e-6);
  EXPECT_NEAR(expected_count_threshold(p, torch::Tensor(), 1.5), 0.3, 1e-6);
  EXPECT_NEAR(expected_count_threshold(p, torch::Tensor(), 2.0), 0.02, 1e-12);  // 24: into the zeros, clamped
  // A confident map (0 or 1) keeps exactly its ones: the threshold is 1 clamped to max_t.
  torch::Tensor hard = torch::zeros({100});
  hard.slice(0, 0, 25).fill_(1);
  EXPECT_DOUBLE_EQ(expected_count_threshold(hard, torch::Tensor(), 0.02, 0.98), 0.98);
  // Only the region counts: 100 more pixels at 0.2 outside it would lower the cut to 0.2 (sum 32).
  const torch::Tensor wider = torch::cat({p, torch::full({100}, 0.2)});
  const torch::Tensor region = torch::cat({torch::ones({100}), torch::zeros({100})});
  EXPECT_NEAR(expected_count_threshold(wider, torch::Tensor()), 0.2, 1e-6);
  EXPECT_NEAR(expected_count_threshold(wider, region), 0.3, 1e-6);
  // Empty region or nothing expected: 0.5 (the map stays as it is).
  EXPECT_DOUBLE_EQ(expected_count_threshold(p, torch::zeros({100})), 0.5);
  EXPECT_DOUBLE_EQ(expected_count_threshold(torch::zeros({100}), torch::Tensor()), 0.5);
}

TEST(OperatingPoint, FadedVesselsGetALowerThresholdAndALitBackgroundAHigherOne) {
  // Vessels (10%) and background as a calibrated map draws them, then the same scene faded (a blurred
  // photograph: vessel probabilities pulled down) and lit up (another camera: background pulled up).
  torch::manual_seed(1);
  const int64_t n = 20000;
  const torch::Tensor vessel = torch::arange(n) < n / 10;
  const torch::Tensor clean = torch::where(vessel, 0.75 + 0.2 * torch::rand({n}), 0.05 * torch::rand({n}));
  const torch::Tensor faded = torch::where(vessel, 0.15 + 0.3 * torch::rand({n}), 0.03 * torch::rand({n}));
  const torch::Tensor lit = torch::where(vessel, 0.8 + 0.2 * torch::rand({n}),
                                         torch::where(torch::arange(n) < n / 4, 0.6 + 0.1 * torch::rand({n}),
                                                      0.05 * torch::rand({n})));
  auto found = [&](const torch::Tensor& p) {
    const torch::Tensor cut = apply_operating_point(p, torch::Tensor(), "expected-count") > 0.5;
    return (cut & vessel).sum().item<double>() / vessel.sum().item<double>();
  };
  auto false_positives = [&](const torch::Tensor& p) {
    const torch::Tensor cut = apply_operating_point(p, torch::Tensor(), "expected-count") > 0.5;
    return (cut & ~vessel).sum().item<double>() / n;
  };
  EXPECT_GT(found(clean), 0.99);
  EXPECT_LT(false_positives(clean), 0.01);
  EXPECT_EQ(((faded > 0.5) & vessel).sum().item<int64_t>(), 0);  // at 0.5 the faded vessels are all lost
  // The rule corrects by as much as the map's own sum allows. Faded: sum ~ 2000 * 0.3 + 18000 * 0.015 = 870
  // pixels kept, all of them vessels: 43% of the vessels found instead of none.
  EXPECT_NEAR(found(faded), 0.435, 0.03);
  EXPECT_LT(false_positives(faded), 0.001);
  // Lit: at 0.5 the 3000 lit background pixels (15%) are all false; the sum ~ 2000 * 0.9 + 3000 * 0.65 +
  // 15000 * 0.025 = 4125 keeps the vessels and the brightest 2125 of them (10.6%).
  EXPECT_NEAR(((lit > 0.5) & ~vessel).sum().item<double>() / n, 0.15, 1e-9);
  EXPECT_NEAR(false_positives(lit), 0.106, 0.01);
  EXPECT_GT(found(lit), 0.99);
}

TEST(OperatingPoint, TheRemapPutsTheThresholdAtOneHalfAndKeepsTheRanking) {
  const torch::Tensor p = torch::linspace(0, 1, 101);
  for (const double t : {0.1, 0.5, 0.8}) {
    const torch::Tensor q = move_threshold_to_half(p, t);
    EXPECT_NEAR(move_threshold_to_half(torch::tensor({t}), t).item<double>(), 0.5, 1e-6) << t;
    EXPECT_TRUE((q.slice(0, 1) >= q.slice(0, 0, -1)).all().item<bool>()) << t;  // monotone
    EXPECT_TRUE(torch::equal((q > 0.5), (p > t))) << t;
    EXPECT_NEAR(q[0].item<double>(), 0, 1e-7);
    EXPECT_NEAR(q[100].item<double>(), 1, 1e-6);
  }
  EXPECT_TRUE(torch::equal(apply_operating_point(p, torch::Tensor(), "fixed"), p));
}

TEST(OperatingPoint, AnUnknownRuleIsAOneLineErrorNamingTheValidOnes) {
  try {
    check_operating_point_rule("otsu", "--operating-point");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--operating-point = 'otsu'"), std::string::npos) << m;
    EXPECT_NE(m.find("fixed | expected-count"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  EXPECT_THROW(apply_operating_point(torch::zeros({4}), torch::Tensor(), "otsu"), UserError);
}

TEST(OperatingPoint, CountRatioIsThePixelsAboveOneHalfOverTheSummedProbabilityPooledInsideTheRegions) {
  // Map 1: 0.9, 0.6, 0.2, 0.1 inside its region (2 above 0.5, sum 1.8), and a 1.0 outside it that must not count.
  const auto p1 = torch::tensor({0.9, 0.6, 0.2, 0.1, 1.0});
  const auto r1 = torch::tensor({1, 1, 1, 1, 0});
  // Map 2, no region: 0.5 counts as above (the protocol cuts at >= 0.5); sum 0.7.
  const auto p2 = torch::tensor({0.5, 0.2});
  EXPECT_NEAR(count_ratio_of({p1, p2}, {r1, torch::Tensor()}), 3.0 / 2.5, 1e-6);
  EXPECT_NEAR(count_ratio_of({p1}, {r1}), 2.0 / 1.8, 1e-6);
  EXPECT_NE(test::user_error([] { count_ratio_of({torch::full({4}, 0.3)}, {torch::Tensor()}); }).find("no pixel"),
            std::string::npos);
}

}  // namespace vg
