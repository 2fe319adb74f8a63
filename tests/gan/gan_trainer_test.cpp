#include <gtest/gtest.h>
#include <torch/torch.h>

#include "phantom_samples.h"
#include "test_support.h"
#include "tiny_gan.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/eval/frechet.h"
#include "vesselgan/gan/feature_network.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/image_grid.h"
#include "vesselgan/gan/sampler.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

using test::phantom_samples;

// A narrow 32 px GAN that trains at several steps per second on one CPU core.
GanTrainOptions tiny_options() { return test::tiny_gan("toy", 32, 0.08, 0.04, 7); }  // 10 steps

TEST(GanOptions, PresetsAreValidAndRoundTripThroughJson) {
  for (const auto& name : gan_preset_names()) {
    GanTrainOptions o = gan_preset(name);
    nlohmann::json j = o;
    GanTrainOptions back = gan_preset("toy");
    from_json(j, back);
    finalize(back);
    EXPECT_EQ(nlohmann::json(back), j) << name;
  }
  EXPECT_EQ(gan_preset("full256").resolution, 256);
  EXPECT_EQ(gan_preset("patch128").mode, "patch");
}

// label32 is the recipe of the run that drew (configs/gan/label32-g05.json on label64): label64 at 32 px, gamma 0.5.
TEST(GanOptions, Label32IsLabel64At32PixelsWithGammaHalf) {
  GanTrainOptions drew = gan_preset("label64");
  from_json(nlohmann::json{{"resolution", 32}, {"r1_gamma", 0.5}, {"kimg", 200}, {"snapshot_kimg", 20}}, drew);
  finalize(drew);
  EXPECT_EQ(nlohmann::json(gan_preset("label32")), nlohmann::json(drew));
  EXPECT_EQ(gan_preset("label32").mode, "label-patch");
}

// joint32 is the recipe of the joint run that drew (configs/gan/joint32-g05.json on label64): label32 on
// photograph and map.
TEST(GanOptions, Joint32IsLabel32OnThePhotographAndItsMap) {
  GanTrainOptions drew = gan_preset("label64");
  from_json(nlohmann::json{{"mode", "joint-patch"}, {"resolution", 32}, {"r1_gamma", 0.5}, {"kimg", 200},
                           {"snapshot_kimg", 20}},
            drew);
  finalize(drew);
  EXPECT_EQ(nlohmann::json(gan_preset("joint32")), nlohmann::json(drew));
  EXPECT_EQ(gan_preset("label32").mode, "label-patch");
}

TEST(GanOptions, RejectsBadValuesWithOneLineNamingTheField) {
  GanTrainOptions o = gan_preset("toy");
  o.resolution = 48;
  try {
    finalize(o);
    FAIL() << "resolution 48 accepted";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("gan.resolution"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_THROW(from_json(nlohmann::json{{"kimgs", 3}}, o), UserError);
  o = gan_preset("toy");
  o.mode = "video";
  EXPECT_THROW(finalize(o), UserError);
}

TEST(GanOptions, AutoR1GammaAndEmaFollowTheAdaHeuristics) {
  GanTrainOptions o = gan_preset("full256");  // batch 16
  EXPECT_NEAR(r1_gamma_of(o), 0.0002 * 256 * 256 / 16, 1e-12);
  EXPECT_NEAR(ema_kimg_of(o), 16 * 10.0 / 32, 1e-12);
  o.r1_gamma = 1.5;
  EXPECT_EQ(r1_gamma_of(o), 1.5);
}

TEST(GanImageSource, FullModeFitsPhotographsToTheSquareInSignedRange) {
  auto samples = phantom_samples(3, 48);
  GanTrainOptions o = tiny_options();
  GanImageSource src(samples, o, torch::kCPU);
  auto b = src.batch(5);
  EXPECT_EQ(b.sizes(), (std::vector<int64_t>{5, 3, 32, 32}));
  EXPECT_GE(b.min().item<float>(), -1.0f - 1e-5f);
  EXPECT_LE(b.max().item<float>(), 1.0f + 1e-5f);
  // Corners are outside the FOV: black, i.e. -1.
  EXPECT_NEAR(src.first(3).index({torch::indexing::Slice(), torch::indexing::Slice(), 0, 0}).max().item<float>(),
              -1.0f, 0.05f);
}

TEST(GanImageSource, PatchCropsHoldTheRequiredFovFraction) {
  auto samples = phantom_samples(2, 96);
  GanTrainOptions o = tiny_options();
  o.mode = "joint-patch";
  o.patch_min_fov = 0.9;
  o.label_blur = 0;
  finalize(o);
  GanImageSource src(samples, o, torch::kCPU);
  ASSERT_EQ(src.channels(), 4);
  auto b = src.batch(16);
  EXPECT_EQ(b.sizes(), (std::vector<int64_t>{16, 4, 32, 32}));
  // Black (outside-FOV) pixels are rare: at most 10% of each crop (the phantom's FOV is black outside).
  auto black = b.slice(1, 0, 3).le(-0.999).all(1).to(torch::kFloat).mean({1, 2});
  EXPECT_LE(black.max().item<float>(), 0.1f + 1e-6f);
  // The label channel is binary in {-1, 1}.
  auto lab = b.select(1, 3);
  EXPECT_TRUE(lab.eq(-1).logical_or(lab.eq(1)).all().item<bool>());
}

TEST(GanImageSource, FullModeServesEveryImageOncePerEpochAndSeekContinuesTheSequence) {
  auto samples = phantom_samples(5, 48);
  GanTrainOptions o = tiny_options();
  o.mirror = false;
  finalize(o);
  GanImageSource src(samples, o, torch::kCPU);
  const auto images = src.first(5).flatten(1);  // [5, D]
  auto which = [&](const torch::Tensor& batch) {  // the image index of each row of a batch
    return torch::cdist(batch.flatten(1), images).argmin(1);
  };
  const auto served = which(torch::cat({src.batch(3), src.batch(4), src.batch(3)}));  // two epochs
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    auto ids = std::get<0>(served.slice(0, 5 * epoch, 5 * epoch + 5).sort());
    EXPECT_TRUE(torch::equal(ids, torch::arange(5, torch::kLong))) << "epoch " << epoch << ": " << ids;
  }
  EXPECT_FALSE(torch::equal(served.slice(0, 0, 5), served.slice(0, 5, 10)));  // a fresh order each epoch

  GanImageSource resumed(samples, o, torch::kCPU);
  resumed.seek(6);
  EXPECT_TRUE(torch::equal(which(resumed.batch(4)), served.slice(0, 6, 10)));
}

TEST(GanImageSource, JointModeNeedsLabels) {
  auto samples = phantom_samples(2, 48);
  samples[1].label = torch::Tensor();
  GanTrainOptions o = tiny_options();
  o.mode = "joint";
  finalize(o);
  EXPECT_THROW(GanImageSource(samples, o, torch::kCPU), UserError);
}

TEST(GanModels, EmaWithBetaZeroCopiesAndBetaOneKeeps) {
  GanTrainOptions o = tiny_options();
  GanModels m(o);
  {
    torch::NoGradGuard ng;
    for (auto& p : m->G->parameters()) p.add_(1.0);
  }
  auto before = m->G_ema->parameters()[0].clone();
  update_ema(*m->G_ema, *m->G, 1.0);
  EXPECT_TRUE(torch::equal(before, m->G_ema->parameters()[0]));
  update_ema(*m->G_ema, *m->G, 0.5);
  EXPECT_TRUE(torch::allclose(m->G_ema->parameters()[0], before + 0.5, 1e-5, 1e-5));
  update_ema(*m->G_ema, *m->G, 0.0);
  EXPECT_TRUE(torch::equal(m->G_ema->parameters()[0], m->G->parameters()[0]));
}

TEST(ImageGrid, TilesRowMajorAndMapsSignedToUnitRange) {
  auto imgs = torch::stack({torch::full({3, 2, 2}, -1.0), torch::full({3, 2, 2}, 1.0), torch::zeros({3, 2, 2})});
  auto g = image_grid(imgs);  // 2 x 2 cells, the last empty
  EXPECT_EQ(g.sizes(), (std::vector<int64_t>{3, 4, 4}));
  EXPECT_EQ(g[0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(g[0][0][2].item<float>(), 1.0f);
  EXPECT_EQ(g[0][2][0].item<float>(), 0.5f);
  EXPECT_EQ(g[0][2][2].item<float>(), 0.0f);
}

TEST(GanTrainer, WritesTheRunFolderAndRefusesToOverwriteIt) {
  test::ScratchDir dir("gan_run_folder");
  auto samples = phantom_samples(4, 48);
  auto r = train_gan(samples, tiny_options(), dir.path(), torch::kCPU);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.steps_done, 10);
  for (const char* f : {"config.json", "stats.jsonl", "reals.png", "checkpoints/last.pt"})
    EXPECT_TRUE(fs::exists(dir.path() / f)) << f;
  EXPECT_EQ(r.snapshots.size(), 2u);
  EXPECT_TRUE(fs::exists(dir.path() / ("fakes-" + kimg_label(0.08) + ".png")));
  const auto rows = read_jsonl(dir.path() / "stats.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  for (const char* k : {"loss_g", "loss_d", "r1", "augment_p", "r_t", "sec_per_kimg", "peak_rss_mib"})
    EXPECT_TRUE(rows.back().contains(k)) << k;
  EXPECT_GT(rows.front()["r1"].get<double>(), 0.0);  // R1 ran (every 16 steps: at step 0, in the first tick)
  EXPECT_THROW(train_gan(samples, tiny_options(), dir.path(), torch::kCPU), UserError);
}

TEST(GanTrainer, ResumeContinuesBitForBit) {
  test::ScratchDir a("gan_resume_a"), b("gan_resume_b");
  auto samples = phantom_samples(4, 48);
  GanTrainOptions o = tiny_options();
  o.ada.mode = "ada";
  o.ada.interval = 2;
  o.ada.speed_kimg = 0.05;  // p moves a lot, so the controller's state matters
  o.pl_weight = 2;          // path length runs, so its running mean matters
  o.pl_interval = 2;
  o.r1_interval = 3;
  finalize(o);
  train_gan(samples, o, a.path(), torch::kCPU);
  GanRunControl stop;
  stop.stop_after_steps = 5;
  auto first = train_gan(samples, o, b.path(), torch::kCPU, stop);
  EXPECT_FALSE(first.finished);
  GanRunControl resume;
  resume.resume_from = b.path();
  auto second = train_gan(samples, o, b.path(), torch::kCPU, resume);
  EXPECT_TRUE(second.finished);

  GanModels ma(o), mb(o);
  auto ha = load_checkpoint(a.path() / "checkpoints" / "last.pt", kGanCheckpointKind, *ma, torch::kCPU);
  auto hb = load_checkpoint(b.path() / "checkpoints" / "last.pt", kGanCheckpointKind, *mb, torch::kCPU);
  EXPECT_EQ(ha.state["ada"], hb.state["ada"]);
  const auto pb = mb->named_parameters();
  for (const auto& p : ma->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}

TEST(GanTrainer, AdaCountsTheRealLogitsOfTheR1PhaseAsTheOfficialDoes) {
  // stylegan2-ada-pytorch reports the signs of D's real logits in its Dreg phase as in Dmain, and its ADA
  // statistics collect both. Three steps with R1 at steps 0 and 2, no measurement yet: 3 + 2 batches pending.
  test::ScratchDir dir("gan_ada_r1_signs");
  auto samples = phantom_samples(2, 48);
  GanTrainOptions o = tiny_options();
  o.ada.mode = "ada";
  o.ada.interval = 100;
  o.r1_interval = 2;
  finalize(o);
  GanRunControl three;
  three.stop_after_steps = 3;
  train_gan(samples, o, dir.path(), torch::kCPU, three);
  GanModels m(o);
  const auto h = load_checkpoint(dir.path() / "checkpoints" / "last.pt", kGanCheckpointKind, *m, torch::kCPU);
  EXPECT_EQ(h.state["ada"]["steps"].get<int64_t>(), 3);
  EXPECT_EQ(h.state["ada"]["count"].get<int64_t>(), (3 + 2) * o.batch);
}

TEST(GanTrainer, TheFirstEmaUpdateCopiesTheGeneratorAsTheOfficialDoes) {
  // stylegan2-ada-pytorch ramps the EMA from the images shown before the step: at 0 images beta is 0.
  test::ScratchDir dir("gan_ema_first");
  auto samples = phantom_samples(2, 48);
  GanRunControl one;
  one.stop_after_steps = 1;
  train_gan(samples, tiny_options(), dir.path(), torch::kCPU, one);
  GanModels m(tiny_options());
  load_checkpoint(dir.path() / "checkpoints" / "last.pt", kGanCheckpointKind, *m, torch::kCPU);
  const auto ema = m->G_ema->named_parameters();
  for (const auto& p : m->G->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), ema[p.key()])) << p.key();
}

TEST(GanSampler, GenerationIsDeterministicAndPrefixStable) {
  test::ScratchDir dir("gan_sampler");
  auto samples = phantom_samples(3, 48);
  GanTrainOptions o = tiny_options();
  o.mode = "joint";
  finalize(o);
  train_gan(samples, o, dir.path() / "run", torch::kCPU);
  auto g = load_generator(dir.path() / "run", torch::kCPU);
  auto a = sample_images(g.G, 0, 5, 0.7, 3, torch::kCPU);
  auto b = sample_images(g.G, 0, 5, 0.7, 3, torch::kCPU);
  auto c = sample_images(g.G, 2, 2, 0.7, 3, torch::kCPU);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::allclose(a.slice(0, 2, 4), c, 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(a, sample_images(g.G, 0, 5, 0.7, 4, torch::kCPU)));

  GenerateOptions go;
  go.count = 5;
  go.batch = 2;
  go.seed = 3;
  auto r = generate_images(g, dir.path() / "fake", go, torch::kCPU);
  EXPECT_EQ(r.written, 5);
  // The folder layout `train` reads: images, labels (joint) and masks, matched by id.
  auto ds = find_dataset(dir.path() / "fake", "all", "folder");
  ASSERT_EQ(ds.samples.size(), 5u);
  EXPECT_FALSE(ds.samples[0].label.empty());
  EXPECT_FALSE(ds.samples[0].mask.empty());
  // A rerun keeps what is there (a killed generation resumes).
  auto again = generate_images(g, dir.path() / "fake", go, torch::kCPU);
  EXPECT_EQ(again.written, 0);
  EXPECT_EQ(again.skipped, 5);
}

// The learning signal: after a few hundred steps on a few phantoms, G_ema's images are much closer to the
// data than at step 0, in per-channel mean / std and in a Fréchet distance on simple colour features.
TEST(GanTrainer, ToyGanLearnsTheDataStatistics) {
  test::ScratchDir dir("gan_learns");
  auto samples = phantom_samples(8, 48);
  GanTrainOptions o = tiny_options();
  o.kimg = 2.4;  // 300 steps of 8
  o.tick_kimg = 1.2;
  o.snapshot_kimg = 2.4;
  o.ada.mode = "off";
  finalize(o);
  GanImageSource src(samples, o, torch::kCPU);
  torch::manual_seed(1);
  const auto real = src.batch(64);
  auto stats_gap = [&](const torch::Tensor& fake) {
    const double dm = (fake.mean({0, 2, 3}) - real.mean({0, 2, 3})).abs().sum().item<double>();
    const double ds = (fake.std({0, 2, 3}) - real.std({0, 2, 3})).abs().sum().item<double>();
    return dm + ds;
  };
  auto net = make_feature_network("color-stats", torch::kCPU);
  const auto real_stats = gaussian_stats(net->features(real.add(1).mul(0.5)).to(torch::kDouble));
  auto fd = [&](const torch::Tensor& fake) {
    return frechet_distance(gaussian_stats(net->features(fake.add(1).mul(0.5)).to(torch::kDouble)), real_stats);
  };

  seed_everything(o.seed);  // the initial networks of the run
  GanModels init(o);
  const auto fake0 = sample_images(init->G_ema, 0, 64, 1.0, 0, torch::kCPU);
  train_gan(samples, o, dir.path(), torch::kCPU);
  auto trained = load_generator(dir.path(), torch::kCPU);
  const auto fake1 = sample_images(trained.G, 0, 64, 1.0, 0, torch::kCPU);

  const double gap0 = stats_gap(fake0), gap1 = stats_gap(fake1), fd0 = fd(fake0), fd1 = fd(fake1);
  std::cout << "[ learning ] mean/std gap " << gap0 << " -> " << gap1 << ", colour-stats FD " << fd0 << " -> " << fd1
            << std::endl;
  EXPECT_LT(gap1, 0.4 * gap0);
  EXPECT_LT(fd1, 0.4 * fd0);
}

}  // namespace
}  // namespace vg
