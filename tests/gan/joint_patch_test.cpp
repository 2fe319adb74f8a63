// What a joint (RGB + vessel map) patch GAN needs to learn vessels: real labels in the value range a generator
// produces, crops inside the FOV and toward vessels, fp32 augmentation geometry, transfer from another run's
// networks, a slim generator file, and the label-consistency score.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "phantom_samples.h"
#include "test_support.h"
#include "tiny_gan.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/gan/augment_pipe.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/label_consistency.h"
#include "vesselgan/gan/sampler.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

std::vector<Sample> phantoms(int n, int64_t size) { return test::phantom_samples(n, size, 300); }

GanTrainOptions joint_options() { return test::tiny_gan("joint64", 32, 0.016, 0.008, 3); }  // 2 steps

TEST(GanImageSource, BlurredRealLabelsAreContinuousButKeepTheirVessels) {
  auto samples = phantoms(2, 96);
  GanTrainOptions o = joint_options();
  o.patch_vessel_bias = 0;
  o.label_blur = 0.7;
  finalize(o);
  seed_everything(1);
  auto soft = GanImageSource(samples, o, torch::kCPU).batch(32).select(1, 3);
  o.label_blur = 0;
  finalize(o);
  seed_everything(1);
  auto hard = GanImageSource(samples, o, torch::kCPU).batch(32).select(1, 3);
  EXPECT_TRUE(hard.eq(-1).logical_or(hard.eq(1)).all().item<bool>());
  // Edges take values strictly inside (-1, 1), as a generator's output does...
  const double between = soft.gt(-0.98).logical_and(soft.lt(0.98)).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(between, 0.005);
  // ...while the vessels, thresholded back at 0, are the binary label almost everywhere.
  const double agree = soft.gt(0).eq(hard.gt(0)).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(agree, 0.97);
}

TEST(GanImageSource, VesselBiasDrawsCropsWithMoreVessels) {
  auto samples = phantoms(2, 128);
  auto vessel_share = [&](double bias) {
    GanTrainOptions o = joint_options();
    o.patch_vessel_bias = bias;
    o.patch_min_fov = 1;
    finalize(o);
    seed_everything(2);
    return GanImageSource(samples, o, torch::kCPU).batch(512).select(1, 3).gt(0).to(torch::kFloat).mean().item<double>();
  };
  const double uniform = vessel_share(0), biased = vessel_share(1);
  EXPECT_GT(biased, uniform * 1.15) << "uniform " << uniform << ", biased " << biased;
}

TEST(GanImageSource, WholeFovCropsHoldNoPixelOutsideTheFov) {
  auto samples = phantoms(2, 96);
  GanTrainOptions o = joint_options();
  o.patch_min_fov = 1;
  finalize(o);
  seed_everything(4);
  auto b = GanImageSource(samples, o, torch::kCPU).batch(64);
  // Outside the phantom's FOV the photograph is black (-1 in every channel).
  auto black = b.slice(1, 0, 3).le(-0.999).all(1);
  EXPECT_FALSE(black.any().item<bool>());
}

TEST(RandomFovCrops, AreSeededAndLieInsideTheFov) {
  auto samples = phantoms(2, 96);
  auto a = random_fov_crops(samples, 32, 20, 9), b = random_fov_crops(samples, 32, 20, 9);
  ASSERT_EQ(a.size(), 20u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i].image.equal(b[i].image));
    EXPECT_EQ(a[i].image.sizes(), (std::vector<int64_t>{3, 32, 32}));
    ASSERT_TRUE(a[i].label.defined());
    EXPECT_FALSE(a[i].image.le(0.001).all(0).any().item<bool>()) << "crop " << i << " reaches outside the FOV";
  }
  EXPECT_FALSE(random_fov_crops(samples, 32, 20, 10)[0].image.equal(a[0].image));
  EXPECT_THROW(random_fov_crops(samples, 97, 1, 0), UserError);
}

TEST(AugmentPipe, Bf16ImagesAreResampledWithFp32Coordinates) {
  // A sharp pattern: resampling it at coordinates rounded to bf16 (8 mantissa bits, half a pixel at 256 px)
  // moves its edges; fp32 coordinates match the fp32 pipeline up to the bf16 rounding of the values.
  AugmentPipeOptions ao;
  ao.brightness = ao.contrast = ao.lumaflip = ao.hue = ao.saturation = 0;
  AugmentPipe pipe(ao);
  auto x = torch::rand({4, 3, 256, 256}).gt(0.5).to(torch::kFloat).mul(2).sub(1);
  torch::manual_seed(5);
  auto ref = pipe(x, 1.0);
  torch::manual_seed(5);
  auto low = pipe(x.to(torch::kBFloat16), 1.0).to(torch::kFloat);
  EXPECT_LT((ref - low).abs().max().item<double>(), 0.02);
}

TEST(GanExport, GeneratorFileSamplesExactlyLikeItsRun) {
  test::ScratchDir dir("gan_export");
  GanTrainOptions o = joint_options();
  train_gan(phantoms(2, 96), o, dir.path() / "run", torch::kCPU);
  const auto file = dir.path() / "g.pt";
  export_generator(dir.path() / "run", file);
  EXPECT_LT(fs::file_size(file), fs::file_size(dir.path() / "run" / "checkpoints" / "last.pt") / 2);
  auto run = load_generator(dir.path() / "run", torch::kCPU), slim = load_generator(file, torch::kCPU);
  EXPECT_EQ(slim.options.mode, "joint-patch");
  EXPECT_TRUE(sample_images(run.G, 0, 3, 0.7, 1, torch::kCPU).equal(sample_images(slim.G, 0, 3, 0.7, 1, torch::kCPU)));
}

TEST(GanTrainer, InitStartsFromAnotherRunsNetworksWithItsOwnRecipe) {
  test::ScratchDir dir("gan_init");
  auto data = phantoms(2, 96);
  train_gan(data, joint_options(), dir.path() / "a", torch::kCPU);
  export_generator(dir.path() / "a", dir.path() / "g.pt");

  // The recipe asks for other networks; the init file's networks win, the recipe's length stays.
  GanTrainOptions other = gan_preset("toy");
  other.kimg = 0.008;
  other.snapshot_kimg = other.tick_kimg = 0.008;
  other.batch = 8;
  finalize(other);
  for (const char* init : {"a", "g.pt"}) {
    const auto opt = with_networks_of(dir.path() / init, other);
    EXPECT_EQ(opt.mode, "joint-patch");
    EXPECT_EQ(opt.generator.channel_max, 32);
    EXPECT_EQ(opt.kimg, other.kimg);
    // Zero steps: the fresh run's first snapshot holds the init networks unchanged.
    GanRunControl control;
    control.init_from = dir.path() / init;
    control.stop_after_steps = 0;
    const auto run = dir.path() / (std::string("b-") + init);
    train_gan(data, opt, run, torch::kCPU, control);
    auto src = load_generator(dir.path() / "a", torch::kCPU), dst = load_generator(run, torch::kCPU);
    EXPECT_TRUE(sample_images(src.G, 0, 2, 1, 0, torch::kCPU).equal(sample_images(dst.G, 0, 2, 1, 0, torch::kCPU)))
        << init;
    // ... and so does the discriminator.
    GanModels a(opt), b(opt);
    load_checkpoint(resolve_gan_checkpoint(dir.path() / "a"), kGanCheckpointKind, *a, torch::kCPU);
    load_checkpoint(resolve_gan_checkpoint(run), kGanCheckpointKind, *b, torch::kCPU);
    const auto x = torch::rand({2, 4, 32, 32});
    EXPECT_TRUE(a->D->forward(x).equal(b->D->forward(x))) << init;
  }
  // Networks of another shape are refused, from either kind of file.
  for (const char* init : {"a", "g.pt"}) {
    EXPECT_THROW(
        {
          GanModels m(other);
          load_init_networks(dir.path() / init, m, torch::kCPU);
        },
        UserError)
        << init;
  }
}

TEST(LabelConsistency, ScoresTheSegmenterAgainstTheGeneratorsOwnLabels) {
  // A segmenter that calls every pixel a vessel: recall 1, precision = the labels' vessel fraction.
  SAUNetOptions so;
  so.base_channels = 4;
  so.depth = 2;
  SAUNet net(so);
  for (auto& p : net->named_parameters())
    if (p.key() == "head.bias") p.value().data().fill_(50);
  net->eval();
  const Segmenter seg(net, InputOptions{}, torch::kCPU);
  auto samples = phantoms(2, 64);
  const auto c = label_consistency(seg, samples);
  const auto frac = vessel_fractions(samples);
  ASSERT_EQ(frac.size(), 2u);
  EXPECT_NEAR(c.recall, 1.0, 1e-9);
  const double pooled = static_cast<double>(c.pooled.tp) / static_cast<double>(c.pooled.tp + c.pooled.fp);
  EXPECT_NEAR(c.precision, pooled, 1e-9);
  EXPECT_GT(c.precision, 0.01);
  EXPECT_LT(c.precision, 0.5);
  EXPECT_EQ(c.images, 2);
  EXPECT_NEAR(c.label_fraction.mean, (frac[0] + frac[1]) / 2, 1e-12);
  samples[1].label = torch::Tensor();
  EXPECT_THROW(label_consistency(seg, samples), UserError);
}

}  // namespace
}  // namespace vg
