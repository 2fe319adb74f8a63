#include "vesselgan/seg/segmenter.h"

#include <map>

#include "test_support.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/core/error.h"
#include "vesselgan/eval/operating_point.h"
#include "vesselgan/eval/temperature.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace {
SAUNet tiny_model() {
  torch::manual_seed(0);
  SAUNetOptions o;
  o.base_channels = 4;
  return SAUNet(o);
}
// tiny_model() with larger convolution weights than the initialization's, so the activations' variance
// dwarfs BatchNorm's epsilon and the untrained network's output depends on its input at all.
SAUNet tiny_model_scaled() {
  SAUNet m = tiny_model();
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters())
    if (p.dim() == 4) p.mul_(8);
  return m;
}
}  // namespace

TEST(Segmenter, ReturnsAProbabilityOfThePhotographsSizeForOddSizes) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  const auto p = s.probability(torch::rand({3, 37, 53}));
  EXPECT_EQ(p.sizes(), torch::IntArrayRef({1, 37, 53}));
  EXPECT_GE(p.min().item<float>(), 0.f);
  EXPECT_LE(p.max().item<float>(), 1.f);
}

TEST(Segmenter, AnOperatingPointRuleRemapsEachPhotographsMapInsideItsFov) {
  Segmenter s(tiny_model_scaled(), InputOptions{}, torch::kCPU);
  torch::manual_seed(4);
  const torch::Tensor image = torch::rand({3, 48, 40});
  torch::Tensor fov = torch::zeros({1, 48, 40});
  fov.slice(1, 4, 44).slice(2, 4, 36).fill_(1);
  PredictOptions fixed, rule;
  rule.operating_point = "expected-count";
  const torch::Tensor p = s.probability(image, fov, fixed);
  const torch::Tensor q = s.probability(image, fov, rule);
  EXPECT_TRUE(torch::allclose(q, apply_operating_point(p, fov, "expected-count"), 0, 1e-6));
  EXPECT_FALSE(torch::allclose(q, p, 0, 1e-3));  // it did move the map
  rule.operating_point = "otsu";
  EXPECT_THROW(s.probability(image, fov, rule), UserError);
}

TEST(Segmenter, AnEnhancedModelSeesOnlyTheEnhancedGreenChannel) {
  torch::manual_seed(2);
  InputOptions in;
  in.enhance = "green-clahe";
  in.clahe_tile = 16;
  const auto x = torch::rand({3, 40, 48}) * 0.5 + 0.2;
  auto other = x.clone();
  other.select(0, 0).copy_(torch::rand({40, 48}));
  Segmenter enhanced(tiny_model_scaled(), in, torch::kCPU), plain(tiny_model_scaled(), InputOptions{}, torch::kCPU);
  EXPECT_TRUE(torch::equal(enhanced.probability(x), enhanced.probability(other)));
  EXPECT_FALSE(torch::equal(plain.probability(x), plain.probability(other))) << "the network reads red when not enhanced";
}

TEST(Segmenter, ResizedInputMapsBackToTheOriginalSize) {
  InputOptions in;
  in.resize = 32;
  Segmenter s(tiny_model(), in, torch::kCPU);
  EXPECT_EQ(s.probability(torch::rand({3, 70, 50})).sizes(), torch::IntArrayRef({1, 70, 50}));
}

TEST(Segmenter, TilingAgreesWithOnePassAwayFromTileBorders) {
  // A photograph with structure: dark lines of several widths on a lit, noisy background.
  torch::manual_seed(1);
  torch::Tensor img = 0.15 * torch::rand({3, 96, 160}) + 0.6;
  for (int64_t x = 5, w = 1; x < 150; x += 17, w = w % 4 + 1) img.narrow(2, x, w).mul_(0.3);
  for (int64_t y = 10; y < 90; y += 23) img.narrow(1, y, 2).mul_(0.4);
  // An untrained network's map of it is nearly flat (std 2e-4): rescale the 1x1 head so the logits are
  // centred with std 2 on this photograph, and the map varies as a trained one's does.
  SAUNet net = tiny_model();
  net->eval();
  {
    torch::NoGradGuard no_grad;
    const auto logits = net->forward(img.unsqueeze(0));
    const double mean = logits.mean().item<double>(), scale = 2.0 / logits.std().item<double>();
    auto params = net->named_parameters();
    params["head.weight"].mul_(scale);
    params["head.bias"].sub_(mean).mul_(scale);
  }
  Segmenter s(net, InputOptions{}, torch::kCPU);
  PredictOptions whole;
  PredictOptions tiled;
  tiled.tile = 64;
  tiled.tile_overlap = 32;
  const auto a = s.probability(img, whole), b = s.probability(img, tiled);
  ASSERT_EQ(b.sizes(), a.sizes());
  const double spread = a.std().item<double>(), diff = (a - b).abs().mean().item<double>();
  EXPECT_GT(spread, 0.01) << "the map is flat: agreement would prove nothing";
  EXPECT_LT(diff, 0.1 * spread) << "spread " << spread;
  // Tiling must not be a no-op that returns the one-pass map either: the tiles see less context.
  EXPECT_GT(diff, 0.0);
}

TEST(Segmenter, FlipTTAIsInvariantToFlippingTheInput) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  PredictOptions tta;
  tta.tta = true;
  const auto img = torch::rand({3, 32, 48});
  const auto a = s.probability(img, tta);
  const auto b = s.probability(img.flip({2}), tta).flip({2});
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5));
}

TEST(Segmenter, ImageStatisticsMakeThePredictionInvariantToExposure) {
  // With each BatchNorm normalising by the photograph's own statistics, scaling every pixel by k scales the
  // first convolution's response (minus its bias) by k, which the first BatchNorm divides out again.
  Segmenter s(tiny_model_scaled(), InputOptions{}, torch::kCPU);
  PredictOptions own;
  own.image_statistics = true;
  torch::manual_seed(3);
  const auto img = torch::rand({3, 40, 40});
  const double with_own = (s.probability(img, own) - s.probability(img * 0.4, own)).abs().max().item<double>();
  const double with_running = (s.probability(img) - s.probability(img * 0.4)).abs().max().item<double>();
  EXPECT_LT(with_own, 2e-3);
  EXPECT_GT(with_running, 20 * with_own);
}

TEST(Segmenter, ImageStatisticsLeaveTheRunningStatisticsAndTheEvaluationModeAlone) {
  SAUNet m = tiny_model();
  Segmenter s(m, InputOptions{}, torch::kCPU);
  std::vector<torch::Tensor> before;
  for (const auto& b : m->buffers()) before.push_back(b.clone());
  const auto img = torch::rand({3, 32, 32});
  const auto plain = s.probability(img);
  PredictOptions own;
  own.image_statistics = true;
  EXPECT_FALSE(torch::allclose(s.probability(img, own), plain, 1e-4, 1e-4));
  const auto buffers = m->buffers();
  ASSERT_EQ(buffers.size(), before.size());
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].is_floating_point()) {
      EXPECT_TRUE(buffers[i].equal(before[i])) << "buffer " << i;
    }
  for (const auto& module : m->modules()) EXPECT_FALSE(module->is_training());
  EXPECT_TRUE(s.probability(img).equal(plain));
}

TEST(Segmenter, AdaptiveStatisticsPredictWithTheRunningOnesInsideTheRange) {
  Segmenter s(tiny_model_scaled(), InputOptions{}, torch::kCPU);
  torch::manual_seed(5);
  const auto img = torch::rand({3, 48, 48});
  const auto plain = s.probability(img);
  const double d = s.statistics_distances(img, torch::Tensor(), {}).at(0);
  EXPECT_GT(d, 0.0);
  s.set_statistics_ranges({{d * 1.01, d * 2}});
  EXPECT_TRUE(s.probability(img).equal(plain));
}

TEST(Segmenter, AdaptiveStatisticsBeyondTheRangePredictLikeImageStatistics) {
  SAUNet m = tiny_model_scaled();
  Segmenter s(m, InputOptions{}, torch::kCPU);
  torch::manual_seed(5);
  const auto img = torch::rand({3, 64, 64}) * 0.4;
  PredictOptions own;
  own.image_statistics = true;
  const auto plain = s.probability(img), full = s.probability(img, own);
  const double d = s.statistics_distances(img, torch::Tensor(), {}).at(0);
  s.set_statistics_ranges({{d / 4, d / 2}});
  const auto adaptive = s.probability(img);
  const double gap = (plain - full).abs().mean().item<double>();
  EXPECT_GT(gap, 1e-3) << "image statistics change nothing here: the test would prove nothing";
  EXPECT_LT((adaptive - full).abs().mean().item<double>(), 0.05 * gap);
  // Halfway up the ramp, between the two.
  s.set_statistics_ranges({{d / 2, d * 1.5}});
  const double half = (s.probability(img) - full).abs().mean().item<double>();
  EXPECT_GT(half, 0.05 * gap);
  EXPECT_LT(half, 0.95 * gap);
  s.set_statistics_ranges({});
  EXPECT_TRUE(s.probability(img).equal(plain)) << "the running statistics were not restored";
  for (const auto& module : m->modules()) EXPECT_FALSE(module->is_training());
}

TEST(Segmenter, StatisticsRangesMustBeOnePerNetwork) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  EXPECT_THROW(s.set_statistics_ranges({{0.1, 0.2}, {0.1, 0.2}}), UserError);
  EXPECT_THROW(s.set_statistics_ranges({{0.3, 0.2}}), UserError);
  EXPECT_NO_THROW(s.set_statistics_ranges({{0.1, 0.2}}));
  EXPECT_NO_THROW(s.set_statistics_ranges({}));
}

namespace {
// [1, H, W] with a filled w_fov x h_fov rectangle (an FOV whose diameter is max(w_fov, h_fov)).
torch::Tensor box_fov(int64_t H, int64_t W, int64_t h_fov, int64_t w_fov) {
  auto m = torch::zeros({1, H, W});
  m.slice(1, (H - h_fov) / 2, (H - h_fov) / 2 + h_fov).slice(2, (W - w_fov) / 2, (W - w_fov) / 2 + w_fov).fill_(1);
  return m;
}
}  // namespace

TEST(Segmenter, StatisticsRangesApplyToPhotographsNotToPatches) {
  Segmenter s(tiny_model_scaled(), InputOptions{}, torch::kCPU);
  torch::manual_seed(6);
  const auto img = torch::rand({3, 48, 48}) * 0.4;
  const auto patch = torch::ones({1, 48, 48});    // the frame cuts this FOV on all four sides
  const auto disc = box_fov(48, 48, 36, 36);       // a FOV inside the frame: a photograph
  const auto plain_patch = s.probability(img, patch, {}), plain_disc = s.probability(img, disc, {});
  s.set_statistics_ranges({{0, 0}});  // any photograph is beyond the range
  ScaleInfo si;
  EXPECT_TRUE(s.probability(img, patch, {}, &si).equal(plain_patch));
  EXPECT_TRUE(si.patch);
  EXPECT_FALSE(s.probability(img, disc, {}, &si).equal(plain_disc));
  EXPECT_FALSE(si.patch);
}

TEST(Segmenter, ReportsTheWeightEachNetworkGaveThePhotographsOwnStatistics) {
  Segmenter s(tiny_model_scaled(), InputOptions{}, torch::kCPU);
  torch::manual_seed(5);
  const auto img = torch::rand({3, 48, 48}) * 0.4;
  const auto disc = box_fov(48, 48, 36, 36);
  ScaleInfo si;
  s.probability(img, disc, {}, &si);
  EXPECT_TRUE(si.image_statistics_weights.empty()) << "no ranges: the running statistics, nothing to report";
  const double d = s.statistics_distances(img, disc, {}).at(0);
  s.set_statistics_ranges({{d / 2, d * 1.5}});  // halfway up the ramp
  PredictOptions tta;
  tta.tta = true;
  s.probability(img, disc, tta, &si);
  ASSERT_EQ(si.image_statistics_weights.size(), 1u);
  EXPECT_NEAR(si.image_statistics_weights[0], 0.5, 0.1);
  s.set_statistics_ranges({{d * 2, d * 3}});  // inside the range
  s.probability(img, disc, {}, &si);
  EXPECT_EQ(si.image_statistics_weights, std::vector<double>{0.0});
  PredictOptions own;
  own.image_statistics = true;  // every pass on the photograph's own statistics
  s.probability(img, disc, own, &si);
  EXPECT_EQ(si.image_statistics_weights, std::vector<double>{1.0});
  s.set_statistics_ranges({{0, 0}});
  s.probability(img, torch::ones({1, 48, 48}), {}, &si);  // a patch: ranges do not apply
  EXPECT_TRUE(si.image_statistics_weights.empty());
}

TEST(Segmenter, ScaleNormalizationResizesTheFovToTheTrainingScaleAndMapsBack) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  torch::manual_seed(2);
  const auto img = torch::rand({3, 90, 120});
  const auto fov = box_fov(90, 120, 80, 100);  // 100 px across
  PredictOptions opt;
  opt.fov_diameter = 50;  // the model was trained on FOVs 50 px across: halve the photograph
  ScaleInfo si;
  const auto p = s.probability(img, fov, opt, &si);
  EXPECT_EQ(si.fov_diameter, 100.0);
  EXPECT_FALSE(si.fov_estimated);
  EXPECT_DOUBLE_EQ(si.scale, 0.5);
  EXPECT_EQ(si.height, 45);
  EXPECT_EQ(si.width, 60);
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({1, 90, 120}));
  // Exactly: resize, segment at native scale, resize the probability back.
  const auto expected = resize_to(s.probability(resize_to(img, 45, 60)), 90, 120).clamp(0, 1);
  EXPECT_TRUE(torch::allclose(p, expected, 1e-5, 1e-6));
}

TEST(Segmenter, APatchWhoseFovTheFrameCutsKeepsItsNativePixels) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  const auto img = torch::rand({3, 32, 32});
  PredictOptions opt;
  opt.fov_diameter = 540;  // a DRIVE-scale model: a whole photograph 32 px across would be enlarged 17x
  ScaleInfo si;
  const auto p = s.probability(img, torch::ones({1, 32, 32}), opt, &si);
  EXPECT_EQ(si.scale, 1.0);
  EXPECT_EQ(si.height, 32);
  EXPECT_TRUE(torch::allclose(p, s.probability(img), 1e-6, 1e-7));
}

TEST(Segmenter, APatchWithItsMaskIsNotPaddedToTheTrainingCanvas) {
  InputOptions canvas;
  canvas.pad_to = 128;  // the training photographs' canvas
  Segmenter padded(tiny_model(), canvas, torch::kCPU), native(tiny_model(), InputOptions{}, torch::kCPU);
  const auto img = torch::rand({3, 32, 32});
  EXPECT_TRUE(torch::allclose(padded.probability(img, torch::ones({1, 32, 32}), PredictOptions{}),
                              native.probability(img), 1e-6, 1e-7));
  EXPECT_FALSE(torch::allclose(padded.probability(img), native.probability(img), 1e-6, 1e-7));  // the canvas counts
}

TEST(Segmenter, ScaleNormalizationIsOffAtZeroAndWithinTwoPercent) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  const auto img = torch::rand({3, 40, 44});
  const auto fov = box_fov(40, 44, 40, 40);
  const auto native = s.probability(img);
  PredictOptions opt;
  ScaleInfo si;
  EXPECT_TRUE(torch::equal(s.probability(img, fov, opt, &si), native));
  EXPECT_EQ(si.scale, 1.0);
  opt.fov_diameter = 40.5;  // 1.25% off: not worth a resample
  EXPECT_TRUE(torch::equal(s.probability(img, fov, opt, &si), native));
  EXPECT_EQ(si.scale, 1.0);
  EXPECT_EQ(si.fov_diameter, 40.0);
  EXPECT_EQ(fov_scale(40, 40.5), 1.0);
  EXPECT_DOUBLE_EQ(fov_scale(40, 60), 1.5);
  EXPECT_EQ(fov_scale(0, 60), 1.0);
  EXPECT_EQ(fov_scale(40, 0), 1.0);
}

TEST(Segmenter, ScaleNormalizationEstimatesAMissingFov) {
  Segmenter s(tiny_model(), InputOptions{}, torch::kCPU);
  PhantomOptions po;
  po.size = 96;
  const PhantomSample ph = make_phantom(po, 3);
  PredictOptions opt;
  opt.fov_diameter = 44;
  ScaleInfo si;
  const auto p = s.probability(ph.image, torch::Tensor(), opt, &si);
  EXPECT_EQ(p.sizes(), torch::IntArrayRef({1, 96, 96}));
  EXPECT_TRUE(si.fov_estimated);
  EXPECT_NEAR(si.fov_diameter, fov_diameter(ph.mask), 3.0);  // ~88 px
  EXPECT_NEAR(si.scale, 0.5, 0.02);
}

namespace {
// Saves one tiny SA-UNet (seed 2) under each name, with {"train": ...} plus that name's extra config keys.
void save_tiny_checkpoints(const std::filesystem::path& dir, const std::map<std::string, nlohmann::json>& extras) {
  TrainOptions t;
  t.model.base_channels = 4;
  torch::manual_seed(2);
  SAUNet model(t.model);
  for (const auto& [name, extra] : extras) {
    CheckpointHeader h;
    h.kind = kSegCheckpointKind;
    h.config = {{"train", t}};
    h.config.update(extra);
    save_checkpoint(dir / name, h, *model);
  }
}
}  // namespace

TEST(Segmenter, PredictsWithImageStatisticsWhenItsCheckpointRecordsThem) {
  test::ScratchDir dir("segmenter_image_statistics");
  save_tiny_checkpoints(dir.path(), {{"plain.pt", nlohmann::json::object()},
                                     {"own.pt", {{"predict", {{"image_statistics", true}}}}},
                                     {"bad.pt", {{"predict", {{"image_statistics", "yes"}}}}}});
  const auto plain = Segmenter::load(dir.path() / "plain.pt", torch::kCPU);
  const auto own = Segmenter::load(dir.path() / "own.pt", torch::kCPU);
  EXPECT_FALSE(plain.image_statistics());
  EXPECT_TRUE(own.image_statistics());
  const auto img = torch::rand({3, 32, 32});
  PredictOptions with;
  with.image_statistics = true;
  EXPECT_TRUE(own.probability(img).equal(plain.probability(img, with)));
  EXPECT_FALSE(own.probability(img).equal(plain.probability(img)));
  EXPECT_THROW(Segmenter::load(dir.path() / "bad.pt", torch::kCPU), UserError);
}

TEST(Segmenter, LoadsTheStatisticsRangesItsCheckpointRecords) {
  test::ScratchDir dir("segmenter_statistics_ranges");
  const auto ranges = [](nlohmann::json r) { return nlohmann::json{{"predict", {{"statistics_ranges", r}}}}; };
  save_tiny_checkpoints(dir.path(), {{"plain.pt", nlohmann::json::object()},
                                     {"ranged.pt", ranges({{{"low", 0.1}, {"high", 0.2}}})},
                                     {"two.pt", ranges({{{"low", 0.1}, {"high", 0.2}}, {{"low", 0.1}, {"high", 0.2}}})},
                                     {"inverted.pt", ranges({{{"low", 0.3}, {"high", 0.2}}})},
                                     {"text.pt", ranges("wide")}});
  EXPECT_TRUE(Segmenter::load(dir.path() / "plain.pt", torch::kCPU).statistics_ranges().empty());
  const auto ranged = Segmenter::load(dir.path() / "ranged.pt", torch::kCPU);
  ASSERT_EQ(ranged.statistics_ranges().size(), 1u);
  EXPECT_EQ(ranged.statistics_ranges()[0].low, 0.1);
  EXPECT_EQ(ranged.statistics_ranges()[0].high, 0.2);
  for (const char* bad : {"two.pt", "inverted.pt", "text.pt"})
    EXPECT_THROW(Segmenter::load(dir.path() / bad, torch::kCPU), UserError) << bad;
}

TEST(Segmenter, AppliesTheCalibrationTemperatureItsCheckpointRecords) {
  test::ScratchDir dir("segmenter_temperature");
  save_tiny_checkpoints(dir.path(), {{"raw.pt", nlohmann::json::object()},
                                     {"cal.pt", {{"calibration", {{"temperature", 2.0}}}}},
                                     {"bad.pt", {{"calibration", {{"temperature", -1.0}}}}}});

  const Segmenter raw = Segmenter::load(dir.path() / "raw.pt", torch::kCPU);
  const Segmenter cal = Segmenter::load(dir.path() / "cal.pt", torch::kCPU);
  EXPECT_EQ(raw.temperature(), 1.0);
  EXPECT_EQ(cal.temperature(), 2.0);
  torch::manual_seed(3);
  const auto img = torch::rand({3, 32, 48});
  const auto p = raw.probability(img), q = cal.probability(img);
  EXPECT_TRUE(torch::allclose(q, apply_temperature(p, 2.0), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(q, p, 1e-4, 1e-5));
  EXPECT_NE(test::user_error([&] { Segmenter::load(dir.path() / "bad.pt", torch::kCPU); }).find("temperature"),
            std::string::npos);
}

TEST(Segmenter, TheCountRatioItsCheckpointRecordsIsTheDefaultAndAGivenOneWins) {
  test::ScratchDir dir("segmenter_count_ratio");
  save_tiny_checkpoints(dir.path(), {{"plain.pt", nlohmann::json::object()},
                                     {"ratio.pt", {{"predict", {{"count_ratio", 0.9}}}}},
                                     {"zero.pt", {{"predict", {{"count_ratio", 0.0}}}}},
                                     {"text.pt", {{"predict", {{"count_ratio", "high"}}}}}});
  const Segmenter plain = Segmenter::load(dir.path() / "plain.pt", torch::kCPU);
  const Segmenter ratio = Segmenter::load(dir.path() / "ratio.pt", torch::kCPU);
  EXPECT_EQ(plain.resolve_count_ratio(0), 1.0);
  EXPECT_EQ(ratio.resolve_count_ratio(0), 0.9);
  EXPECT_EQ(ratio.resolve_count_ratio(1.1), 1.1);
  for (const char* bad : {"zero.pt", "text.pt"})
    EXPECT_NE(test::user_error([&] { Segmenter::load(dir.path() / bad, torch::kCPU); }).find("count_ratio"),
              std::string::npos)
        << bad;
}

TEST(Segmenter, TheOperatingPointItsCheckpointRecordsIsTheDefaultAndAGivenOneWins) {
  test::ScratchDir dir("segmenter_operating_point");
  const nlohmann::json ec = {{"count_ratio", 0.9}, {"operating_point", "expected-count"}};
  save_tiny_checkpoints(dir.path(), {{"plain.pt", nlohmann::json::object()},
                                     {"ec.pt", {{"predict", ec}}},
                                     {"otsu.pt", {{"predict", {{"count_ratio", 0.9}, {"operating_point", "otsu"}}}}},
                                     {"number.pt", {{"predict", {{"count_ratio", 0.9}, {"operating_point", 1}}}}},
                                     {"no-ratio.pt", {{"predict", {{"operating_point", "expected-count"}}}}}});
  const Segmenter plain = Segmenter::load(dir.path() / "plain.pt", torch::kCPU);
  const Segmenter rec = Segmenter::load(dir.path() / "ec.pt", torch::kCPU);
  EXPECT_EQ(plain.resolve_operating_point(""), "fixed");
  EXPECT_EQ(rec.resolve_operating_point(""), "expected-count");
  EXPECT_EQ(rec.resolve_operating_point("fixed"), "fixed");
  EXPECT_EQ(rec.resolve_count_ratio(0), 0.9);
  for (const char* bad : {"otsu.pt", "number.pt"})
    EXPECT_NE(test::user_error([&] { Segmenter::load(dir.path() / bad, torch::kCPU); }).find("operating_point"),
              std::string::npos)
        << bad;
  // The rule was chosen with a ratio; without it expected-count would cut every photograph at another place.
  EXPECT_NE(test::user_error([&] { Segmenter::load(dir.path() / "no-ratio.pt", torch::kCPU); }).find("count ratio"),
            std::string::npos);
  // A file whose maps change loses the ratio, and the rule with it.
  nlohmann::json config = {{"predict", ec}};
  EXPECT_TRUE(drop_recorded_count_ratio(config));
  EXPECT_EQ(config.at("predict"), nlohmann::json::object());
}

TEST(Segmenter, TrainingScaleIsReadFromTheCheckpointConfig) {
  test::ScratchDir dir("segmenter_scale");
  TrainOptions t;
  t.model.base_channels = 4;
  SAUNet model(t.model);
  CheckpointHeader h;
  h.kind = kSegCheckpointKind;
  h.config = {{"train", t}};
  save_checkpoint(dir.path() / "plain.pt", h, *model);
  h.config["fov_diameter"] = 541.5;
  save_checkpoint(dir.path() / "scaled.pt", h, *model);
  const Segmenter plain = Segmenter::load(dir.path() / "plain.pt", torch::kCPU);
  const Segmenter scaled = Segmenter::load(dir.path() / "scaled.pt", torch::kCPU);
  EXPECT_EQ(plain.training_fov_diameter(), 0.0);
  EXPECT_EQ(scaled.training_fov_diameter(), 541.5);
  EXPECT_EQ(scaled.resolve_fov_diameter(-1), 541.5);
  EXPECT_EQ(scaled.resolve_fov_diameter(0), 0.0);
  EXPECT_EQ(scaled.resolve_fov_diameter(300), 300.0);
  EXPECT_EQ(plain.resolve_fov_diameter(-1), 0.0);
}

TEST(TrainingFovDiameter, IsTheMeanDiameterAfterTheInputResize) {
  std::vector<Sample> train(2);
  train[0].mask = box_fov(100, 80, 60, 50);  // 60 across, longer side 100
  train[1].mask = box_fov(50, 200, 40, 150);  // 150 across, longer side 200
  EXPECT_DOUBLE_EQ(training_fov_diameter(train, InputOptions{}), (60.0 + 150.0) / 2);
  InputOptions in;
  in.resize = 50;  // x0.5 and x0.25
  EXPECT_DOUBLE_EQ(training_fov_diameter(train, in), (30.0 + 37.5) / 2);
  EXPECT_EQ(training_fov_diameter({}, in), 0.0);
}

TEST(TrainingFovDiameter, LeavesOutFovsTheFrameCutsOnAllFourSides) {
  std::vector<Sample> train(3);
  train[0].mask = box_fov(100, 80, 60, 50);
  train[1].mask = torch::ones({1, 32, 32});  // a patch generator's tile: the frame, not a photograph's FOV
  train[2].mask = torch::ones({1, 64, 48});
  EXPECT_TRUE(fov_cut_by_frame(train[1].mask));
  EXPECT_FALSE(fov_cut_by_frame(train[0].mask));
  EXPECT_DOUBLE_EQ(training_fov_diameter(train, InputOptions{}), 60.0);
  EXPECT_EQ(training_fov_diameter({train[1], train[2]}, InputOptions{}), 0.0);
}

}  // namespace vg
