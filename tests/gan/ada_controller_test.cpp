#include "vesselgan/gan/ada_controller.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vesselgan/core/error.h"

namespace {

using vg::AdaController;
using vg::AdaOptions;

AdaOptions ada(double p = 0) {
  AdaOptions o;
  o.p = p;
  return o;
}

// One D step with logits of the given sign on a batch.
void d_step(AdaController& c, double sign, int64_t batch) {
  c.accumulate(torch::full({batch, 1}, sign * 3.0));
}

TEST(AdaController, StepSizeIsBatchTimesIntervalOverSpeed) {
  // batch 16, interval 4, speed 500 kimg: each adjustment moves p by 64 / 500000.
  AdaController c(ada(0.5), 16);
  for (int i = 0; i < 3; ++i) {
    d_step(c, 1, 16);
    EXPECT_FALSE(c.step()) << "adjusted before `interval` steps";
  }
  d_step(c, 1, 16);
  EXPECT_TRUE(c.step());
  EXPECT_DOUBLE_EQ(c.r_t(), 1.0);
  EXPECT_DOUBLE_EQ(c.p(), 0.5 + 16.0 * 4 / 500000);
}

TEST(AdaController, PRisesWhenRealLogitsArePositive) {
  AdaOptions o = ada(0);
  o.interval = 1;
  o.speed_kimg = 0.1;  // 100 images for 0 -> 1
  AdaController c(o, 10);
  double last = c.p();
  for (int i = 0; i < 5; ++i) {
    d_step(c, 1, 10);
    EXPECT_TRUE(c.step());
    EXPECT_GT(c.p(), last);
    last = c.p();
  }
  EXPECT_NEAR(c.p(), 0.5, 1e-12);
  for (int i = 0; i < 20; ++i) {
    d_step(c, 1, 10);
    c.step();
  }
  EXPECT_DOUBLE_EQ(c.p(), 1.0);  // clamped
}

TEST(AdaController, PFallsToZeroWhenRealLogitsAreNegative) {
  AdaOptions o = ada(0.3);
  o.interval = 2;
  o.speed_kimg = 0.1;
  AdaController c(o, 10);
  d_step(c, -1, 10);
  c.step();
  d_step(c, -1, 10);
  EXPECT_TRUE(c.step());
  EXPECT_DOUBLE_EQ(c.r_t(), -1.0);
  EXPECT_NEAR(c.p(), 0.1, 1e-12);
  for (int i = 0; i < 10; ++i) {
    d_step(c, -1, 10);
    c.step();
  }
  EXPECT_DOUBLE_EQ(c.p(), 0.0);
}

TEST(AdaController, MeasuresTheMeanSignAgainstTheTarget) {
  // r_t = mean sign = (3 - 1) / 4 = 0.5 < 0.6: p falls; logits of 0 count as sign 0.
  AdaOptions o = ada(0.5);
  o.interval = 1;
  AdaController c(o, 4);
  c.accumulate(torch::tensor({2.0, 0.5, 1.0, -4.0}));
  EXPECT_TRUE(c.step());
  EXPECT_DOUBLE_EQ(c.r_t(), 0.5);
  EXPECT_LT(c.p(), 0.5);
  c.accumulate(torch::tensor({2.0, 0.0, 1.0, 1.0, 1.0}));  // 4 / 5 = 0.8 > 0.6: rises
  const double before = c.p();
  EXPECT_TRUE(c.step());
  EXPECT_DOUBLE_EQ(c.r_t(), 0.8);
  EXPECT_GT(c.p(), before);
}

TEST(AdaController, FixedModeKeepsP) {
  AdaOptions o = ada(0.25);
  o.mode = "fixed";
  o.interval = 1;
  AdaController c(o, 8);
  for (int i = 0; i < 10; ++i) {
    d_step(c, 1, 8);
    EXPECT_FALSE(c.step());
  }
  EXPECT_DOUBLE_EQ(c.p(), 0.25);
  EXPECT_DOUBLE_EQ(c.r_t(), 1.0);  // still measured, for the logs
}

TEST(AdaController, OffModeIsZero) {
  AdaOptions o = ada(0.7);
  o.mode = "off";
  AdaController c(o, 8);
  EXPECT_DOUBLE_EQ(c.p(), 0.0);
  for (int i = 0; i < 8; ++i) {
    d_step(c, 1, 8);
    EXPECT_FALSE(c.step());
  }
  EXPECT_DOUBLE_EQ(c.p(), 0.0);
}

TEST(AdaController, NothingAccumulatedMeansNoAdjustment) {
  AdaOptions o = ada(0.5);
  o.interval = 1;
  AdaController c(o, 8);
  EXPECT_FALSE(c.step());
  EXPECT_DOUBLE_EQ(c.p(), 0.5);
}

TEST(AdaController, StateRoundTripResumesMidInterval) {
  AdaOptions o = ada(0.4);
  o.interval = 3;
  AdaController a(o, 8);
  for (int i = 0; i < 3; ++i) {
    d_step(a, 1, 8);
    a.step();
  }
  d_step(a, -1, 8);  // one step into the next interval, pending sums
  a.step();
  const nlohmann::json s = a.state();

  AdaController b(o, 8);
  b.load_state(s);
  EXPECT_EQ(b.state(), s);
  EXPECT_DOUBLE_EQ(b.p(), a.p());
  EXPECT_DOUBLE_EQ(b.r_t(), a.r_t());
  for (AdaController* c : {&a, &b}) {  // both finish the interval identically
    d_step(*c, -1, 8);
    EXPECT_FALSE(c->step());
    d_step(*c, 1, 8);
    EXPECT_TRUE(c->step());
  }
  EXPECT_DOUBLE_EQ(b.r_t(), -1.0 / 3);
  EXPECT_DOUBLE_EQ(b.p(), a.p());
  EXPECT_THROW(b.load_state({{"p", 2.0}}), vg::UserError);
  EXPECT_THROW(b.load_state({{"q", 0.1}}), vg::UserError);
}

TEST(AdaOptions, JsonRoundTripAndValidation) {
  AdaOptions o;
  o.mode = "fixed";
  o.p = 0.2;
  o.interval = 8;
  const nlohmann::json j = o;
  const AdaOptions back = j.get<AdaOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_THROW(nlohmann::json({{"mod", "ada"}}).get<AdaOptions>(), vg::UserError);
  AdaOptions bad;
  bad.mode = "auto";
  EXPECT_THROW(vg::validate(bad), vg::UserError);
  bad = {};
  bad.speed_kimg = 0;
  EXPECT_THROW(AdaController(bad, 4), vg::UserError);
  EXPECT_THROW(AdaController(AdaOptions{}, 0), vg::UserError);
}

TEST(AdaController, AccumulatesCudaLogits) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  AdaOptions o = ada(0.5);
  o.interval = 2;
  AdaController c(o, 4);
  c.accumulate(torch::tensor({1.0f, -2.0f, 3.0f, 4.0f}).cuda());
  EXPECT_FALSE(c.step());
  c.accumulate(torch::tensor({1.0f, 1.0f, 1.0f, 1.0f}).cuda());
  EXPECT_TRUE(c.step());
  EXPECT_DOUBLE_EQ(c.r_t(), 0.75);
}

}  // namespace
