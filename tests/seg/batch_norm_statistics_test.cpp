#include "vesselgan/seg/batch_norm_statistics.h"

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg {

namespace {

// A tiny SA-UNet in evaluation mode, its convolutions scaled up so the activations' variance dwarfs BatchNorm's
// epsilon, with running statistics that differ from any photograph's (one training-mode pass on noise).
SAUNet tiny_net() {
  torch::manual_seed(4);
  SAUNetOptions o;
  o.base_channels = 4;
  SAUNet net(o);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.mul_(8);
  net->train();
  net->forward(torch::rand({2, 3, 48, 48}) * 0.5 + 0.25);
  net->eval();
  return net;
}

}  // namespace

TEST(BatchNormStatistics, DistanceIsZeroForIdenticalStatisticsAndGrowsWithTheShift) {
  BatchNormStatistics a{{torch::zeros({4}), torch::ones({2})}, {torch::ones({4}), torch::ones({2})}};
  EXPECT_NEAR(statistics_distance(a, a), 0.0, 1e-12);
  BatchNormStatistics b = a, c = a;
  b.mean[0] = torch::full({4}, 0.5);
  c.mean[0] = torch::full({4}, 1.0);
  // Per channel 0.5 * dm^2 * (1/va + 1/vb) = dm^2 (variances 1): layer 0 gives dm^2, layer 1 gives 0.
  EXPECT_NEAR(statistics_distance(a, b), 0.25 / 2, 1e-4);
  EXPECT_NEAR(statistics_distance(a, c), 1.0 / 2, 1e-4);
  BatchNormStatistics wide = a;
  wide.var[1] = torch::full({2}, 4.0);  // 0.5 * (4 + 1/4 - 2) = 1.125 on layer 1
  EXPECT_NEAR(statistics_distance(a, wide), 1.125 / 2, 1e-4);
  EXPECT_NEAR(statistics_distance(wide, a), statistics_distance(a, wide), 1e-12);  // symmetric
}

TEST(BatchNormStatistics, InputStatisticsLeaveTheNetworkAsItWas) {
  SAUNet net = tiny_net();
  const BatchNormStatistics before = running_statistics(*net);
  const auto x = torch::rand({1, 3, 32, 32});
  const BatchNormStatistics own = input_statistics(*net, [&] { net->forward(x); });
  const BatchNormStatistics after = running_statistics(*net);
  ASSERT_EQ(own.mean.size(), before.mean.size());
  EXPECT_GT(statistics_distance(own, before), 1e-3) << "the photograph's statistics were not measured";
  for (size_t i = 0; i < before.mean.size(); ++i) {
    EXPECT_TRUE(after.mean[i].equal(before.mean[i])) << "layer " << i;
    EXPECT_TRUE(after.var[i].equal(before.var[i])) << "layer " << i;
  }
  for (const auto& module : net->modules()) EXPECT_FALSE(module->is_training());
  for (auto* bn : batch_norm_layers(*net)) EXPECT_NEAR(bn->options.momentum().value(), 0.1, 1e-12);
  EXPECT_THROW(input_statistics(*net, [] { throw std::runtime_error("forward failed"); }), std::runtime_error);
  for (const auto& module : net->modules()) EXPECT_FALSE(module->is_training());
}

TEST(BatchNormStatistics, MixedStatisticsBlendTheTwoAndGoFromTheRunningOnesAtZeroToTrainingModeAtOne) {
  SAUNet net = tiny_net();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({1, 3, 64, 64}) * 0.3;  // darker than the noise the running statistics saw
  const auto plain = net->forward(x);
  const BatchNormStatistics own = input_statistics(*net, [&] { net->forward(x); });
  const BatchNormStatistics running = running_statistics(*net);
  torch::Tensor at_zero, at_one;
  {
    const MixedStatisticsScope mixed(*net, own, 0.0);
    at_zero = net->forward(x);
  }
  {
    const MixedStatisticsScope mixed(*net, own, 1.0);
    at_one = net->forward(x);
  }
  {
    const MixedStatisticsScope mixed(*net, own, 0.25);
    const BatchNormStatistics used = running_statistics(*net);
    for (size_t i = 0; i < used.mean.size(); ++i) {
      EXPECT_TRUE(torch::allclose(used.mean[i], 0.25 * own.mean[i] + 0.75 * running.mean[i])) << "layer " << i;
      EXPECT_TRUE(torch::allclose(used.var[i], 0.25 * own.var[i] + 0.75 * running.var[i])) << "layer " << i;
    }
  }
  EXPECT_TRUE(at_zero.equal(plain));
  for (auto* bn : batch_norm_layers(*net)) {
    bn->options.momentum(0.0);
    bn->train(true);
  }
  const auto training_mode = net->forward(x);
  net->eval();
  const double gap = (plain - training_mode).abs().mean().item<double>();
  EXPECT_GT(gap, 0.05) << "the photograph's statistics do not matter here: the test would prove nothing";
  // Equal but for the unbiased variance the running buffers keep (the deepest layer sees 8 x 8 pixels).
  EXPECT_LT((at_one - training_mode).abs().mean().item<double>(), 0.05 * gap);
  EXPECT_TRUE(net->forward(x).equal(plain)) << "the running statistics were not restored";
}

TEST(ImageStatisticsWeight, IsZeroUpToLowOneFromHighAndLinearBetween) {
  const StatisticsRange r{0.1, 0.3};
  EXPECT_EQ(image_statistics_weight(0.0, r), 0.0);
  EXPECT_EQ(image_statistics_weight(0.1, r), 0.0);
  EXPECT_NEAR(image_statistics_weight(0.2, r), 0.5, 1e-12);
  EXPECT_EQ(image_statistics_weight(0.3, r), 1.0);
  EXPECT_EQ(image_statistics_weight(5.0, r), 1.0);
  const StatisticsRange sw{0.1, 0.1};
  EXPECT_EQ(image_statistics_weight(0.1, sw), 0.0);
  EXPECT_EQ(image_statistics_weight(0.1001, sw), 1.0);
}

TEST(StatisticsRange, ValidationRejectsNegativeInvertedAndNonFiniteRanges) {
  EXPECT_NO_THROW(validate(StatisticsRange{0.1, 0.2}, "r"));
  EXPECT_NO_THROW(validate(StatisticsRange{0.1, 0.1}, "r"));
  EXPECT_THROW(validate(StatisticsRange{-0.1, 0.2}, "r"), UserError);
  EXPECT_THROW(validate(StatisticsRange{0.3, 0.2}, "r"), UserError);
  EXPECT_THROW(validate(StatisticsRange{0.1, std::nan("")}, "r"), UserError);
  const StatisticsRange back = nlohmann::json(StatisticsRange{0.1, 0.25}).get<StatisticsRange>();
  EXPECT_EQ(back.low, 0.1);
  EXPECT_EQ(back.high, 0.25);
}

}  // namespace vg
