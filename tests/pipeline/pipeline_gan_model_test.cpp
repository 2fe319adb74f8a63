// The pipeline with a given generator (gan_model) instead of a GAN it trains: the "gan" stage is skipped, the
// generator's own labels label the synthetic images, and a generator that draws no labels is refused.
#include <gtest/gtest.h>

#include "gan/tiny_gan.h"
#include "phantom_samples.h"
#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/painter_trainer.h"
#include "vesselgan/pipeline/pipeline.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

// The quick preset cut to a few minimal trainings, stopping once the synthetic images are written.
PipelineConfig tiny_pipeline(const fs::path& gan_model) {
  PipelineConfig c = pipeline_preset("quick");
  c.phantom_train = 6;
  c.phantom_test = 2;
  c.seg.schedule = {{1, 1e-3}};
  c.seg.val_count = 2;
  c.seeds = {0};
  c.n_synthetic = {4};
  c.orders = {"synthetic-then-real"};
  c.gan_model = gan_model.string();
  c.labels = {"gan"};
  validate(c);
  return c;
}

TEST(PipelineGanModel, AGivenLabelFirstGeneratorReplacesTheGanStageAndLabelsItsImages) {
  test::ScratchDir dir("pipeline_gan_model");
  train_painter(test::phantom_samples(2, 96, 700), test::tiny_painter(2), dir.path() / "painter", torch::kCPU);
  ProceduralMapOptions maps;
  maps.photo_size = 128;
  const fs::path file = dir.path() / "generator.pt";
  export_procedural_generator(dir.path() / "painter", 32, maps, file);

  PipelineRunOptions ro;
  ro.stop_after = "generate";
  const fs::path run = dir.path() / "run";
  EXPECT_FALSE(run_pipeline(tiny_pipeline(file), run, torch::kCPU, ro).finished);
  EXPECT_FALSE(fs::exists(run / "gan"));
  for (const char* sub : {"images", "labels", "masks"})
    EXPECT_TRUE(fs::exists(run / "generate" / sub / "000003.png")) << sub;
}

// A label-first generator of a 2-step painter and procedural maps of the given vessel share.
fs::path tiny_label_first(const fs::path& dir, double vessel_fraction) {
  train_painter(test::phantom_samples(2, 96, 700), test::tiny_painter(2), dir / "painter", torch::kCPU);
  ProceduralMapOptions maps;
  maps.photo_size = 128;
  maps.vessel_fraction = vessel_fraction;
  export_procedural_generator(dir / "painter", 32, maps, dir / "generator.pt");
  return dir / "generator.pt";
}

TEST(PipelineGanModel, SyntheticLabelsOutsideTheRealVesselFractionRangeStopTheRunBeforeRetraining) {
  test::ScratchDir dir("pipeline_guard_fraction");
  PipelineConfig c = tiny_pipeline(tiny_label_first(dir.path(), 0.4));  // trees three times denser than real
  c.min_label_f1 = 0;
  const std::string err = test::user_error([&] { run_pipeline(c, dir.path() / "run", torch::kCPU, {}); });
  EXPECT_NE(err.find("mean vessel fraction"), std::string::npos) << err;
  EXPECT_NE(err.find("outside the real labels' range"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "retrain"));

  c.guard_vessel_fraction = false;  // the user's explicit choice trains on it anyway
  PipelineRunOptions ro;
  ro.stop_after = "check-synthetic";
  EXPECT_FALSE(run_pipeline(c, dir.path() / "run", torch::kCPU, ro).finished);
}

TEST(PipelineGanModel, GeneratorLabelsBelowTheConsistencyFloorStopTheRun) {
  test::ScratchDir dir("pipeline_guard_f1");
  PipelineConfig c = tiny_pipeline(tiny_label_first(dir.path(), 0.12));
  c.guard_vessel_fraction = false;
  c.min_label_f1 = 0.99;  // no two-step painter meets it
  const std::string err = test::user_error([&] { run_pipeline(c, dir.path() / "run", torch::kCPU, {}); });
  EXPECT_NE(err.find("label consistency F1"), std::string::npos) << err;
  EXPECT_NE(err.find("pipeline.min_label_f1"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "retrain"));
}

TEST(PipelineGanModel, FewLabelsTrainModelAOnTheLabelledAndSelfTrainOnTheOthers) {
  test::ScratchDir dir("pipeline_few_labels");
  PipelineConfig c = tiny_pipeline(tiny_label_first(dir.path(), 0.12));
  c.phantom_train = 7;  // 2 validation, 2 labelled, 3 unlabelled
  c.labelled = 2;
  c.labels = {"self"};
  c.guard_vessel_fraction = false;  // a one-epoch model A labels little
  validate(c);
  PipelineRunOptions ro;
  ro.stop_after = "retrain";
  const fs::path run = dir.path() / "run";
  EXPECT_FALSE(run_pipeline(c, run, torch::kCPU, ro).finished);
  const auto inputs = nlohmann::json::parse(read_file(run / "seg-real" / "s0" / "inputs.json"));
  EXPECT_EQ(inputs.dump().find("unlabelled_ids") != std::string::npos, true) << inputs.dump();
  const auto a = nlohmann::json::parse(read_file(run / "seg-real" / "s0" / "config.json"));
  EXPECT_EQ(a.at("train_ids").size(), 2u);
  const auto pl = nlohmann::json::parse(read_file(run / "pseudo-label-self" / "pseudo_label.json"));
  EXPECT_EQ(pl.at("images").size(), 3u);
  EXPECT_TRUE(fs::exists(run / "retrain" / "syn-real_aug_self_s0" / "manifest.json"));

  c.labelled = 5;  // no photograph left unlabelled
  EXPECT_NE(test::user_error([&] { run_pipeline(c, dir.path() / "run2", torch::kCPU, ro); }).find("pipeline.labelled"),
            std::string::npos);
}

TEST(PipelineGanModel, GanInitStartsTheGanStageFromAnotherRunsNetworks) {
  test::ScratchDir dir("pipeline_gan_init");
  const GanTrainOptions o = test::tiny_gan("toy", 32, 0.008, 0.008, 3);
  train_gan(test::phantom_samples(2, 64, 720), o, dir.path() / "pretrained", torch::kCPU);
  PipelineConfig c = tiny_pipeline("");
  c.gan_model.clear();
  c.labels = {"model"};
  c.gan_route = "stylegan2";
  c.gan = test::tiny_gan("toy", 64, 0.008, 0.008, 4);  // its resolution gives way to the pretrained one's
  c.gan_init = (dir.path() / "pretrained" / "checkpoints" / "last.pt").string();
  PipelineRunOptions ro;
  ro.stop_after = "gan";
  EXPECT_FALSE(run_pipeline(c, dir.path() / "run", torch::kCPU, ro).finished);
  const auto config = nlohmann::json::parse(read_file(dir.path() / "run" / "gan" / "config.json"));
  EXPECT_EQ(config.at("init").get<std::string>(), fs::absolute(c.gan_init).string());
  EXPECT_EQ(config.at("gan").at("resolution").get<int64_t>(), 32);

  c.gan_init = (dir.path() / "missing.pt").string();
  const std::string err = test::user_error([&] { run_pipeline(c, dir.path() / "run2", torch::kCPU, ro); });
  EXPECT_NE(err.find("pipeline.gan_init"), std::string::npos) << err;
}

TEST(PipelineGanModel, WholeSyntheticPhotographsOfTheRealSizeTrainTheCurricula) {
  test::ScratchDir dir("pipeline_whole");
  PipelineConfig c = tiny_pipeline(tiny_label_first(dir.path(), 0.12));
  c.synthetic = "whole";
  c.appearance.wide = true;
  c.min_label_f1 = 0;
  c.guard_vessel_fraction = false;  // a 2-step painter's photographs: the run's mechanics are under test
  const fs::path run = dir.path() / "run";
  const PipelineResult r = run_pipeline(c, run, torch::kCPU, {});
  EXPECT_TRUE(r.finished);
  const auto real = load_sample(find_dataset(run / "data", "train", "folder").samples.front());
  const auto photo = load_sample(find_dataset(run / "generate", "all", "folder").samples.back());
  EXPECT_EQ(photo.image.sizes(), real.image.sizes());  // whole photographs of the real size, not 32 px crops
  EXPECT_TRUE(photo.has_mask);
  EXPECT_GT(photo.label.sum().item<double>(), 0);
  EXPECT_TRUE(fs::exists(run / "retrain" / "syn-real_aug_n4_gan_s0" / "manifest.json"));  // retrained
  const std::string report = read_file(run / "report" / "report.md");
  EXPECT_NE(report.find("train on such whole photographs"), std::string::npos);
  EXPECT_EQ(report.find("these are crops"), std::string::npos);
  // The same config again finds its whole photographs cached.
  const PipelineResult again = run_pipeline(c, run, torch::kCPU, {});
  for (const auto& s : again.stages) {
    if (s.name == "generate") {
      EXPECT_TRUE(s.cached);
    }
  }
}

TEST(PipelineGanModel, LabelsFromAGeneratorThatDrawsNoneAreRefused) {
  test::ScratchDir dir("pipeline_gan_model_refused");
  const GanTrainOptions o = test::tiny_gan("toy", 32, 0.008, 0.008, 3);  // one step of an image-only GAN
  train_gan(test::phantom_samples(2, 64, 710), o, dir.path() / "gan", torch::kCPU);
  PipelineRunOptions ro;
  ro.stop_after = "generate";
  const std::string err = test::user_error(
      [&] { run_pipeline(tiny_pipeline(dir.path() / "gan"), dir.path() / "run", torch::kCPU, ro); });
  EXPECT_NE(err.find("draws no vessel maps"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "generate"));
}

}  // namespace
}  // namespace vg
