#include "vesselgan/gan/generator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>

#include "vesselgan/core/error.h"

namespace vg {
namespace {

// 32 px, narrow and shallow: fast on a CPU. Channels: 4..16 -> 16, 32 -> 8.
GeneratorOptions tiny_options() {
  GeneratorOptions o;
  o.z_dim = 16;
  o.w_dim = 16;
  o.mapping_layers = 2;
  o.resolution = 32;
  o.channel_base = 256;
  o.channel_max = 16;
  return o;
}

std::vector<std::string> names_of(torch::nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& p : m.named_parameters()) names.push_back("param " + p.key());
  for (const auto& b : m.named_buffers()) names.push_back("buffer " + b.key());
  return names;
}

TEST(Generator, OutputShapesForResolution32AndJointChannels) {
  torch::manual_seed(0);
  Generator G(tiny_options());
  EXPECT_EQ(G->num_ws(), 8);
  const auto z = torch::randn({2, 16});
  const auto ws = G->mapping(z);
  EXPECT_EQ(ws.sizes(), torch::IntArrayRef({2, 8, 16}));
  const auto img = G->synthesis(ws);
  EXPECT_EQ(img.sizes(), torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_TRUE(torch::isfinite(img).all().item<bool>());

  auto joint = tiny_options();
  joint.img_channels = 4;
  Generator Gj(joint);
  EXPECT_EQ(Gj->forward(z).sizes(), torch::IntArrayRef({2, 4, 32, 32}));

  auto r4 = tiny_options();
  r4.resolution = 4;
  EXPECT_EQ(Generator(r4)->num_ws(), 2);
}

TEST(Generator, TruncationPsiZeroGivesIdenticalImagesForDifferentZ) {
  torch::manual_seed(1);
  Generator G(tiny_options());
  G->eval();
  {
    torch::NoGradGuard no_grad;
    G->w_avg.copy_(torch::randn({16}));  // a non-trivial average
  }
  const auto z = torch::randn({3, 16});
  const auto img = G->forward(z, /*psi=*/0.0, NoiseMode::kConst);
  EXPECT_TRUE(torch::allclose(img[0], img[1], 0, 1e-6));
  EXPECT_TRUE(torch::allclose(img[0], img[2], 0, 1e-6));
  // ...while psi = 1 keeps them apart.
  const auto free = G->forward(z, 1.0, NoiseMode::kConst);
  EXPECT_GT((free[0] - free[1]).abs().max().item<double>(), 1e-3);
}

TEST(Generator, TruncationMovesTheFirstCutoffWsTowardTheAverage) {
  torch::manual_seed(2);
  Generator G(tiny_options());
  {
    torch::NoGradGuard no_grad;
    G->w_avg.copy_(torch::randn({16}));
  }
  const auto z = torch::randn({2, 16});
  const auto ws = G->mapping(z);
  const auto t = G->mapping(z, 0.25, /*truncation_cutoff=*/3);
  const auto avg = G->w_avg.view({1, 1, 16});
  const auto want_head = avg + 0.25 * (ws.slice(1, 0, 3) - avg);
  EXPECT_TRUE(torch::allclose(t.slice(1, 0, 3), want_head, 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(t.slice(1, 3, 8), ws.slice(1, 3, 8)));
}

TEST(Generator, UpdateWAvgMovesItTowardTheBatchMean) {
  torch::manual_seed(3);
  auto o = tiny_options();
  o.w_avg_beta = 0.9;
  Generator G(o);
  const auto z = torch::randn({4, 16});
  G->mapping(z);  // no update by default
  EXPECT_EQ(G->w_avg.abs().sum().item<double>(), 0.0);
  const auto ws = G->mapping(z, 1.0, -1, /*update_w_avg=*/true);
  // From 0: w_avg = lerp(mean, 0, 0.9) = 0.1 * mean
  const auto mean = ws.select(1, 0).mean(0);
  EXPECT_TRUE(torch::allclose(G->w_avg, 0.1 * mean, 1e-5, 1e-7));
  G->mapping(z, 1.0, -1, true);
  EXPECT_TRUE(torch::allclose(G->w_avg, 0.19 * mean, 1e-5, 1e-7));
  EXPECT_FALSE(G->w_avg.requires_grad());
}

TEST(Generator, SameSeedGivesTheSameNetworkAndImages) {
  const auto z = torch::randn({2, 16}, torch::TensorOptions().dtype(torch::kFloat));
  torch::manual_seed(4);
  Generator a(tiny_options());
  torch::manual_seed(4);
  Generator b(tiny_options());
  EXPECT_TRUE(torch::equal(a->forward(z, 1.0, NoiseMode::kConst), b->forward(z, 1.0, NoiseMode::kConst)));
  torch::manual_seed(9);
  const auto ra = a->forward(z, 1.0, NoiseMode::kRandom);
  torch::manual_seed(9);
  const auto rb = b->forward(z, 1.0, NoiseMode::kRandom);
  EXPECT_TRUE(torch::equal(ra, rb));
  torch::manual_seed(5);
  Generator c(tiny_options());
  EXPECT_FALSE(torch::allclose(a->forward(z, 1.0, NoiseMode::kConst), c->forward(z, 1.0, NoiseMode::kConst)));
}

TEST(Generator, NoiseModesDifferOnceNoiseStrengthIsNonZero) {
  torch::manual_seed(6);
  Generator G(tiny_options());
  const auto z = torch::randn({1, 16});
  // Noise strengths start at 0: all modes agree.
  EXPECT_TRUE(torch::allclose(G->forward(z, 1, NoiseMode::kRandom), G->forward(z, 1, NoiseMode::kNone)));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : G->named_parameters())
      if (p.key().find("noise_strength") != std::string::npos) p.value().fill_(0.5);
  }
  const auto c1 = G->forward(z, 1, NoiseMode::kConst), c2 = G->forward(z, 1, NoiseMode::kConst);
  EXPECT_TRUE(torch::equal(c1, c2));
  EXPECT_FALSE(torch::allclose(c1, G->forward(z, 1, NoiseMode::kNone)));
  EXPECT_FALSE(torch::allclose(G->forward(z, 1, NoiseMode::kRandom), G->forward(z, 1, NoiseMode::kRandom)));
}

TEST(Generator, ParameterNamesDependOnlyOnTheOptions) {
  torch::manual_seed(7);
  Generator a(tiny_options());
  torch::manual_seed(8);
  Generator b(tiny_options());
  const auto na = names_of(*a);
  EXPECT_EQ(na, names_of(*b));
  const std::set<std::string> s(na.begin(), na.end());
  EXPECT_EQ(s.size(), na.size()) << "a name is registered twice";
  for (const char* n : {"param mapping.fc0.weight", "param mapping.fc1.bias", "param synthesis.b4.const",
                        "param synthesis.b4.conv1.affine.weight", "param synthesis.b32.conv0.weight",
                        "param synthesis.b32.torgb.bias", "param synthesis.b8.conv1.noise_strength",
                        "buffer w_avg", "buffer synthesis.b32.conv0.noise_const"})
    EXPECT_EQ(s.count(n), 1u) << n;
  EXPECT_EQ(s.count("param synthesis.b4.conv0.weight"), 0u);
  auto quiet = tiny_options();
  quiet.use_noise = false;
  for (const auto& n : names_of(*Generator(quiet))) EXPECT_EQ(n.find("noise"), std::string::npos) << n;
}

TEST(Generator, FusedAndUnfusedModulatedConvolutionsComputeTheSameImages) {
  torch::manual_seed(10);
  Generator G(tiny_options());
  const auto ws = G->mapping(torch::randn({3, 16}));
  const auto unfused = G->synthesis(ws, NoiseMode::kConst);
  G->set_fused_modconv(true);
  const auto fused = G->synthesis(ws, NoiseMode::kConst);
  EXPECT_TRUE(torch::allclose(unfused, fused, 1e-4, 1e-5)) << (unfused - fused).abs().max().item<double>();
}

TEST(Generator, PathLengthDoubleBackwardThroughSynthesisWorks) {
  // Path-length regularization (Karras 2020, Sec. 3.2): grad of <img, y> w.r.t. ws with create_graph, then
  // backpropagate the penalty into the synthesis weights.
  torch::manual_seed(11);
  Generator G(tiny_options());
  G->train();
  const auto ws = G->mapping(torch::randn({2, 16})).detach().requires_grad_(true);
  const auto img = G->synthesis(ws, NoiseMode::kRandom);
  const auto y = torch::randn_like(img) / 32.0;
  const auto g =
      torch::autograd::grad({(img * y).sum()}, {ws}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const auto pen = g.square().sum(2).mean(1).sqrt().mean();
  pen.backward();
  int64_t with_grad = 0;
  for (const auto& p : G->named_parameters()) {
    if (!p.value().grad().defined()) continue;
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    if (p.value().grad().abs().sum().item<double>() > 0) ++with_grad;
  }
  EXPECT_GT(with_grad, 10);
  const torch::Tensor conv_w = G->named_parameters()["synthesis.b16.conv0.weight"];
  ASSERT_TRUE(conv_w.grad().defined());
  EXPECT_GT(conv_w.grad().abs().sum().item<double>(), 0.0);
}

TEST(GeneratorOptions, JsonRoundTrip) {
  GeneratorOptions o = tiny_options();
  o.mapping_lr_mul = 0.05;
  o.use_noise = false;
  o.conv_clamp = 0;
  o.w_avg_beta = 0.9;
  nlohmann::json j = o;
  const auto back = j.get<GeneratorOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.channel_max, 16);
  EXPECT_EQ(back.mapping_lr_mul, 0.05);
  EXPECT_FALSE(back.use_noise);
  EXPECT_THROW(nlohmann::json({{"resolutoin", 64}}).get<GeneratorOptions>(), UserError);
}

TEST(GeneratorOptions, ValidateRejectsNonPowerOfTwoResolutionInOneLine) {
  auto o = tiny_options();
  EXPECT_NO_THROW(validate(o));
  o.resolution = 48;
  try {
    validate(o);
    FAIL() << "resolution 48 accepted";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("generator.resolution"), std::string::npos) << msg;
    EXPECT_NE(msg.find("48"), std::string::npos) << msg;
    EXPECT_NE(msg.find("power of two"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  o = tiny_options();
  o.channel_base = 16;  // below the resolution: no channel at 32x32
  EXPECT_THROW(validate(o), UserError);
  EXPECT_THROW(Generator{o}, UserError);
}

}  // namespace
}  // namespace vg
