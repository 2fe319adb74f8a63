#include "vesselgan/seg/sa_unet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "vesselgan/core/error.h"
#include "vesselgan/seg/losses.h"

namespace vg {
namespace {

SAUNetOptions tiny(const std::string& variant) {
  SAUNetOptions o;
  o.base_channels = 4;
  o.variant = variant;
  return o;
}

TEST(SAUNet, MapsImagesToOneLogitPerPixelForEveryVariant) {
  for (const char* variant : {"sa-unet", "sd-unet", "unet"}) {
    torch::manual_seed(0);
    SAUNet net(tiny(variant));
    for (bool training : {true, false}) {
      net->train(training);
      const torch::Tensor y = net->forward(torch::rand({2, 3, 32, 40}));
      EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 1, 32, 40})) << variant;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << variant;
    }
  }
}

TEST(SAUNet, CascadeRefinesTheFirstStageFromThePhotographAndItsProbability) {
  torch::manual_seed(0);
  SAUNetOptions o = tiny("sa-unet");
  o.refiner_channels = 4;
  o.refiner_depth = 2;
  SAUNet net(o);
  net->eval();
  ASSERT_TRUE(net->refiner());
  EXPECT_EQ(net->refiner()->options().in_channels, 4);  // 3 colour channels + the first stage's probability
  EXPECT_EQ(net->refiner()->options().variant, "unet");
  const torch::Tensor x = torch::rand({2, 3, 32, 40});
  const auto stages = net->forward_stages(x);
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[1].sizes(), torch::IntArrayRef({2, 1, 32, 40}));
  EXPECT_TRUE(torch::equal(net->forward(x), stages[1]));  // forward gives the refined logits
  // A fresh cascade is its first stage: the refiner's corrections start at zero.
  EXPECT_TRUE(torch::equal(stages[1], stages[0]));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->refiner()->parameters()) p.add_(0.05 * torch::randn_like(p));
  }
  const auto moved = net->forward_stages(x);
  const torch::Tensor by_hand =
      moved[0] + net->refiner()->forward(torch::cat({x, torch::sigmoid(moved[0])}, 1));
  EXPECT_TRUE(torch::allclose(moved[1], by_hand, 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(moved[1], moved[0], 1e-3, 1e-3));

  // Without a refiner: one stage, and it is what forward gives.
  SAUNet plain(tiny("sa-unet"));
  plain->eval();
  const auto one = plain->forward_stages(x);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(torch::equal(one[0], plain->forward(x)));
  EXPECT_FALSE(plain->refiner());
}

TEST(SAUNet, RejectsSidesThatAreNotMultiplesOfTwoToTheDepth) {
  SAUNet net(tiny("sa-unet"));
  try {
    net->forward(torch::rand({1, 3, 32, 36}));
    FAIL() << "expected an error for a 32x36 input at depth 3";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of 8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("32x36"), std::string::npos) << e.what();
  }
  EXPECT_THROW(net->forward(torch::rand({1, 1, 32, 32})), c10::Error);  // wrong channel count
}

TEST(SAUNet, PhaseDecomposedTransposedConvEqualsConvTranspose2d) {
  torch::manual_seed(3);
  torch::nn::ConvTranspose2d reference(
      torch::nn::ConvTranspose2dOptions(6, 5, 3).stride(2).padding(1).output_padding(1));
  for (bool channels_last : {false, true}) {
    torch::Tensor x = torch::randn({2, 6, 5, 7});
    if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    x.requires_grad_(true);
    const torch::Tensor want = reference->forward(x);
    const torch::Tensor got = conv_transpose3x3_stride2(x, reference->weight, reference->bias);
    ASSERT_EQ(got.sizes(), torch::IntArrayRef({2, 5, 10, 14}));
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << (got - want).abs().max().item<double>();
    // Same gradients for the input, the weight and the bias.
    const torch::Tensor g = torch::randn_like(want);
    const auto grads_want = torch::autograd::grad({want}, {x, reference->weight, reference->bias}, {g});
    const auto grads_got = torch::autograd::grad({got}, {x, reference->weight, reference->bias}, {g});
    for (size_t i = 0; i < grads_want.size(); ++i)
      EXPECT_TRUE(torch::allclose(grads_got[i], grads_want[i], 1e-4, 1e-5)) << "gradient " << i;
  }
}

TEST(SAUNet, ReturnsContiguousLogitsForAnyInputLayout) {
  torch::manual_seed(4);
  SAUNet net(tiny("sa-unet"));
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::rand({1, 3, 16, 24});
  const torch::Tensor a = net->forward(x);
  const torch::Tensor b = net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5));
}

TEST(SAUNet, HasThePapersParameterCount) {
  // A conv_block(cin, cout) = conv3x3 (9 cin cout + cout) + BN (2 cout)
  //                         + conv3x3 (9 cout^2 + cout) + BN (2 cout)
  //                         = 9 cin cout + 9 cout^2 + 6 cout.
  auto block = [](int64_t cin, int64_t cout) { return 9 * cin * cout + 9 * cout * cout + 6 * cout; };
  const int64_t e1 = block(3, 16);                   // 432 + 2304 + 96 = 2832
  const int64_t e2 = block(16, 32);                  // 4608 + 9216 + 192 = 14016
  const int64_t e3 = block(32, 64);                  // 18432 + 36864 + 384 = 55680
  const int64_t m1 = 9 * 64 * 128 + 128 + 2 * 128;   // 73728 + 128 + 256 = 74112
  const int64_t att = 2 * 7 * 7;                     // 98, no bias
  const int64_t m2 = 9 * 128 * 128 + 128 + 2 * 128;  // 147456 + 128 + 256 = 147840
  const int64_t u3 = 9 * 128 * 64 + 64;              // 73792
  const int64_t u2 = 9 * 64 * 32 + 32;               // 18464
  const int64_t u1 = 9 * 32 * 16 + 16;               // 4624
  const int64_t d3 = block(128, 64);                 // 73728 + 36864 + 384 = 110976
  const int64_t d2 = block(64, 32);                  // 18432 + 9216 + 192 = 27840
  const int64_t d1 = block(32, 16);                  // 4608 + 2304 + 96 = 7008
  const int64_t out = 16 + 1;                        // 1x1 conv 16 -> 1 with bias
  const int64_t total = e1 + e2 + e3 + m1 + att + m2 + u3 + u2 + u1 + d3 + d2 + d1 + out;
  ASSERT_EQ(total, 537299);  // "about 0.54 M" (Guo 2020)
  EXPECT_EQ(count_parameters(*SAUNet(SAUNetOptions{})), 537299);
  SAUNetOptions sd;
  sd.variant = "sd-unet";
  EXPECT_EQ(count_parameters(*SAUNet(sd)), 537299 - att);
  SAUNetOptions plain;
  plain.variant = "unet";
  EXPECT_EQ(count_parameters(*SAUNet(plain)), 537299 - att);  // DropBlock has no parameters
}

TEST(SAUNet, IsDeterministicInEvalAndStochasticInTraining) {
  torch::manual_seed(1);
  SAUNet net(tiny("sa-unet"));
  const torch::Tensor x = torch::rand({2, 3, 64, 64});
  net->eval();
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
  }
  net->train();
  EXPECT_FALSE(torch::equal(net->forward(x), net->forward(x)));  // DropBlock draws new blocks
  SAUNet plain(tiny("unet"));
  plain->train();
  EXPECT_TRUE(torch::allclose(plain->forward(x), plain->forward(x)));  // no DropBlock: batch statistics only
}

TEST(SAUNet, VariantsHoldTheirModules) {
  auto names = [](const SAUNetOptions& o) {
    std::string all;
    for (const auto& item : SAUNet(o)->named_modules()) all += item.key() + " ";
    return all;
  };
  const std::string sa = names(tiny("sa-unet")), sd = names(tiny("sd-unet")), plain = names(tiny("unet"));
  EXPECT_NE(sa.find("attention"), std::string::npos);
  EXPECT_NE(sa.find("enc0.layer1.drop"), std::string::npos);
  EXPECT_EQ(sd.find("attention"), std::string::npos);
  EXPECT_NE(sd.find("mid2.drop"), std::string::npos);
  EXPECT_EQ(plain.find("attention"), std::string::npos);
  EXPECT_EQ(plain.find("drop"), std::string::npos);
}

TEST(SAUNet, OptionsRoundTripThroughJsonAndValidate) {
  SAUNetOptions o;
  o.base_channels = 8;
  o.depth = 4;
  o.variant = "sd-unet";
  o.keep_prob = 0.9;
  const nlohmann::json j = o;
  const auto back = j.get<SAUNetOptions>();
  EXPECT_EQ(back.base_channels, 8);
  EXPECT_EQ(back.depth, 4);
  EXPECT_EQ(back.variant, "sd-unet");
  EXPECT_DOUBLE_EQ(back.keep_prob, 0.9);
  EXPECT_EQ(nlohmann::json::parse(R"({"depth": 2})").get<SAUNetOptions>().base_channels,
            16);  // defaults kept
  EXPECT_THROW(nlohmann::json::parse(R"({"dept": 2})").get<SAUNetOptions>(), UserError);

  // Without a cascade the JSON has the seed's keys only, so older checkpoints and ensembles compare equal.
  EXPECT_FALSE(j.contains("refiner_channels"));
  EXPECT_FALSE(j.contains("refiner_depth"));
  SAUNetOptions cascade;
  cascade.refiner_channels = 8;
  cascade.refiner_depth = 3;
  const auto cascade_back = nlohmann::json(cascade).get<SAUNetOptions>();
  EXPECT_EQ(cascade_back.refiner_channels, 8);
  EXPECT_EQ(cascade_back.refiner_depth, 3);
  EXPECT_THROW(nlohmann::json::parse(R"({"depth": "two"})").get<SAUNetOptions>(), UserError);

  auto invalid = [](auto edit) {
    SAUNetOptions bad;
    edit(bad);
    try {
      validate(bad);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("(valid)");
  };
  EXPECT_NO_THROW(validate(SAUNetOptions{}));
  EXPECT_NE(invalid([](auto& b) { b.variant = "resnet"; }).find("variant"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.base_channels = 0; }).find("base_channels"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.depth = 0; }).find("depth"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.depth = 7; }).find("1..6"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.block_size = 4; }).find("block_size"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.keep_prob = 0.0; }).find("keep_prob"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.keep_prob = 1.5; }).find("keep_prob"), std::string::npos);
  EXPECT_EQ(invalid([](auto& b) { b.keep_prob = 1.0; }), "(valid)");
  EXPECT_NE(invalid([](auto& b) { b.refiner_channels = -1; }).find("refiner_channels"), std::string::npos);
  EXPECT_NE(invalid([](auto& b) { b.refiner_channels = 8, b.refiner_depth = 4; }).find("refiner_depth"),
            std::string::npos);  // deeper than the first stage (3)
  EXPECT_EQ(invalid([](auto& b) { b.refiner_channels = 8, b.refiner_depth = 3; }), "(valid)");
  EXPECT_THROW(SAUNet(SAUNetOptions{3, 16, 9}), UserError);  // the constructor validates
}

// Runs a block with one intra-op thread: on 32x32 maps threads only add synchronisation (on a busy
// 2-core machine, 10x slower steps).
class SingleThread {
 public:
  SingleThread() : saved_(torch::get_num_threads()) { torch::set_num_threads(1); }
  ~SingleThread() { torch::set_num_threads(saved_); }

 private:
  int saved_;
};

// A real learning signal: a tiny SA-UNet fits one 32x32 vessel-like pattern.
TEST(SAUNet, OverfitsASingleImage) {
  SingleThread one_thread;
  torch::manual_seed(2);
  SAUNetOptions o;
  o.base_channels = 4;
  o.depth = 2;
  SAUNet net(o);
  // Target: two thin lines (a vertical and a diagonal "vessel"); input: the lines darker than the background
  // in every channel, plus fixed noise.
  torch::Tensor target = torch::zeros({1, 1, 32, 32});
  target.index_put_({0, 0, torch::indexing::Slice(), 10}, 1.0);
  for (int64_t i = 0; i < 32; ++i) target.index_put_({0, 0, i, (i + 5) % 32}, 1.0);
  const torch::Tensor x = (0.7 - 0.3 * target.expand({1, 3, 32, 32}) + 0.05 * torch::randn({1, 3, 32, 32}));
  const LossOptions loss_opt;  // bce+dice
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-2));
  auto eval_loss = [&] {
    net->eval();
    torch::NoGradGuard no_grad;
    const double l = segmentation_loss(net->forward(x), target, loss_opt).item<double>();
    net->train();
    return l;
  };
  const double before = eval_loss();
  for (int step = 0; step < 100; ++step) {
    adam.zero_grad();
    const torch::Tensor loss = segmentation_loss(net->forward(x), target, loss_opt);
    loss.backward();
    adam.step();
  }
  const double after = eval_loss();
  // Measured: 0.73 -> 0.057 (13x).
  EXPECT_LT(after, before / 8.0) << "loss before " << before << ", after " << after;
}

}  // namespace
}  // namespace vg
