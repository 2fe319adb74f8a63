#include "vesselgan/seg/robustness.h"

#include <cmath>

#include "phantom_samples.h"
#include "test_support.h"
#include "vesselgan/data/phantom.h"

namespace vg {

namespace {

Segmenter tiny_segmenter() {
  torch::manual_seed(0);
  SAUNetOptions o;
  o.base_channels = 4;
  o.depth = 2;
  return Segmenter(SAUNet(o), InputOptions{}, torch::kCPU);
}

std::vector<Sample> phantoms(int n, int64_t size = 48) { return test::phantom_samples(n, size, 100, "p"); }

RobustnessOptions three_shifts() {
  RobustnessOptions o;
  o.shifts = {{"dark", 0.5}, {"blur", 2}, {"scale", 0.8}};
  return o;
}

PredictOptions native() {
  PredictOptions p;
  p.fov_diameter = 0;
  return p;
}

// A report with the given clean F1 and AUC and (kind, level, F1, AUC) shifts, summarized.
RobustnessReport made_up_report() {
  RobustnessReport r;
  r.ids = {"01", "02"};
  r.clean.f1 = 0.80;
  r.clean.auc_roc = 0.97;
  const std::vector<std::tuple<std::string, double, double, double>> rows = {
      {"gamma", 0.5, 0.78, 0.96}, {"gamma", 2.0, 0.70, 0.965}, {"blur", 1, 0.75, 0.90}, {"blur", 3, 0.81, 0.95}};
  for (const auto& [kind, level, f1, auc] : rows) {
    ShiftScore s;
    s.shift = {kind, level};
    s.fov_pooled.f1 = f1;
    s.fov_pooled.auc_roc = auc;
    r.shifts.push_back(s);
  }
  summarize(r);
  return r;
}

// Phantoms drawn as a perfect segmenter would see them: each photograph is its label painted in two colours,
// background (0.8, 0.4, 0.15) and vessel (0.6, 0.1, 0.1), black outside the FOV.
std::vector<Sample> painted_phantoms(int n, int64_t size) {
  std::vector<Sample> samples = phantoms(n, size);
  const auto background = torch::tensor({0.8f, 0.4f, 0.15f}).view({3, 1, 1});
  const auto vessel = torch::tensor({0.6f, 0.1f, 0.1f}).view({3, 1, 1});
  for (auto& s : samples) s.image = (background * (1 - s.label) + vessel * s.label) * s.mask;
  return samples;
}

// A segmenter that commutes with resizing by construction: its probability (R/2 - G) / 0.2 is a linear
// function of each pixel's colour that is 0 on background and black and 1 on vessel, so on any mix of the
// three it stays in [0, 1] and resizing the photograph resizes the probability alike.
torch::Tensor linear_probability(const torch::Tensor& image, const torch::Tensor& /*fov*/) {
  return ((image[0] / 2 - image[1]) / 0.2).clamp(0, 1).unsqueeze(0);
}

int64_t fov_pixel_count(const std::vector<Sample>& samples) {
  int64_t n = 0;
  for (const auto& s : samples) n += s.mask.gt(0.5).sum().item<int64_t>();
  return n;
}

}  // namespace

TEST(Robustness, ScaleIsScoredInTheOriginalPixelsSoAScaleEquivariantSegmenterLosesNothingByEnlarging) {
  const auto samples = painted_phantoms(2, 256);
  RobustnessOptions o;
  o.shifts = {{"scale", 1.25}, {"scale", 1.6}, {"scale", 0.6}};
  const RobustnessReport r = run_robustness(linear_probability, samples, o);
  EXPECT_DOUBLE_EQ(r.clean.f1, 1.0);
  // Enlarging invents no vessel: only the resampling there and back is left (scored against labels resized
  // nearest in the enlarged pixels, as before, the drop at 1.25 was 0.053).
  for (int i : {0, 1}) {
    EXPECT_LT(std::abs(r.shifts[i].f1_drop), 0.01) << to_string(r.shifts[i].shift);
    EXPECT_LT(std::abs(r.shifts[i].auc_drop), 0.001) << to_string(r.shifts[i].shift);
  }
  // Shrinking loses the thinnest vessels, and the original labels count them.
  EXPECT_GT(r.shifts[2].f1_drop, 0.1);
  // Every condition scores the original FOVs' pixels.
  EXPECT_EQ(r.fov_pixels, fov_pixel_count(samples));
  for (const auto& s : r.shifts) EXPECT_EQ(s.fov_pixels, r.fov_pixels) << to_string(s.shift);
}

TEST(Robustness, ScaleGivesTheSegmenterTheResizedPhotographAndFovMask) {
  const auto samples = phantoms(1, 40);
  RobustnessOptions o;
  o.shifts = {{"scale", 1.25}, {"scale", 0.6}};
  std::vector<std::pair<torch::Tensor, torch::Tensor>> seen;
  const ProbabilityFn binary = [&](const torch::Tensor& image, const torch::Tensor& fov) {
    seen.emplace_back(image, fov);
    // A hard 0/1 map: the bilinear resize back must keep it in [0, 1] (evaluate() checks).
    return image[1].gt(image[1].mean()).to(torch::kFloat).unsqueeze(0);
  };
  const RobustnessReport r = run_robustness(binary, samples, o);
  ASSERT_EQ(seen.size(), 3u);
  const Sample& s = samples[0];
  EXPECT_EQ(seen[0].first.sizes(), s.image.sizes());
  EXPECT_EQ(seen[1].first.sizes(), (std::vector<int64_t>{3, 50, 50}));
  EXPECT_EQ(seen[2].first.sizes(), (std::vector<int64_t>{3, 24, 24}));
  ASSERT_TRUE(seen[1].second.defined());
  EXPECT_EQ(seen[1].second.sizes(), (std::vector<int64_t>{1, 50, 50}));
  // The FOV the segmenter sees grows with the photograph (so its scale normalization can undo the shift).
  const double fov = s.mask.sum().item<double>();
  EXPECT_NEAR(seen[1].second.sum().item<double>() / fov, 1.25 * 1.25, 0.1);
  EXPECT_NEAR(seen[2].second.sum().item<double>() / fov, 0.6 * 0.6, 0.1);
  for (const auto& x : r.shifts) EXPECT_EQ(x.fov_pixels, fov_pixel_count(samples));
}

TEST(Robustness, ReportsCleanAndEveryRequestedShiftWithDropsAgainstClean) {
  const RobustnessReport r = run_robustness(tiny_segmenter(), phantoms(2), three_shifts(), native());
  EXPECT_EQ(r.ids, (std::vector<std::string>{"p0", "p1"}));
  ASSERT_EQ(r.shifts.size(), 3u);
  EXPECT_EQ(to_string(r.shifts[0].shift), "dark 0.5");
  EXPECT_EQ(to_string(r.shifts[1].shift), "blur 2");
  EXPECT_EQ(to_string(r.shifts[2].shift), "scale 0.8");
  double mean = 0;
  for (const auto& s : r.shifts) {
    EXPECT_DOUBLE_EQ(s.f1_drop, r.clean.f1 - s.fov_pooled.f1) << to_string(s.shift);
    EXPECT_DOUBLE_EQ(s.auc_drop, r.clean.auc_roc - s.fov_pooled.auc_roc) << to_string(s.shift);
    EXPECT_TRUE(std::isfinite(s.fov_pooled.auc_roc));
    mean += s.f1_drop / 3;
    EXPECT_LE(s.f1_drop, r.worst_f1.f1_drop);
  }
  EXPECT_NEAR(r.mean_f1_drop, mean, 1e-12);
  EXPECT_GT(r.clean.auc_roc, 0);
}

TEST(Robustness, CleanScoresAreEvaluateOnThePlainPredictions) {
  const Segmenter seg = tiny_segmenter();
  const auto samples = phantoms(2);
  RobustnessOptions o;
  o.shifts = {{"dark", 0.5}};
  const RobustnessReport r = run_robustness(seg, samples, o, native());
  std::vector<EvalItem> items;
  for (const auto& s : samples) items.push_back({s.id, seg.probability(s.image, s.mask, native()), s.label, s.mask});
  const MetricSet expected = evaluate(items).fov_pooled;
  EXPECT_DOUBLE_EQ(r.clean.f1, expected.f1);
  EXPECT_DOUBLE_EQ(r.clean.auc_roc, expected.auc_roc);
}

TEST(Robustness, MaxImagesScoresTheFirstImagesAndProgressCountsEveryCondition) {
  RobustnessOptions o = three_shifts();
  o.max_images = 2;
  int64_t calls = 0, total = 0;
  const auto r = run_robustness(tiny_segmenter(), phantoms(3, 32), o, native(), [&](const Progress& p) {
    ++calls;
    total = p.total;
    EXPECT_EQ(p.stage, "robustness");
  });
  EXPECT_EQ(r.ids, (std::vector<std::string>{"p0", "p1"}));
  EXPECT_EQ(total, 2 * 4);
  EXPECT_EQ(calls, 2 * 4);
}

TEST(Robustness, IsDeterministicGivenTheSeed) {
  RobustnessOptions o;
  o.shifts = {{"noise", 0.05}};
  o.seed = 4;
  const Segmenter seg = tiny_segmenter();
  const auto samples = phantoms(2, 32);
  const auto a = run_robustness(seg, samples, o, native()), b = run_robustness(seg, samples, o, native());
  EXPECT_EQ(a.shifts[0].fov_pooled.f1, b.shifts[0].fov_pooled.f1);
  EXPECT_EQ(a.shifts[0].fov_pooled.auc_roc, b.shifts[0].fov_pooled.auc_roc);
}

TEST(Robustness, RefusesUnlabelledImagesNoImagesAndBadOptions) {
  const Segmenter seg = tiny_segmenter();
  auto samples = phantoms(1, 32);
  samples[0].label = torch::Tensor();
  using test::contains;
  const std::string unlabelled = test::user_error([&] { run_robustness(seg, samples, three_shifts(), native()); });
  EXPECT_TRUE(contains(unlabelled, "p0") && contains(unlabelled, "label")) << unlabelled;
  EXPECT_NE(test::user_error([&] { run_robustness(seg, {}, three_shifts(), native()); }), "");
  RobustnessOptions none;
  none.shifts.clear();
  EXPECT_TRUE(contains(test::user_error([&] { validate(none); }), "robustness.shifts"));
  RobustnessOptions bad = three_shifts();
  bad.max_images = -1;
  EXPECT_TRUE(contains(test::user_error([&] { validate(bad); }), "robustness.max_images"));
  bad = three_shifts();
  bad.threshold = 1;
  EXPECT_TRUE(contains(test::user_error([&] { validate(bad); }), "robustness.threshold"));
  bad = three_shifts();
  bad.shifts.push_back({"gamma", -1});
  EXPECT_TRUE(contains(test::user_error([&] { validate(bad); }), "gamma level"));
}

TEST(RobustnessOptions, DefaultsListEveryKindAndJsonRoundTrips) {
  const RobustnessOptions d;
  EXPECT_EQ(d.shifts.size(), default_shifts().size());
  RobustnessOptions o = three_shifts();
  o.max_images = 2;
  o.seed = 7;
  const nlohmann::json j = o;
  const auto back = j.get<RobustnessOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_NE(test::user_error([] { nlohmann::json{{"shift", nlohmann::json::array()}}.get<RobustnessOptions>(); }), "");
}

TEST(RobustnessReport, SummarizeTakesTheMeanAndTheLargestDrops) {
  const RobustnessReport r = made_up_report();
  EXPECT_NEAR(r.shifts[1].f1_drop, 0.10, 1e-12);
  EXPECT_NEAR(r.shifts[3].f1_drop, -0.01, 1e-12);  // a shift may help
  EXPECT_NEAR(r.mean_f1_drop, (0.02 + 0.10 + 0.05 - 0.01) / 4, 1e-12);
  EXPECT_EQ(to_string(r.worst_f1.shift), "gamma 2");
  EXPECT_EQ(to_string(r.worst_auc.shift), "blur 1");
  EXPECT_NEAR(r.worst_auc.auc_drop, 0.07, 1e-12);
}

TEST(RobustnessReport, JsonMarkdownAndSvgShowEveryShiftAndTheWorstCase) {
  const RobustnessReport r = made_up_report();
  const nlohmann::json j = to_json(r);
  for (const char* key : {"protocol", "images", "seed", "threshold", "fov_pixels", "clean", "shifts",
                          "mean_f1_drop", "mean_auc_drop", "worst_f1", "worst_auc"})
    EXPECT_TRUE(j.contains(key)) << key;
  ASSERT_EQ(j["shifts"].size(), 4u);
  EXPECT_TRUE(j["shifts"][0].contains("fov_pixels"));
  EXPECT_EQ(j["shifts"][1]["kind"], "gamma");
  EXPECT_NEAR(j["shifts"][1]["f1_drop"].get<double>(), 0.10, 1e-12);
  EXPECT_EQ(j["worst_f1"]["level"], 2.0);

  const std::string md = to_markdown(r, "robustness of M");
  using test::contains;
  EXPECT_TRUE(contains(md, "# robustness of M"));
  EXPECT_TRUE(contains(md, "| clean |  | 0.8000 |  | 0.9700 |  |")) << md;
  EXPECT_TRUE(contains(md, "| gamma | 2 | 0.7000 | +0.1000 | 0.9650 | +0.0050 |")) << md;
  EXPECT_TRUE(contains(md, "| blur | 3 | 0.8100 | -0.0100 |")) << md;
  EXPECT_TRUE(contains(md, "F1 +0.1000 (gamma 2)")) << md;

  const std::string svg = robustness_svg(r);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_TRUE(contains(svg, ">gamma</text>") && contains(svg, ">blur</text>"));
  EXPECT_FALSE(contains(svg, "nan"));

  test::ScratchDir dir("robustness_report");
  write_robustness_report(dir.path() / "out", r, "t");
  for (const char* f : {"robustness.json", "robustness.md", "robustness.svg"})
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "out" / f)) << f;
}

}  // namespace vg
