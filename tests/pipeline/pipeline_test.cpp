#include <gtest/gtest.h>

#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/pipeline/curriculum.h"
#include "vesselgan/pipeline/pipeline_config.h"
#include "vesselgan/pipeline/pipeline_report.h"
#include "vesselgan/pipeline/stage_runner.h"
#include "vesselgan/seg/model_input.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::user_error;

TEST(PipelineConfig, PresetsAreValidAndRoundTripThroughJson) {
  for (const auto& name : pipeline_preset_names()) {
    PipelineConfig c = pipeline_preset(name);
    finalize(c.gan);
    EXPECT_NO_THROW(validate(c)) << name;
    const nlohmann::json j = c;
    PipelineConfig back = pipeline_preset("quick");
    from_json(j, back);
    finalize(back.gan);
    EXPECT_EQ(nlohmann::json(back), j) << name;
  }
}

TEST(PipelineConfig, DriveCpuTrainsOnAHalfResolutionCanvas) {
  // A DRIVE photograph (565x584) resized to 288 must not be padded back to the full recipe's 592 canvas,
  // or the preset costs as much per epoch as full resolution.
  const PipelineConfig c = pipeline_preset("drive-cpu");
  FitInfo info;
  const auto canvas = fit_to_canvas(torch::zeros({3, 584, 565}), c.seg.input, 16, &info);
  EXPECT_EQ(canvas.size(1), 288);
  EXPECT_EQ(canvas.size(2), 288);
}

TEST(PipelineConfig, RejectsBadValuesWithOneLineNamingTheField) {
  PipelineConfig c = pipeline_preset("quick");
  finalize(c.gan);
  c.orders = {"backwards"};
  std::string msg = user_error([&] { validate(c); });
  EXPECT_TRUE(contains(msg, "pipeline.orders")) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  c = pipeline_preset("quick");
  finalize(c.gan);
  c.gan_route = "stylegan2";
  c.labels = {"gan"};  // an image-only StyleGAN2 draws no vessel maps
  msg = user_error([&] { validate(c); });
  EXPECT_TRUE(contains(msg, "pipeline.labels")) << msg;
  c.labels = {"model", "model"};
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "each route once"));
  c.gan_route = "painter";
  from_json(nlohmann::json{{"labels", "gan"}}, c);  // one route as a string
  EXPECT_EQ(c.labels, std::vector<std::string>{"gan"});
  from_json(nlohmann::json{{"labels", nlohmann::json::array({"model", "gan"})}}, c);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"model", "gan"}));
  EXPECT_NO_THROW(validate(c));
  EXPECT_TRUE(contains(user_error([&] { from_json(nlohmann::json{{"labels", 3}}, c); }), "pipeline.labels"));
  EXPECT_THROW(from_json(nlohmann::json{{"seedz", {1}}}, c), UserError);
  EXPECT_THROW(pipeline_preset("slow"), UserError);
}

TEST(PipelineConfig, WholeSyntheticPhotographsNeedAPainterAndAppearanceNeedsThem) {
  PipelineConfig c = pipeline_preset("quick");
  finalize(c.gan);
  c.synthetic = "whole";
  c.appearance.wide = true;
  EXPECT_NO_THROW(validate(c));  // quick's painter route
  c.gan_route = "stylegan2";
  c.labels = {"model"};  // an image-only StyleGAN2 may pseudo-label its images, but paints no whole photograph
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "pipeline.synthetic"));
  c.gan_model = "shipped";
  EXPECT_NO_THROW(validate(c));
  c.synthetic = "patches";
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "pipeline.appearance.wide"));
  c.synthetic = "crops";
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "pipeline.synthetic"));
  from_json(nlohmann::json{{"synthetic", "whole"}, {"appearance", {{"gamma_max", 2.0}}}}, c);
  EXPECT_EQ(c.appearance.gamma_max, 2.0);
  EXPECT_TRUE(c.appearance.wide);  // absent keys of the section keep their values
}

TEST(PipelineConfig, GridExpandsEveryCombinationSeedInnermost) {
  PipelineConfig c = pipeline_preset("quick");
  c.labels = {"model"};
  c.orders = {"synthetic-then-real", "mixed"};
  c.augment = {true, false};
  c.n_synthetic = {10, 30};
  c.seeds = {0, 1, 2};
  const auto g = expand_grid(c);
  ASSERT_EQ(g.size(), 24u);
  EXPECT_EQ(g[0].name(), "syn-real_aug_n10_s0");
  c.labels = {"model", "gan"};
  const auto both = expand_grid(c);
  ASSERT_EQ(both.size(), 48u);
  EXPECT_EQ(both[24].name(), "syn-real_aug_n10_gan_s0");
  EXPECT_EQ(both[24].cell(), "syn-real_aug_n10_gan");
  c.labels = {"self"};
  c.labelled = 2;
  const auto self = expand_grid(c);  // one n: every unlabelled photograph
  ASSERT_EQ(self.size(), 12u);
  EXPECT_EQ(self[0].name(), "syn-real_aug_self_s0");
  EXPECT_EQ(self[0].n_synthetic, 0);
  c.labelled = 0;
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "needs labelled > 0"));
  c.labels = {"model", "gan"};
  c.exclude = {"syn-real_aug_n10", "mixed_noaug_n30_gan"};
  EXPECT_EQ(expand_grid(c).size(), 48u - 6);
  EXPECT_NO_THROW(validate(c));
  c.exclude = {"syn-real_aug_n11"};  // no such cell: a typo must not silently exclude nothing
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "pipeline.exclude"));
  EXPECT_EQ(g[2].name(), "syn-real_aug_n10_s2");
  EXPECT_EQ(g[3].name(), "syn-real_aug_n30_s0");
  EXPECT_EQ(g.back().name(), "mixed_noaug_n30_s2");
  EXPECT_EQ(g.back().cell(), "mixed_noaug_n30");
  EXPECT_EQ(max_synthetic(c), 30);
}

TEST(Curriculum, SyntheticPhaseHasItsOwnEpochsAndAugmentation) {
  PipelineConfig c = pipeline_preset("quick");
  c.synthetic_epochs = 7;
  RetrainVariant v{"synthetic-then-real", false, 10, 5};
  const TrainOptions syn = phase_options(c, v, "synthetic");
  EXPECT_EQ(total_epochs(syn), 7);
  EXPECT_FALSE(syn.augment.enabled);
  EXPECT_EQ(syn.seed, 5u);
  const TrainOptions real = phase_options(c, v, "real");
  EXPECT_EQ(total_epochs(real), total_epochs(c.seg));
  EXPECT_EQ(real.augment.enabled, c.seg.augment.enabled);
}

TEST(Curriculum, GivenInitStartsModelAAndPhaseOneFromTheSameNetwork) {
  PipelineConfig c = pipeline_preset("quick");
  finalize(c.gan);
  c.seg.init_from = "member1.pt";
  const fs::path model_a = "runs/x/seg-real/s0/best.pt";
  // scratch: neither starts from the recipe's network; model-a: only retraining starts from model A
  EXPECT_TRUE(baseline_options(c, 3).init_from.empty());
  EXPECT_EQ(baseline_options(c, 3).seed, 3u);
  EXPECT_TRUE(first_phase_init(c, model_a).empty());
  c.init = "model-a";
  EXPECT_TRUE(baseline_options(c, 3).init_from.empty());
  EXPECT_EQ(first_phase_init(c, model_a), model_a);
  c.init = "given";
  EXPECT_EQ(baseline_options(c, 3).init_from, "member1.pt");
  EXPECT_EQ(first_phase_init(c, model_a), fs::path("member1.pt"));
  EXPECT_NO_THROW(validate(c));
  c.seg.init_from.clear();
  const std::string msg = user_error([&] { validate(c); });
  EXPECT_TRUE(contains(msg, "pipeline.init")) << msg;
  EXPECT_TRUE(contains(msg, "seg.init_from")) << msg;
}

TEST(Curriculum, MixedAddedKeepsModelAsRealCropsAndPutsTheSyntheticOnTop) {
  PipelineConfig c = pipeline_preset("quick");
  c.seg.patch.size = 32;
  c.seg.patch.per_epoch = 64;
  c.mixed_real_fraction = 0.25;
  const std::vector<Sample> real(4), synthetic(12);
  const RetrainVariant shared{"mixed", true, 12, 0};
  const RetrainVariant added{"mixed-added", true, 12, 0};
  EXPECT_EQ(added.cell(), "mixadd_aug_n12");
  // Both draw a quarter of their crops from real images; only mixed-added draws model A's 64 of them.
  EXPECT_EQ(phase_options(c, shared, "mixed").patch.per_epoch, 64);
  EXPECT_EQ(phase_options(c, added, "mixed").patch.per_epoch, 256);
  EXPECT_EQ(mixed_set(c, shared, real, synthetic).size(), 12u + 4u);  // k = 1/3 * 12/4 = 1
  EXPECT_EQ(mixed_set(c, added, real, synthetic).size(), 12u + 4u);
  c.mixed_real_fraction = 0.5;
  EXPECT_EQ(mixed_set(c, added, real, synthetic).size(), 12u + 3 * 4u);  // real repeated k = 3 times
  // Whole-image training: mixed-added shows each real image once per epoch, as model A does.
  c.seg.patch.size = 0;
  EXPECT_EQ(mixed_set(c, shared, real, synthetic).size(), 12u + 3 * 4u);
  EXPECT_EQ(mixed_set(c, added, real, synthetic).size(), 12u + 4u);
  c.orders = {"mixed-added"};
  EXPECT_NO_THROW(validate(c));
  c.orders = {"mixed-add"};
  EXPECT_TRUE(contains(user_error([&] { validate(c); }), "mixed-added"));
}

TEST(StageRunner, SkipsAFinishedStageWithTheSameInputsAndRerunsOnChange) {
  test::ScratchDir dir("pipeline_stage_cache");
  int runs = 0;
  auto body = [&](const fs::path& d) -> nlohmann::json {
    ++runs;
    write_file_atomic(d / "out.txt", "x");
    return {{"n", runs}};
  };
  {
    StageRunner st(dir.path());
    EXPECT_EQ(st.run("a", {{"k", 1}}, body)["n"], 1);
    EXPECT_FALSE(st.records().back().cached);
  }
  {
    StageRunner st(dir.path());
    EXPECT_EQ(st.run("a", {{"k", 1}}, body)["n"], 1);  // cached: the first run's outputs
    EXPECT_TRUE(st.records().back().cached);
    EXPECT_EQ(runs, 1);
    write_file_atomic(dir.path() / "a" / "stale.txt", "old");
    EXPECT_EQ(st.run("a", {{"k", 2}}, body)["n"], 2);  // other inputs: cleared and run again
    EXPECT_FALSE(fs::exists(dir.path() / "a" / "stale.txt"));
  }
}

TEST(StageRunner, AKilledStageResumesInItsFolder) {
  test::ScratchDir dir("pipeline_stage_resume");
  {
    StageRunner st(dir.path());
    EXPECT_THROW(st.run("a", {{"k", 1}},
                        [&](const fs::path& d) -> nlohmann::json {
                          write_file_atomic(d / "partial.txt", "half");
                          throw std::runtime_error("killed");
                        }),
                 std::runtime_error);
  }
  StageRunner st(dir.path());
  bool saw_partial = false;
  st.run("a", {{"k", 1}}, [&](const fs::path& d) -> nlohmann::json {
    saw_partial = fs::exists(d / "partial.txt");
    return {};
  });
  EXPECT_TRUE(saw_partial);
}

TEST(StageRunner, FromForcesThatStageAndEveryLaterOneAndStopAfterStops) {
  test::ScratchDir dir("pipeline_stage_from");
  int runs = 0;
  auto body = [&](const fs::path&) -> nlohmann::json { return {{"n", ++runs}}; };
  {
    StageRunner st(dir.path());
    for (const char* s : {"a", "retrain/x", "retrain/y", "c"}) st.run(s, {}, body);
  }
  EXPECT_EQ(runs, 4);
  StageRunner st(dir.path(), "retrain", "retrain/y");
  st.run("a", {}, body);
  EXPECT_TRUE(st.records().back().cached);
  st.run("retrain/x", {}, body);
  EXPECT_FALSE(st.records().back().cached);
  EXPECT_THROW(st.run("retrain/y", {}, body), StageRunner::Stopped);
  EXPECT_EQ(runs, 6);
}

EvalReport report_with(double fov_f1, const std::vector<std::pair<std::string, double>>& per_image) {
  EvalReport r;
  r.fov_pooled.f1 = fov_f1;
  r.whole_image_pooled.f1 = fov_f1 + 0.01;
  for (const auto& [id, f1] : per_image) {
    MetricSet m;
    m.f1 = f1;
    r.per_image.push_back({id, m});
  }
  return r;
}

TEST(PipelineReport, RowsAverageSeedsAndCompareWithTheBaselinePerImage) {
  std::vector<ScoredModel> s = {
      {"baseline (model A)", "baseline", 0, "", report_with(0.70, {{"1", 0.6}, {"2", 0.7}, {"3", 0.8}})},
      {"baseline (model A)", "baseline", 1, "", report_with(0.74, {{"1", 0.6}, {"2", 0.7}, {"3", 0.8}})},
      {"v", "variant", 0, "", report_with(0.80, {{"1", 0.7}, {"2", 0.8}, {"3", 0.9}})},
      {"v", "variant", 1, "", report_with(0.80, {{"1", 0.7}, {"2", 0.8}, {"3", 0.9}})}};
  const auto rows = summarize(s);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seeds, 2);
  EXPECT_NEAR(rows[0].fov_mean.f1, 0.72, 1e-12);
  EXPECT_NEAR(rows[0].fov_std.f1, std::sqrt(0.0008), 1e-12);  // sample std of 0.70, 0.74
  EXPECT_NEAR(rows[0].whole_mean.f1, 0.73, 1e-12);
  EXPECT_FALSE(rows[0].compared);
  ASSERT_TRUE(rows[1].compared);
  EXPECT_NEAR(rows[1].f1_diff, 0.1, 1e-12);  // +0.1 on every image
  EXPECT_NEAR(rows[1].ci_low, 0.1, 1e-9);
  EXPECT_NEAR(rows[1].ci_high, 0.1, 1e-9);
  EXPECT_NEAR(rows[1].p_value, 2.0 / 8.0, 1e-12);  // exact sign flips over 3 images: all + or all -
}

TEST(PipelineReport, HtmlRendersTheGanBlockAsHtmlNotMarkdown) {
  test::ScratchDir dir("report_gan_html");
  PipelineReport r;
  r.title = "t";
  r.scored = {{"baseline (model A)", "baseline", 0, "", report_with(0.70, {{"1", 0.6}, {"2", 0.7}})}};
  r.gan_metrics = {{{"feature_network", "color-stats"},
                    {"fid", 1.5},
                    {"kid", {{"mean", 0.01}, {"std", 0.001}}},
                    {"real_count", 20},
                    {"fake_count", 50}}};
  write_pipeline_report(dir.path(), r);
  const std::string html = read_file(dir.path() / "report.html");
  const auto gan = html.substr(html.find("<h2>GAN</h2>"), html.find("<h2>ROC</h2>") - html.find("<h2>GAN</h2>"));
  EXPECT_NE(gan.find("<li>features <code>color-stats</code>: FID"), std::string::npos) << gan;
  EXPECT_EQ(gan.find('`'), std::string::npos) << gan;
  // The real side is what the generator learnt from (whole photographs or their crops), not a photo count.
  EXPECT_NE(gan.find("20 real views of the training photographs, 50 synthetic"), std::string::npos) << gan;
  EXPECT_NE(read_file(dir.path() / "report.md").find("- features `color-stats`: FID"), std::string::npos);
}

// Issue 31: on phantoms the test photographs and the synthetic trees come from one procedural process, so the
// report says first, before any figure, that a gain there is circular, and where the real-photograph answer is.
TEST(PipelineReport, OnPhantomsItsFirstLinesSayTheGainIsCircularAndPointToTheResults) {
  test::ScratchDir dir("report_phantom_caveat");
  PipelineReport r;
  r.title = "t";
  r.scored = {{"baseline (model A)", "baseline", 0, "", report_with(0.70, {{"1", 0.6}, {"2", 0.7}})}};
  r.phantom_data = true;
  write_pipeline_report(dir.path(), r);
  const std::string md = read_file(dir.path() / "report.md");
  const std::string head = md.substr(0, md.find("Protocol:"));  // the title and what comes before the figures
  for (const char* says : {"same procedural process", "circular", "says nothing about real photographs",
                           "did not help SA-UNet", "docs/results.md"})
    EXPECT_TRUE(contains(head, says)) << says << "\n" << head;
  const std::string html = read_file(dir.path() / "report.html");
  const std::string html_head = html.substr(0, html.find("<p>Protocol:"));
  EXPECT_TRUE(contains(html_head, "circular")) << html_head;
  EXPECT_TRUE(contains(html_head, "docs/results.md")) << html_head;

  r.phantom_data = false;  // real photographs: no such paragraph
  write_pipeline_report(dir.path(), r);
  EXPECT_FALSE(contains(read_file(dir.path() / "report.md"), "circular"));
}

TEST(PipelineReport, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace vg
