// Growing a trained low-resolution GAN into a higher-resolution run (--init RUN --grow): what is copied, what
// the grown generator draws before it trains, and which inits are refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "phantom_samples.h"
#include "test_support.h"
#include "tiny_gan.h"
#include "vesselgan/core/error.h"
#include "vesselgan/gan/fir_filter.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/grow_networks.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

GanTrainOptions label_options(int64_t resolution) { return test::tiny_gan("label64", resolution, 0.016, 0.008, 5); }

// A trained 32 px label-patch run (2 steps) in dir/low.
fs::path low_run(const test::ScratchDir& dir) {
  const auto run = dir.path() / "low";
  train_gan(test::phantom_samples(2, 128, 300), label_options(32), run, torch::kCPU);
  return run;
}

TEST(GrowNetworks, TheGrownGeneratorDrawsTheOldImageUpsampledWhenItsNewTopBlockIsSilent) {
  test::ScratchDir dir("gan_grow");
  const auto low = low_run(dir);
  const GanTrainOptions o = label_options(64);
  GanModels grown(o);
  const GrowReport r = load_grown_networks(low, o, grown);
  EXPECT_GT(r.g_copied, 0);
  EXPECT_GT(r.d_copied, 0);
  EXPECT_EQ(r.d_left, 2);  // the old top block's fromrgb: weight and bias

  // With the new block's toRGB silenced, the skip generator's image is the old image, FIR-upsampled.
  torch::NoGradGuard no_grad;
  for (auto& p : grown->G_ema->named_parameters(true))
    if (p.key().rfind("synthesis.b64.torgb.", 0) == 0 && p.key().find("affine") == std::string::npos)
      p.value().zero_();
  GanModels old(label_options(32));
  load_checkpoint(resolve_gan_checkpoint(low), kGanCheckpointKind, *old, torch::kCPU);
  const auto z = torch::randn({3, o.generator.z_dim});
  const auto small = old->G_ema->forward(z, 1.0, NoiseMode::kConst);
  const auto big = grown->G_ema->forward(z, 1.0, NoiseMode::kConst);
  ASSERT_EQ(big.sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
  EXPECT_TRUE(torch::allclose(big, upsample2d(small, fir_kernel()), 1e-5, 1e-6));

  // The discriminator's blocks below the new top are the old ones.
  const auto old_d = old->D->named_parameters(true);
  for (const auto& p : grown->D->named_parameters(true)) {
    if (p.key().rfind("b32.", 0) == 0 || p.key().rfind("b16.", 0) == 0 || p.key().rfind("b4.", 0) == 0) {
      EXPECT_TRUE(p.value().equal(old_d[p.key()])) << p.key();
    }
  }
}

TEST(GrowNetworks, AFreshRunGrowsFromItsInitAndRecordsIt) {
  test::ScratchDir dir("gan_grow_run");
  const auto low = low_run(dir);
  GanRunControl control;
  control.init_from = low;
  control.grow = true;
  control.stop_after_steps = 0;  // the first snapshot holds the grown networks unchanged
  const auto run = dir.path() / "high";
  train_gan(test::phantom_samples(2, 128, 300), label_options(64), run, torch::kCPU, control);
  GanModels old(label_options(32)), grown(label_options(64));
  load_checkpoint(resolve_gan_checkpoint(low), kGanCheckpointKind, *old, torch::kCPU);
  const auto h = load_checkpoint(resolve_gan_checkpoint(run), kGanCheckpointKind, *grown, torch::kCPU);
  EXPECT_EQ(h.config.at("grow").get<bool>(), true);
  const auto old_g = old->G_ema->named_parameters(true);
  EXPECT_TRUE(grown->G_ema->named_parameters(true)["mapping.fc0.weight"].equal(old_g["mapping.fc0.weight"]));
  EXPECT_TRUE(grown->G_ema->named_parameters(true)["synthesis.b16.conv1.weight"].equal(old_g["synthesis.b16.conv1.weight"]));
}

TEST(GrowNetworks, RefusesAnInitThatIsNotTheSameFamilyAtALowerResolution) {
  test::ScratchDir dir("gan_grow_refuse");
  const auto low = low_run(dir);
  auto refused = [&](GanTrainOptions o) {
    GanModels m(o);
    EXPECT_THROW(load_grown_networks(low, o, m), UserError);
  };
  refused(label_options(32));  // not higher
  GanTrainOptions wider = label_options(64);
  wider.generator.channel_max = wider.discriminator.channel_max = 64;
  finalize(wider);
  refused(wider);  // another channel rule at the shared resolutions
  GanTrainOptions rgb = test::tiny_gan("patch64", 64, 0.016, 0.008, 5);
  refused(rgb);  // three channels, not a vessel map
  GanTrainOptions other_w = label_options(64);
  other_w.generator.w_dim = 64;
  finalize(other_w);
  refused(other_w);
}

}  // namespace
}  // namespace vg
