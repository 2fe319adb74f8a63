// The pipeline with a given generator (gan_model) instead of a GAN it trains: the "gan" stage is skipped, the
// generator's own labels label the synthetic images, and a generator that draws no labels is refused.
#include <gtest/gtest.h>

#include "gan/tiny_gan.h"
#include "phantom_samples.h"
#include "test_support.h"
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
  c.labels = "gan";
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
