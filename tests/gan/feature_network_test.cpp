#include "vesselgan/gan/feature_network.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/sa_unet.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {
namespace {

// A freshly initialised tiny SA-UNet (base 4, depth 3) saved as vesselgan train saves it.
std::string save_tiny_sa_unet(const std::filesystem::path& path) {
  torch::manual_seed(0);
  TrainOptions opt;
  opt.model.base_channels = 4;
  SAUNet model(opt.model);
  CheckpointHeader h;
  h.kind = kSegCheckpointKind;
  h.config = {{"train", opt}};
  save_checkpoint(path, h, *model);
  return path.string();
}

// color-stats layout: per scale 27 values = 3 channels x (mean, std, q10, q50, q90), then 3 x (gradient
// mean, std, q50, q90).
// Population standard deviation over the last dimension.
torch::Tensor pstd(const torch::Tensor& t) { return (t - t.mean(-1, true)).square().mean(-1).sqrt(); }

int64_t pixel_stat(int scale, int channel, int stat) { return scale * 27 + channel * 5 + stat; }
int64_t grad_stat(int scale, int channel, int stat) { return scale * 27 + 15 + channel * 4 + stat; }

TEST(ColorStatsFeatures, OfAConstantImageAreItsColourAndZeroSpread) {
  auto net = make_feature_network("color-stats", torch::kCPU);
  EXPECT_EQ(net->name(), "color-stats");
  const auto img = torch::tensor({0.2f, 0.5f, 0.8f}).view({1, 3, 1, 1}).expand({2, 3, 16, 24});
  const auto f = net->features(img);
  ASSERT_EQ(f.sizes(), torch::IntArrayRef({2, 81}));
  EXPECT_EQ(f.scalar_type(), torch::kFloat);
  const float colour[3] = {0.2f, 0.5f, 0.8f};
  for (int s = 0; s < 3; ++s)
    for (int c = 0; c < 3; ++c) {
      for (int stat : {0, 2, 3, 4}) EXPECT_NEAR(f[1][pixel_stat(s, c, stat)].item<float>(), colour[c], 1e-6);
      EXPECT_NEAR(f[1][pixel_stat(s, c, 1)].item<float>(), 0.f, 1e-6);
      for (int stat = 0; stat < 4; ++stat) EXPECT_NEAR(f[1][grad_stat(s, c, stat)].item<float>(), 0.f, 1e-6);
    }
}

TEST(ColorStatsFeatures, GradientOfARampDoublesWithEachPoolingScale) {
  // x[w] = 0.01 w: forward differences are 0.01; 2x2 average pooling makes steps of 0.02, then 0.04.
  const auto ramp = (torch::arange(32, torch::kFloat) * 0.01f).view({1, 1, 1, 32}).expand({1, 3, 16, 32});
  const auto f = make_color_stats_network(torch::kCPU)->features(ramp);
  for (int s = 0; s < 3; ++s) {
    const float step = 0.01f * static_cast<float>(1 << s);
    EXPECT_NEAR(f[0][grad_stat(s, 1, 0)].item<float>(), step, 1e-5) << "scale " << s;
    EXPECT_NEAR(f[0][grad_stat(s, 1, 1)].item<float>(), 0.f, 1e-5) << "scale " << s;
    EXPECT_NEAR(f[0][grad_stat(s, 1, 3)].item<float>(), step, 1e-5) << "scale " << s;
  }
  // Pixel median of 0, 0.01, ..., 0.31 is 0.155 at every scale (pooling keeps a linear ramp's median).
  EXPECT_NEAR(f[0][pixel_stat(0, 0, 3)].item<float>(), 0.155f, 1e-5);
  EXPECT_NEAR(f[0][pixel_stat(2, 0, 3)].item<float>(), 0.155f, 1e-5);
}

TEST(ColorStatsFeatures, DoNotDependOnTheBatch) {
  torch::manual_seed(0);
  const auto x = torch::rand({3, 3, 20, 20});
  auto net = make_color_stats_network(torch::kCPU);
  const auto all = net->features(x);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::allclose(all[i], net->features(x.slice(0, i, i + 1))[0], 1e-6, 1e-6));
}

TEST(SAUNetEncode, ReturnsEveryEncoderLevelAndTheBottleneck) {
  torch::manual_seed(0);
  SAUNetOptions o;
  o.base_channels = 4;
  SAUNet net(o);
  net->eval();
  const auto levels = net->encode(torch::rand({2, 3, 32, 48}));
  ASSERT_EQ(levels.size(), 4u);
  EXPECT_EQ(levels[0].sizes(), torch::IntArrayRef({2, 4, 32, 48}));
  EXPECT_EQ(levels[1].sizes(), torch::IntArrayRef({2, 8, 16, 24}));
  EXPECT_EQ(levels[2].sizes(), torch::IntArrayRef({2, 16, 8, 12}));
  EXPECT_EQ(levels[3].sizes(), torch::IntArrayRef({2, 32, 4, 6}));
  EXPECT_GE(levels[3].min().item<float>(), 0.f);  // the bottleneck ends in BatchNorm + ReLU
}

TEST(SAUNetEncoderFeatures, AreMeanAndStdOfEachEncodedLevel) {
  test::ScratchDir dir("feature_network_sa_unet");
  const auto ckpt = save_tiny_sa_unet(dir.path() / "tiny.pt");
  auto net = make_feature_network("sa-unet:" + ckpt, torch::kCPU);
  EXPECT_EQ(net->name(), "sa-unet-encoder(" + ckpt + ")");
  torch::manual_seed(1);
  const auto img = torch::rand({2, 3, 32, 40});  // sides already multiples of 8: no resize
  const auto f = net->features(img);
  ASSERT_EQ(f.sizes(), torch::IntArrayRef({2, 2 * 4 * 15}));  // 2 x (4 + 8 + 16 + 32) channels
  // Recompute from the same weights.
  TrainOptions opt;
  opt.model.base_channels = 4;
  SAUNet model(opt.model);
  load_checkpoint(ckpt, kSegCheckpointKind, *model, torch::kCPU);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto levels = model->encode(img);
  const auto l0 = levels[0].flatten(2), l3 = levels[3].flatten(2);
  EXPECT_TRUE(torch::allclose(f.slice(1, 0, 4), l0.mean(-1), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(f.slice(1, 4, 8), pstd(l0), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(f.slice(1, 56, 88), l3.mean(-1), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(f.slice(1, 88, 120), pstd(l3), 1e-4, 1e-5));
}

TEST(SAUNetEncoderFeatures, ResizeImagesToMultiplesOfTheNetsSizeMultiple) {
  test::ScratchDir dir("feature_network_sa_unet_odd");
  auto net = make_feature_network("sa-unet:" + save_tiny_sa_unet(dir.path() / "tiny.pt"), torch::kCPU);
  // 37x53 -> 40x56; a constant image stays constant under resizing, so it equals the 40x56 result.
  const auto c = torch::full({1, 3, 1, 1}, 0.4f);
  EXPECT_TRUE(torch::allclose(net->features(c.expand({1, 3, 37, 53})),
                              net->features(c.expand({1, 3, 40, 56})), 1e-5, 1e-6));
}

TEST(TorchScriptFeatures, FeedTheModule299x299ImagesAndFlattenItsFirstOutput) {
  test::ScratchDir dir("feature_network_torchscript");
  torch::jit::Module m("Stub");
  m.define(R"(
def forward(self, x):
    side = torch.full([x.size(0), 1], float(x.size(2) * 1000 + x.size(3)))
    return (torch.cat([x.mean(dim=[2, 3]), side], 1).view(x.size(0), 4, 1, 1), x)
)");
  const auto path = (dir.path() / "stub.pt").string();
  m.save(path);
  auto net = make_feature_network("torchscript:" + path, torch::kCPU);
  EXPECT_EQ(net->name(), "torchscript(" + path + ")");
  const auto img = torch::tensor({0.1f, 0.3f, 0.7f}).view({1, 3, 1, 1}).expand({2, 3, 40, 64});
  const auto f = net->features(img);
  ASSERT_EQ(f.sizes(), torch::IntArrayRef({2, 4}));
  EXPECT_TRUE(torch::allclose(f[1], torch::tensor({0.1f, 0.3f, 0.7f, 299299.f}), 1e-5, 1e-6)) << f;
}

TEST(MakeFeatureNetwork, RejectsUnknownSpecsAndMissingFilesWithOneLine) {
  auto one_line_error = [](const std::string& spec) {
    try {
      make_feature_network(spec, torch::kCPU);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no UserError");
  };
  for (const std::string spec : {"inception", "sa-unet:", "sa-unet:/no/such/model.pt",
                                 "torchscript:", "torchscript:/no/such/net.pt"}) {
    const std::string msg = one_line_error(spec);
    EXPECT_NE(msg, "no UserError") << spec;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_NE(one_line_error("inception").find("color-stats"), std::string::npos);
  EXPECT_NE(one_line_error("torchscript:/no/such/net.pt").find("/no/such/net.pt"), std::string::npos);
}

TEST(MakeFeatureNetwork, DefaultNeedsTheShippedModel) {
  test::ScratchDir empty("feature_network_no_models");
  const char* old = std::getenv("VESSELGAN_MODEL_DIR");
  const std::string saved = old ? old : "";
  setenv("VESSELGAN_MODEL_DIR", empty.path().c_str(), 1);
  try {
    make_feature_network("", torch::kCPU);
    ADD_FAILURE() << "expected a UserError for the missing shipped model";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("sa-unet-drive.pt"), std::string::npos) << e.what();
  }
  save_tiny_sa_unet(empty.path() / "sa-unet-drive.pt");
  EXPECT_EQ(make_feature_network("", torch::kCPU)->name(),
            "sa-unet-encoder(" + (empty.path() / "sa-unet-drive.pt").string() + ")");
  if (old)
    setenv("VESSELGAN_MODEL_DIR", saved.c_str(), 1);
  else
    unsetenv("VESSELGAN_MODEL_DIR");
}

}  // namespace
}  // namespace vg
