#include "vesselgan/seg/trainer.h"

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {

namespace {

std::vector<Sample> phantoms(int n, int64_t size, uint64_t seed) {
  PhantomOptions po;
  po.size = size;
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    auto p = make_phantom(po, seed + i);
    out.push_back({std::to_string(i), p.image, p.label, p.mask, true});
  }
  return out;
}

TrainOptions tiny_options() {
  TrainOptions o;
  o.schedule = {{2, 2e-3}, {1, 1e-3}};
  o.batch_size = 2;
  o.model.base_channels = 4;
  o.model.block_size = 3;
  o.model.keep_prob = 0.9;
  o.seed = 3;
  return o;
}

// tiny_options reading the photographs' green channel after CLAHE, with tiles that fit the 32 px phantoms.
TrainOptions tiny_enhanced_options() {
  TrainOptions o = tiny_options();
  o.input.enhance = "green-clahe";
  o.input.clahe_tile = 16;
  return o;
}

// The samples with their photographs' red and blue channels replaced by noise (seeded), green kept.
std::vector<Sample> with_red_and_blue_scrambled(std::vector<Sample> s) {
  torch::manual_seed(9);
  for (auto& x : s) {
    x.image = x.image.clone();
    x.image.select(0, 0).copy_(torch::rand_like(x.image.select(0, 0)));
    x.image.select(0, 2).copy_(torch::rand_like(x.image.select(0, 2)));
  }
  return s;
}

struct KillAfterEpoch {};

torch::Tensor weights_of(const std::filesystem::path& ckpt) {
  const auto h = read_checkpoint_header(ckpt);
  SAUNet m(h.config.at("train").get<TrainOptions>().model);
  load_checkpoint(ckpt, kSegCheckpointKind, *m, torch::kCPU);
  std::vector<torch::Tensor> flat;
  for (const auto& p : m->parameters()) flat.push_back(p.detach().flatten());
  for (const auto& b : m->buffers()) flat.push_back(b.detach().flatten().to(torch::kFloat));
  return torch::cat(flat);
}

// Trains `opt` into dir/straight, and into dir/killed killed after epoch `kill_after` and resumed: what the
// resume tests compare.
void train_straight_and_resumed(const std::vector<Sample>& train, const std::vector<Sample>& val,
                                const TrainOptions& opt, const std::filesystem::path& dir, int64_t kill_after) {
  train_sa_unet(train, val, opt, dir / "straight", torch::kCPU, false);
  auto killer = [kill_after](const Progress& p) {
    if (p.stage == "epoch" && p.done == kill_after) throw KillAfterEpoch{};
  };
  EXPECT_THROW(train_sa_unet(train, val, opt, dir / "killed", torch::kCPU, false, killer), KillAfterEpoch);
  train_sa_unet(train, val, opt, dir / "killed", torch::kCPU, true);
}

// What train_straight_and_resumed wrote, for a 3-epoch recipe: the same last weights, and three stats rows each
// that agree on `keys`.
void expect_resumed_as_straight(const std::filesystem::path& dir, const std::vector<std::string>& keys) {
  EXPECT_TRUE(torch::equal(weights_of(dir / "straight/checkpoints/last.pt"), weights_of(dir / "killed/checkpoints/last.pt")));
  const auto a = read_jsonl(dir / "straight/stats.jsonl");
  const auto b = read_jsonl(dir / "killed/stats.jsonl");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i)
    for (const auto& key : keys) {
      ASSERT_TRUE(a[i].contains(key)) << key << ", epoch " << i + 1;
      EXPECT_EQ(a[i][key], b[i][key]) << key << ", epoch " << i + 1;
    }
}

}  // namespace

TEST(Trainer, ResumeAfterAKillContinuesBitForBit) {
  test::ScratchDir dir("trainer_resume");
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  const auto opt = tiny_options();
  train_straight_and_resumed(train, val, opt, dir.path(), 2);
  expect_resumed_as_straight(dir.path(), {"epoch", "train_loss", "val_f1"});
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "killed/curves.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "killed/checkpoints/best.pt"));
}

TEST(Trainer, PatchTrainingResumesBitForBit) {
  test::ScratchDir dir("trainer_patch_resume");
  const auto train = phantoms(3, 48, 20), val = phantoms(1, 32, 51);
  auto opt = tiny_options();
  opt.patch.size = 16;
  opt.patch.per_epoch = 6;
  train_straight_and_resumed(train, val, opt, dir.path(), 1);
  EXPECT_TRUE(weights_of(dir.path() / "straight/checkpoints/last.pt")
                  .equal(weights_of(dir.path() / "killed/checkpoints/last.pt")));
  const auto rows = read_jsonl(dir.path() / "killed/stats.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.back().at("step").get<int64_t>(), 3 * 3);  // 6 crops per epoch in batches of 2
}

TEST(Trainer, PatchTrainingMixesPhotographsWithSmallPatchesAndKeepsThePhotographsScale) {
  test::ScratchDir dir("trainer_patch_mix");
  auto train = phantoms(2, 64, 30);
  for (int i = 0; i < 3; ++i) {  // synthetic 32 px patches: their FOV is the whole frame, no scale in it
    auto crop = phantoms(1, 64, 40 + i).front();
    train.push_back({"syn" + std::to_string(i), crop.image.slice(1, 16, 48).slice(2, 16, 48).contiguous(),
                     crop.label.slice(1, 16, 48).slice(2, 16, 48).contiguous(), torch::ones({1, 32, 32}), true});
  }
  auto opt = tiny_options();
  opt.schedule = {{1, 1e-3}};
  opt.patch.size = 32;
  opt.patch.per_epoch = 4;
  train_sa_unet(train, phantoms(1, 64, 52), opt, dir.path(), torch::kCPU, false);
  const auto config = nlohmann::json::parse(read_file(dir.path() / "config.json"));
  const std::vector<Sample> photographs(train.begin(), train.begin() + 2);
  EXPECT_DOUBLE_EQ(config.at("fov_diameter").get<double>(), training_fov_diameter(photographs, InputOptions{}));
  EXPECT_GT(config.at("fov_diameter").get<double>(), 50);
}

TEST(Trainer, SoftLabelsTrainAsSoftTargets) {
  // A label of 0.3 everywhere must not train like its binarised version (0 everywhere).
  test::ScratchDir dir("trainer_soft");
  auto soft = phantoms(2, 32, 60), hard = soft;
  for (auto& s : soft) s.label = torch::full_like(s.label, 0.3);
  for (auto& s : hard) s.label = torch::zeros_like(s.label);
  auto opt = tiny_options();
  opt.schedule = {{1, 1e-3}};
  train_sa_unet(soft, {}, opt, dir.path() / "soft", torch::kCPU, false);
  train_sa_unet(hard, {}, opt, dir.path() / "hard", torch::kCPU, false);
  EXPECT_FALSE(weights_of(dir.path() / "soft/checkpoints/last.pt")
                   .equal(weights_of(dir.path() / "hard/checkpoints/last.pt")));
}

TEST(Trainer, ACascadeStartsItsFirstStageFromAPlainSAUNetAndTrainsBothStages) {
  test::ScratchDir dir("trainer_cascade");
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  TrainOptions plain = tiny_options();
  plain.schedule = {{1, 2e-3}};
  train_sa_unet(train, val, plain, dir.path() / "plain", torch::kCPU, false);
  const auto plain_ckpt = dir.path() / "plain/checkpoints/last.pt";

  // One epoch at a vanishing rate: the run writes its starting weights, so the loading is checked alone.
  TrainOptions cascade = plain;
  cascade.model.refiner_channels = 4;
  cascade.init_from = plain_ckpt.string();
  cascade.schedule = {{1, 1e-30}};
  const auto start = train_sa_unet(train, val, cascade, dir.path() / "start", torch::kCPU, false);
  SAUNet loaded(cascade.model), first(plain.model);
  load_checkpoint(start.last, kSegCheckpointKind, *loaded, torch::kCPU);
  load_checkpoint(plain_ckpt, kSegCheckpointKind, *first, torch::kCPU);
  auto loaded_params = loaded->named_parameters();
  for (const auto& p : first->named_parameters())
    EXPECT_TRUE(torch::allclose(loaded_params[p.key()], p.value(), 0, 1e-20)) << p.key();

  // One epoch: both stages move (the first by its own loss and through the refiner's input).
  cascade.schedule = {{1, 2e-3}};
  const auto trained = train_sa_unet(train, val, cascade, dir.path() / "trained", torch::kCPU, false);
  SAUNet after(cascade.model);
  load_checkpoint(trained.last, kSegCheckpointKind, *after, torch::kCPU);
  auto after_params = after->named_parameters();
  EXPECT_FALSE(torch::equal(after_params["head.weight"], loaded_params["head.weight"]));
  EXPECT_FALSE(torch::equal(after_params["refiner.head.weight"], loaded_params["refiner.head.weight"]));
}

namespace {

// The parameters of a checkpoint, without its buffers.
std::vector<torch::Tensor> parameters_of(const std::filesystem::path& ckpt) {
  const auto h = read_checkpoint_header(ckpt);
  SAUNet m(h.config.at("train").get<TrainOptions>().model);
  load_checkpoint(ckpt, kSegCheckpointKind, *m, torch::kCPU);
  std::vector<torch::Tensor> out;
  for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
  return out;
}

}  // namespace

TEST(Trainer, WeightAveragingTrainsAsWithoutAndWritesTheMeanOfTheAveragedEpochs) {
  test::ScratchDir dir("trainer_swa");
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  auto plain = tiny_options();
  auto killer = [](const Progress& p) {
    if (p.stage == "epoch" && p.done == 2) throw KillAfterEpoch{};
  };
  EXPECT_THROW(train_sa_unet(train, val, plain, dir.path() / "plain", torch::kCPU, false, killer), KillAfterEpoch);
  const auto epoch2 = parameters_of(dir.path() / "plain/checkpoints/last.pt");
  train_sa_unet(train, val, plain, dir.path() / "plain", torch::kCPU, true);
  const auto epoch3 = parameters_of(dir.path() / "plain/checkpoints/last.pt");

  auto swa = plain;
  swa.swa_start = 2;
  train_sa_unet(train, val, swa, dir.path() / "swa", torch::kCPU, false);
  EXPECT_TRUE(weights_of(dir.path() / "plain/checkpoints/last.pt").equal(weights_of(dir.path() / "swa/checkpoints/last.pt")))
      << "averaging changed the training itself";
  const auto averaged = parameters_of(dir.path() / "swa/checkpoints/swa.pt");
  ASSERT_EQ(averaged.size(), epoch2.size());
  for (size_t i = 0; i < averaged.size(); ++i)
    EXPECT_TRUE(torch::allclose(averaged[i], (epoch2[i] + epoch3[i]) / 2, 1e-5, 1e-6)) << "parameter " << i;
  const auto h = read_checkpoint_header(dir.path() / "swa/checkpoints/swa.pt", kSegCheckpointKind);
  EXPECT_EQ(h.state.at("swa_count"), 2);
  const auto rows = read_jsonl(dir.path() / "swa/stats.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[0].contains("swa_val_f1"));
  EXPECT_TRUE(rows[1].contains("swa_val_f1"));
  EXPECT_EQ(rows[2].at("swa_count"), 2);
  EXPECT_EQ(rows[2].at("swa_val_f1"), h.state.at("val_f1"));
}

TEST(Trainer, WeightAveragingResumesBitForBit) {
  test::ScratchDir dir("trainer_swa_resume");
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  auto opt = tiny_options();
  opt.swa_start = 1;
  train_straight_and_resumed(train, val, opt, dir.path(), 2);
  EXPECT_TRUE(weights_of(dir.path() / "straight/checkpoints/swa.pt").equal(weights_of(dir.path() / "killed/checkpoints/swa.pt")));
  const auto a = read_jsonl(dir.path() / "straight/stats.jsonl"), b = read_jsonl(dir.path() / "killed/stats.jsonl");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(a.back().at("swa_val_f1"), b.back().at("swa_val_f1"));
}

TEST(Trainer, TheContrastiveTermTrainsBesideTheLossIsLoggedAndResumesBitForBit) {
  test::ScratchDir dir("trainer_contrast");
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  auto opt = tiny_options();
  opt.contrast.weight = 0.5;
  opt.contrast.samples = 16;
  opt.contrast.embedding = 8;
  train_straight_and_resumed(train, val, opt, dir.path(), 2);
  expect_resumed_as_straight(dir.path(), {"train_contrast", "train_loss"});
  for (const auto& row : read_jsonl(dir.path() / "straight/stats.jsonl")) {
    EXPECT_GT(row.at("train_contrast").get<double>(), 0.0);
    EXPECT_LE(row.at("train_contrast").get<double>(), 8.0);
  }
  // The term changes what the network learns: without it, the same seed ends elsewhere.
  auto plain = tiny_options();
  train_sa_unet(train, val, plain, dir.path() / "plain", torch::kCPU, false);
  EXPECT_FALSE(torch::equal(weights_of(dir.path() / "straight/checkpoints/last.pt"),
                            weights_of(dir.path() / "plain/checkpoints/last.pt")));
  EXPECT_FALSE(read_jsonl(dir.path() / "plain/stats.jsonl").front().contains("train_contrast"));
  const auto config = nlohmann::json::parse(read_file(dir.path() / "straight/config.json"));
  EXPECT_EQ(config.at("train").at("contrast").at("weight").get<double>(), 0.5);
  EXPECT_FALSE(nlohmann::json::parse(read_file(dir.path() / "plain/config.json")).at("train").contains("contrast"));
}

TEST(Trainer, RefusesToOverwriteAnExistingRun) {
  test::ScratchDir dir("trainer_overwrite");
  auto opt = tiny_options();
  opt.schedule = {{1, 1e-3}};
  const auto train = phantoms(2, 32, 1);
  train_sa_unet(train, {}, opt, dir.path(), torch::kCPU, false);
  EXPECT_THROW(train_sa_unet(train, {}, opt, dir.path(), torch::kCPU, false), UserError);
  // --resume of a finished run is a no-op that reports the finished state.
  EXPECT_EQ(train_sa_unet(train, {}, opt, dir.path(), torch::kCPU, true).epochs_done, 1);
}

TEST(Trainer, NaNLossStopsWithAUserErrorAndKeepsNoBrokenCheckpoint) {
  test::ScratchDir dir("trainer_nan");
  auto opt = tiny_options();
  auto train = phantoms(2, 32, 1);
  train[0].image = train[0].image.clone();
  train[0].image[0][5][5] = std::numeric_limits<float>::quiet_NaN();
  train[1].image = train[0].image;
  try {
    train_sa_unet(train, {}, opt, dir.path(), torch::kCPU, false);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "checkpoints/last.pt"));
}

TEST(Trainer, AnEnhancedRunTrainsAndValidatesOnTheEnhancedGreenChannelOnly) {
  // The same photographs with red and blue replaced by noise train the same network, bit for bit, and
  // score the same validation: both training and validation feed the network the enhanced green channel.
  test::ScratchDir dir("trainer_enhance");
  auto opt = tiny_enhanced_options();
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  train_sa_unet(train, val, opt, dir.path() / "a", torch::kCPU, false);
  train_sa_unet(with_red_and_blue_scrambled(train), with_red_and_blue_scrambled(val), opt, dir.path() / "b", torch::kCPU, false);
  EXPECT_TRUE(torch::equal(weights_of(dir.path() / "a/checkpoints/last.pt"),
                           weights_of(dir.path() / "b/checkpoints/last.pt")));
  const auto a = read_jsonl(dir.path() / "a/stats.jsonl"), b = read_jsonl(dir.path() / "b/stats.jsonl");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.back()["val_f1"], b.back()["val_f1"]);
  EXPECT_EQ(read_checkpoint_header(dir.path() / "a/checkpoints/best.pt").config.at("train").at("input").at("enhance"),
            "green-clahe");
}

TEST(Trainer, AnEnhancedRunCompressesThePhotographAsTakenBeforeItsEnhancement) {
  // JPEG degradation on: the codec mixes the three channels (YCbCr, 4:2:0), so when it reaches the photograph
  // before the enhancement picks the green channel, as a camera's JPEG does, red and blue change the green the
  // network sees and the trained weights. Degrading the enhanced canvas instead would train the same weights.
  test::ScratchDir dir("trainer_enhance_degrade");
  auto opt = tiny_enhanced_options();
  opt.augment.degrade.p = 1;
  opt.augment.degrade.jpeg_min = 10;
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  train_sa_unet(train, val, opt, dir.path() / "a", torch::kCPU, false);
  train_sa_unet(with_red_and_blue_scrambled(train), val, opt, dir.path() / "b", torch::kCPU, false);
  EXPECT_FALSE(torch::equal(weights_of(dir.path() / "a/checkpoints/last.pt"),
                            weights_of(dir.path() / "b/checkpoints/last.pt")));
  // And the run is reproducible: the degradations come from the seeded generator.
  train_sa_unet(train, val, opt, dir.path() / "c", torch::kCPU, false);
  EXPECT_TRUE(torch::equal(weights_of(dir.path() / "a/checkpoints/last.pt"),
                           weights_of(dir.path() / "c/checkpoints/last.pt")));
}

TEST(Trainer, AJitteredEnhancementDrawsItsClipLimitAndGammaPerBatchFromTheSeed) {
  // augment.enhance_jitter on: each batch's photographs are enhanced again with a drawn clip limit and gamma, so
  // the weights move away from a run that draws as often but always the input's own clip limit and no gamma
  // ("fixed": the same random numbers consumed); the draws come from the seeded generator, so a rerun is bit for
  // bit the same; and the network still sees only the enhanced green channel.
  test::ScratchDir dir("trainer_enhance_jitter");
  auto opt = tiny_enhanced_options();
  const auto train = phantoms(4, 32, 10), val = phantoms(1, 32, 50);
  opt.augment.enhance_jitter = {opt.input.clahe_clip, opt.input.clahe_clip, 1};
  train_sa_unet(train, val, opt, dir.path() / "fixed", torch::kCPU, false);
  opt.augment.enhance_jitter = {1, 4, 1.5};
  train_sa_unet(train, val, opt, dir.path() / "a", torch::kCPU, false);
  train_sa_unet(train, val, opt, dir.path() / "b", torch::kCPU, false);
  train_sa_unet(with_red_and_blue_scrambled(train), with_red_and_blue_scrambled(val), opt, dir.path() / "c",
                torch::kCPU, false);
  const auto a = weights_of(dir.path() / "a/checkpoints/last.pt");
  EXPECT_FALSE(torch::equal(weights_of(dir.path() / "fixed/checkpoints/last.pt"), a));
  EXPECT_TRUE(torch::equal(weights_of(dir.path() / "b/checkpoints/last.pt"), a));
  EXPECT_TRUE(torch::equal(weights_of(dir.path() / "c/checkpoints/last.pt"), a));
  EXPECT_EQ(read_checkpoint_header(dir.path() / "a/checkpoints/last.pt")
                .config.at("train").at("augment").at("enhance_jitter").at("clip_max"),
            4.0);
}

TEST(Trainer, LearnsPhantomVesselsWellAboveChance) {
  test::ScratchDir dir("trainer_learns");
  TrainOptions opt = train_preset("quick");
  const auto r = train_sa_unet(phantoms(20, 128, 100), phantoms(3, 128, 200), opt, dir.path(), torch::kCPU, false);
  // Vessels are ~10% of the FOV: an all-background model scores F1 0; a learning model well above.
  EXPECT_GT(r.best_score, 0.6) << "validation F1 of the quick preset";
}

}  // namespace vg
