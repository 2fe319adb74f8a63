#include "vesselgan/seg/distill.h"

#include "phantom_samples.h"
#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace {

TrainOptions tiny_options() {
  TrainOptions o;
  o.schedule = {{2, 2e-3}};
  o.batch_size = 2;
  o.model.base_channels = 4;
  o.model.block_size = 3;
  o.model.keep_prob = 0.9;
  o.seed = 5;
  return o;
}

// A tiny teacher trained once for the tests of this file.
std::filesystem::path teacher_checkpoint(const test::ScratchDir& dir) {
  const auto run = dir.path() / "teacher";
  train_sa_unet(test::phantom_samples(2, 32, 70), {}, tiny_options(), run, torch::kCPU, false);
  return run / "checkpoints" / "last.pt";
}

}  // namespace

TEST(Distill, TargetsBlendTheAnnotationWithTheTeachersCleanMapInsideTheFov) {
  test::ScratchDir dir("distill_blend");
  DistillOptions o;
  o.teacher = teacher_checkpoint(dir).string();
  o.tta = false;
  auto samples = test::phantom_samples(2, 32, 80);
  samples[0].mask.slice(2, 0, 4).zero_();  // a few columns outside the FOV
  const Segmenter teacher = Segmenter::load(o.teacher, torch::kCPU);
  for (double w : {0.5, 1.0}) {
    o.weight = w;
    const auto out = with_teacher_targets(samples, o, torch::kCPU);
    ASSERT_EQ(out.size(), samples.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const auto p = teacher.probability(samples[i].image, samples[i].mask, PredictOptions{});
      const auto expected = ((1 - w) * samples[i].label + w * p) * samples[i].mask;
      EXPECT_TRUE(torch::allclose(out[i].label, expected, 1e-5, 1e-6)) << "sample " << i << " weight " << w;
      EXPECT_TRUE(out[i].image.equal(samples[i].image));  // only the target changes
    }
    EXPECT_EQ(out[0].label.slice(2, 0, 4).abs().sum().item<double>(), 0.0);
    // Soft: the teacher's uncertainty survives (a blend of a 0/1 label is not 0/1 everywhere).
    EXPECT_GT((out[1].label.gt(0.01) & out[1].label.lt(0.99)).sum().item<int64_t>(), 0);
  }
  // The inputs keep their own labels.
  EXPECT_TRUE(((samples[1].label == 0) | (samples[1].label == 1)).all().item<bool>());
}

TEST(Distill, AMissingTeacherRefusesTheRunBeforeAnythingIsWritten) {
  test::ScratchDir dir("distill_missing");
  auto opt = tiny_options();
  opt.distill.teacher = (dir.path() / "no-such-model.pt").string();
  const auto run = dir.path() / "run";
  try {
    train_sa_unet(test::phantom_samples(2, 32, 90), {}, opt, run, torch::kCPU, false);
    FAIL() << "a missing teacher must be refused";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.distill.teacher"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no-such-model.pt"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(run));
}

TEST(Distill, ARecipeWithoutATeacherIsWrittenAsBeforeAndOneWithATeacherRoundTrips) {
  // Pipeline stage keys hold the recipe: without a teacher it must serialise exactly as it did before.
  TrainOptions plain;
  EXPECT_FALSE(nlohmann::json(plain).contains("distill"));
  TrainOptions with = plain;
  with.distill.teacher = "models/sa-unet-drive.pt";
  with.distill.weight = 0.8;
  with.distill.tta = false;
  const nlohmann::json j = with;
  ASSERT_TRUE(j.contains("distill"));
  const auto back = j.get<TrainOptions>();
  EXPECT_EQ(back.distill.teacher, with.distill.teacher);
  EXPECT_EQ(back.distill.weight, 0.8);
  EXPECT_FALSE(back.distill.tta);
  for (double bad : {0.0, -0.1, 1.5, std::nan("")}) {
    with.distill.weight = bad;
    EXPECT_THROW(validate(with), UserError) << bad;
  }
}

TEST(Distill, ATrainingRunWithATeacherLearnsFromTheBlendedTargets) {
  // Same data, seed and recipe: a teacher changes what is learnt.
  test::ScratchDir dir("distill_train");
  auto opt = tiny_options();
  opt.schedule = {{1, 1e-3}};
  const auto data = test::phantom_samples(2, 32, 100);
  train_sa_unet(data, {}, opt, dir.path() / "plain", torch::kCPU, false);
  opt.distill.teacher = teacher_checkpoint(dir).string();
  const auto r = train_sa_unet(data, {}, opt, dir.path() / "distilled", torch::kCPU, false);
  const auto h = read_checkpoint_header(r.last);
  EXPECT_EQ(h.config.at("train").at("distill").at("teacher").get<std::string>(), opt.distill.teacher);
  SAUNet a(opt.model), b(opt.model);
  load_checkpoint(dir.path() / "plain/checkpoints/last.pt", kSegCheckpointKind, *a, torch::kCPU);
  load_checkpoint(r.last, kSegCheckpointKind, *b, torch::kCPU);
  EXPECT_FALSE(a->parameters().front().equal(b->parameters().front()));
}

}  // namespace vg
