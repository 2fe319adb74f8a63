#include "vesselgan/gan/equalized.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace vg {
namespace {

TEST(EqualLinear, ScalesWeightByLrMulOverSqrtFanInAndBiasByLrMul) {
  EqualLinear fc(4, 2, true, /*bias_init=*/2.0, /*lr_mul=*/0.5, "linear");
  {
    torch::NoGradGuard no_grad;
    fc->weight.fill_(1.0);
  }
  const auto x = torch::tensor({{1.0f, 2.0f, 3.0f, 4.0f}});
  // (0.5 / sqrt(4)) * 10 + 2 * 0.5 = 3.5
  const auto y = fc->forward(x);
  EXPECT_TRUE(torch::allclose(y, torch::full({1, 2}, 3.5), 1e-6, 1e-6)) << y;
}

TEST(EqualLinear, StoresWeightsAsUnitGaussianOverLrMul) {
  torch::manual_seed(0);
  EqualLinear fc(256, 256, true, 0.0, 0.01, "lrelu");
  const double std = fc->weight.std().item<double>();
  EXPECT_NEAR(std, 100.0, 3.0);
  EXPECT_EQ(fc->named_parameters().size(), 2u);
  EXPECT_EQ(EqualLinear(3, 3, false)->named_parameters().size(), 1u);
}

TEST(BiasAct, LeakyReluHasSlopePointTwoAndGainSqrtTwo) {
  const auto x = torch::tensor({-1.0f, 2.0f}).view({1, 2});
  const auto bias = torch::tensor({0.5f, -1.0f});
  const auto y = bias_act(x, bias, true);
  const double g = std::sqrt(2.0);
  EXPECT_NEAR(y[0][0].item<double>(), -0.5 * 0.2 * g, 1e-6);
  EXPECT_NEAR(y[0][1].item<double>(), 1.0 * g, 1e-6);
  const auto clamped = bias_act(x * 100, {}, false, 2.0, 50.0);
  EXPECT_NEAR(clamped[0][0].item<double>(), -50.0, 1e-6);
  EXPECT_NEAR(clamped[0][1].item<double>(), 50.0, 1e-6);
}

TEST(EqualConv2d, DownsamplingOneByOneOnAConstantImageKeepsTheInteriorLevel) {
  // weight 1 everywhere, gain 1 / sqrt(in): each output is sum_i x_i / sqrt(in) = 3 * 2 / sqrt(3).
  EqualConv2d conv(3, 2, 1, false, "linear", 1, 2);
  {
    torch::NoGradGuard no_grad;
    conv->weight.fill_(1.0);
  }
  const auto y = conv->forward(torch::full({1, 3, 8, 8}, 2.0));
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 2, 4, 4}));
  EXPECT_NEAR(y[0][1][2][1].item<double>(), 6.0 / std::sqrt(3.0), 1e-5);
  EXPECT_EQ(conv->named_buffers().size(), 1u);  // the FIR filter
}

TEST(EqualConv2d, ResamplingShapes) {
  torch::manual_seed(0);
  const auto x = torch::randn({2, 3, 8, 8});
  EXPECT_EQ(EqualConv2d(3, 5, 3, true, "lrelu")->forward(x).sizes(), torch::IntArrayRef({2, 5, 8, 8}));
  EXPECT_EQ(EqualConv2d(3, 5, 3, true, "lrelu", 1, 2)->forward(x).sizes(), torch::IntArrayRef({2, 5, 4, 4}));
  EXPECT_EQ(EqualConv2d(3, 5, 3, true, "lrelu", 2, 1)->forward(x).sizes(),
            torch::IntArrayRef({2, 5, 16, 16}));
}

}  // namespace
}  // namespace vg
