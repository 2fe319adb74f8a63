#include "vesselgan/gan/discriminator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "vesselgan/core/error.h"

namespace vg {
namespace {

DiscriminatorOptions tiny_options() {
  DiscriminatorOptions o;
  o.resolution = 32;
  o.channel_base = 256;
  o.channel_max = 16;
  return o;
}

TEST(Discriminator, GivesOneLogitPerImageForAnyBatchSize) {
  torch::manual_seed(0);
  Discriminator D(tiny_options());
  for (int64_t n : {1, 3, 4, 6, 8}) {  // 3 and 6 are not multiples of the group of 4
    const auto logits = D->forward(torch::randn({n, 3, 32, 32}));
    EXPECT_EQ(logits.sizes(), torch::IntArrayRef({n, 1}));
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  }
  auto joint = tiny_options();
  joint.img_channels = 4;
  EXPECT_EQ(Discriminator(joint)->forward(torch::randn({2, 4, 32, 32})).sizes(), torch::IntArrayRef({2, 1}));
}

TEST(Discriminator, ParameterNamesFollowTheReference) {
  torch::manual_seed(1);
  Discriminator a(tiny_options());
  Discriminator b(tiny_options());
  std::vector<std::string> na, nb;
  for (const auto& p : a->named_parameters()) na.push_back(p.key());
  for (const auto& p : b->named_parameters()) nb.push_back(p.key());
  EXPECT_EQ(na, nb);
  const auto params = a->named_parameters();
  for (const char* n : {"b32.fromrgb.weight", "b32.conv0.weight", "b32.conv1.bias", "b32.skip.weight",
                        "b8.conv1.weight", "b4.conv.weight", "b4.fc.weight", "b4.out.bias"})
    EXPECT_NE(params.find(n), nullptr) << n;
  EXPECT_EQ(params.find("b32.skip.bias"), nullptr);
  EXPECT_EQ(params.find("b16.fromrgb.weight"), nullptr);
  // b4.conv reads C + 1 channels (minibatch stddev); the fc sees C * 16 features.
  EXPECT_EQ(params["b4.conv.weight"].sizes(), torch::IntArrayRef({16, 17, 3, 3}));
  EXPECT_EQ(params["b4.fc.weight"].sizes(), torch::IntArrayRef({16, 256}));
  EXPECT_EQ(params["b32.fromrgb.weight"].sizes(), torch::IntArrayRef({8, 3, 1, 1}));
}

TEST(MinibatchStddev, GroupSizeFallsBackToADivisorOfTheBatch) {
  EXPECT_EQ(mbstd_group_size(4, 8), 4);
  EXPECT_EQ(mbstd_group_size(4, 2), 2);  // min(group, N)
  EXPECT_EQ(mbstd_group_size(4, 6), 3);
  EXPECT_EQ(mbstd_group_size(4, 5), 1);
  EXPECT_EQ(mbstd_group_size(1, 7), 1);
}

TEST(MinibatchStddev, AppendsTheHandComputedGroupStddev) {
  // Two samples, two channels, one pixel: stddevs |1 - 3| / 2 = 1 and |3 - 7| / 2 = 2, mean 1.5.
  const auto x = torch::tensor({1.0f, 3.0f, 3.0f, 7.0f}).view({2, 2, 1, 1});
  const auto y = minibatch_stddev(x, 4, 1);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 1, 1}));
  EXPECT_TRUE(torch::equal(y.slice(1, 0, 2), x));
  EXPECT_NEAR(y[0][2][0][0].item<double>(), 1.5, 1e-6);
  EXPECT_NEAR(y[1][2][0][0].item<double>(), 1.5, 1e-6);
  // Two channel sets: one map per set.
  const auto y2 = minibatch_stddev(x, 2, 2);
  EXPECT_NEAR(y2[0][2][0][0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(y2[0][3][0][0].item<double>(), 2.0, 1e-6);
}

TEST(MinibatchStddev, BatchOfSixUsesGroupsOfThreeInterleaved) {
  // N = 6, group 4 -> G = 3; sample i is in group i % 2: {0, 2, 4} and {1, 3, 5}.
  const auto x =
      torch::tensor({0.0f, 10.0f, 3.0f, 10.0f, 6.0f, 10.0f}).view({6, 1, 1, 1}).repeat({1, 1, 2, 2});
  const auto y = minibatch_stddev(x, 4, 1);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({6, 2, 2, 2}));
  for (int i = 0; i < 6; ++i) {
    const double want =
        i % 2 == 0 ? std::sqrt(6.0) : 1e-4;  // {0, 3, 6}: var (9 + 0 + 9) / 3; constant: sqrt(1e-8)
    EXPECT_NEAR(y[i][1][1][0].item<double>(), want, 1e-5) << i;
  }
}

TEST(Discriminator, R1DoubleBackwardReachesTheWeights) {
  // R1 (Mescheder 2018): ||d D(x) / dx||^2 with create_graph, then backpropagate into D's weights.
  torch::manual_seed(2);
  Discriminator D(tiny_options());
  const auto img = torch::randn({4, 3, 32, 32}).requires_grad_(true);
  const auto logits = D->forward(img);
  const auto g =
      torch::autograd::grad({logits.sum()}, {img}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const auto pen = g.square().sum({1, 2, 3}).mean();
  pen.backward();
  int64_t with_grad = 0;
  for (const auto& p : D->named_parameters()) {
    // Only the output bias does not enter dD/dx.
    ASSERT_EQ(p.value().grad().defined(), p.key() != "b4.out.bias") << p.key();
    if (!p.value().grad().defined()) continue;
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    if (p.value().grad().abs().sum().item<double>() > 0) ++with_grad;
  }
  EXPECT_GT(with_grad, 10);
  EXPECT_GT(D->named_parameters()["b32.conv0.weight"].grad().abs().sum().item<double>(), 0.0);
}

TEST(Discriminator, ConvClampBoundsTheActivations) {
  // With a tiny clamp a clamped layer's output stays within +-clamp (gain 1), whatever the input scale.
  torch::manual_seed(3);
  auto o = tiny_options();
  o.conv_clamp = 1e-3;
  Discriminator D(o);
  const auto x = D->blocks[0]->conv0->forward(torch::randn({2, 8, 32, 32}) * 100);
  EXPECT_LE(x.abs().max().item<double>(), 1e-3 + 1e-9);
}

TEST(DiscriminatorOptions, JsonRoundTripAndValidation) {
  auto o = tiny_options();
  o.mbstd_group = 2;
  o.mbstd_channels = 4;
  nlohmann::json j = o;
  const auto back = j.get<DiscriminatorOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.mbstd_channels, 4);
  EXPECT_THROW(nlohmann::json({{"mbstd", 2}}).get<DiscriminatorOptions>(), UserError);

  EXPECT_NO_THROW(validate(o));
  o.resolution = 100;
  try {
    validate(o);
    FAIL() << "resolution 100 accepted";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("discriminator.resolution"), std::string::npos) << msg;
    EXPECT_NE(msg.find("power of two"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  o = tiny_options();
  o.mbstd_channels = 3;  // 16 channels at 4x4 do not split into 3 sets
  EXPECT_THROW(validate(o), UserError);
}

}  // namespace
}  // namespace vg
