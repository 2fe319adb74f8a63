// `vesselgan ensemble` end to end on tiny phantom data with two small untrained checkpoints: mean and
// chosen-weight ensembles are scored and reported, and weights chosen on the scored split are refused.
#include <sys/wait.h>

#include <algorithm>

#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace {

using test::contains;

test::CliResult run_cli(const std::string& args, const test::ScratchDir& dir) {
  return test::run_vesselgan(args, dir);
}

// A small untrained SA-UNet checkpoint; different seeds give different models. It records `train_ids` when
// some are given.
// The ids of a phantom data set's training photographs, sorted.
std::vector<std::string> sorted_train_ids(const fs::path& data) {
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(data / "train" / "images")) ids.push_back(e.path().stem().string());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// head_bias: added to the output layer's bias (a large one puts every pixel above 0.5).
std::string tiny_checkpoint(const fs::path& path, uint64_t seed, const std::vector<std::string>& train_ids = {},
                            double head_bias = 0) {
  TrainOptions t;
  t.model.base_channels = 4;
  torch::manual_seed(seed);
  SAUNet model(t.model);
  if (head_bias != 0) {
    torch::NoGradGuard no_grad;
    model->named_parameters()["head.bias"].add_(head_bias);
  }
  CheckpointHeader h;
  h.kind = kSegCheckpointKind;
  h.config = {{"train", t}};
  if (!train_ids.empty()) h.config["train_ids"] = train_ids;
  save_checkpoint(path, h, *model);
  return path.string();
}

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(read_file(p)); }

// A scratch folder with phantom data (3 training and 2 test images) and two small untrained checkpoints.
struct TwoModels {
  explicit TwoModels(const std::string& name) : dir(name), data(dir.path() / "data") {
    PhantomOptions po;
    po.size = 48;
    write_phantom_dataset(data, 3, 2, po, 5);
    a = tiny_checkpoint(dir.path() / "a.pt", 1);
    b = tiny_checkpoint(dir.path() / "b.pt", 2);
  }
  test::ScratchDir dir;
  fs::path data;
  std::string a, b;
};

}  // namespace

TEST(EnsembleSmoke, CombinesModelsChoosesWeightsOnTrainAndRefusesTheTestSplit) {
  const TwoModels t("ens_smoke");
  const test::ScratchDir& dir = t.dir;
  const fs::path& data = t.data;
  const std::string &a = t.a, &b = t.b;
  const std::string common = " --model " + a + " --model " + b + " --data " + data.string() +
                             " --split test --device cpu --threads 2";

  // Mean of two models.
  const fs::path mean_out = dir.path() / "mean";
  auto r = run_cli("ensemble" + common + " --out " + mean_out.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto metrics = read_json(mean_out / "metrics.json");
  EXPECT_EQ(metrics["per_image"].size(), 2u);
  EXPECT_TRUE(contains(metrics["protocol"]["predictions"].get<std::string>(), "ensemble (mean)"));
  EXPECT_TRUE(contains(metrics["protocol"]["predictions"].get<std::string>(), "b.pt"));
  auto ens = read_json(mean_out / "ensemble.json");
  EXPECT_EQ(ens["ensemble"]["method"], "mean");
  EXPECT_EQ(ens["single_models"].size(), 2u);
  EXPECT_TRUE(contains(r.out, "| ensemble |")) << r.out;

  // Weights (1, 0) reproduce model A alone, as `evaluate` scores it.
  const fs::path w10 = dir.path() / "w10", eval_a = dir.path() / "eval_a";
  r = run_cli("ensemble" + common + " --weights 1,0 --out " + w10.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("evaluate --model " + a + " --data " + data.string() +
                  " --split test --device cpu --threads 2 --out " + eval_a.string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_json(w10 / "metrics.json")["fov_pooled"], read_json(eval_a / "metrics.json")["fov_pooled"]);

  // Weights chosen on the training split are used and reported.
  const fs::path chosen = dir.path() / "chosen";
  r = run_cli("ensemble" + common + " --choose-weights-on train --out " + chosen.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  ens = read_json(chosen / "ensemble.json");
  EXPECT_EQ(ens["ensemble"]["method"], "weighted");
  ASSERT_EQ(ens["ensemble"]["weights"].size(), 2u);
  EXPECT_NEAR(ens["ensemble"]["weights"][0].get<double>() + ens["ensemble"]["weights"][1].get<double>(), 1.0,
              1e-9);
  EXPECT_EQ(ens["weight_search"]["split"], "train");
  EXPECT_EQ(ens["weight_search"]["images"], 3);
  metrics = read_json(chosen / "metrics.json");
  EXPECT_TRUE(contains(metrics["protocol"]["predictions"].get<std::string>(), "chosen on the train split"));

  // Bad requests: one-line user errors (exit 2).
  auto expect_user_error = [&](const std::string& args, const std::string& must_mention) {
    const auto e = run_cli("ensemble" + args, dir);
    EXPECT_EQ(e.code, 2) << args << "\n" << e.err;
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
    EXPECT_TRUE(contains(e.err, must_mention)) << args << "\n" << e.err;
  };
  expect_user_error(common + " --choose-weights-on test --out " + (dir.path() / "x").string(),
                    "--choose-weights-on");
  expect_user_error(common + " --weights 0.6 --out " + (dir.path() / "x").string(), "--weights");
  expect_user_error(common + " --method median --out " + (dir.path() / "x").string(), "median");
  expect_user_error(" --model " + a + " --data " + data.string() + " --device cpu", "at least two");
}

TEST(EnsembleSmoke, ExportWritesOneEnsembleFileThatEvaluatesLikeTheMeanEnsemble) {
  const TwoModels t("ens_export_smoke");
  const test::ScratchDir& dir = t.dir;
  const fs::path& data = t.data;
  const std::string &a = t.a, &b = t.b;
  const fs::path ens = dir.path() / "ens.pt";
  auto r = run_cli("export --model " + a + " --model " + b + " --out " + ens.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "ensemble")) << r.out;

  // `evaluate` takes the file as it takes one model, and scores what `ensemble --method mean` scores.
  const fs::path eval_ens = dir.path() / "eval_ens", mean_out = dir.path() / "mean";
  r = run_cli("evaluate --model " + ens.string() + " --data " + data.string() +
                  " --split test --device cpu --threads 2 --out " + eval_ens.string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("ensemble --model " + a + " --model " + b + " --data " + data.string() +
                  " --split test --device cpu --threads 2 --out " + mean_out.string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto got = read_json(eval_ens / "metrics.json")["fov_pooled"];
  const auto want = read_json(mean_out / "metrics.json")["fov_pooled"];
  for (const char* k : {"f1", "auc_roc", "se", "sp"})
    EXPECT_NEAR(got[k].get<double>(), want[k].get<double>(), 1e-6) << k;

  // An ensemble is not a member of another, and --weights needs several models: one-line user errors.
  for (const std::string& args :
       {"export --model " + ens.string() + " --model " + a + " --out " + (dir.path() / "x.pt").string(),
        "export --model " + a + " --weights 1 --out " + (dir.path() / "y.pt").string()}) {
    const auto e = run_cli(args, dir);
    EXPECT_EQ(e.code, 2) << args << "\n" << e.err;
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "x.pt"));
}

TEST(EnsembleSmoke, ExportRecordsACompressionGateAndSegmentNamesEachPhotographsBlockiness) {
  const TwoModels t("ens_export_gate_smoke");
  const test::ScratchDir& dir = t.dir;
  const fs::path ens = dir.path() / "gated.pt";
  auto r = run_cli("export --model " + t.a + " --model " + t.b + " --weights 1,0 --compressed-weights 0,1 --out " +
                       ens.string(),
                   dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto gate = read_checkpoint_header(ens).config.at("ensemble").at("compressed");
  EXPECT_EQ(gate.at("weights"), nlohmann::json::array({0.0, 1.0})) << gate.dump();
  EXPECT_EQ(gate.at("above").get<double>(), 2.0) << gate.dump();

  const fs::path image = t.data / "test" / "images";
  r = run_cli("segment --model " + ens.string() + " --out " + (dir.path() / "seg").string() +
                  " --device cpu --threads 2 " + image.string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err + r.out, "JPEG blockiness")) << r.err << r.out;

  // A bound without weights, weights that do not fit, and a bound a clean photograph would pass: one-line
  // user errors that write nothing.
  const std::string models = "export --model " + t.a + " --model " + t.b + " --out " + (dir.path() / "x.pt").string();
  for (const std::string& args : {models + " --compressed-above 3", models + " --compressed-weights 1",
                                  models + " --compressed-weights 0,1 --compressed-above 0.5"}) {
    const auto e = run_cli(args, dir);
    EXPECT_EQ(e.code, 2) << args << "\n" << e.err;
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "x.pt"));
}

TEST(EnsembleSmoke, ExportMemberWritesOneMemberThatEvaluatesLikeTheModelItCameFrom) {
  const TwoModels t("ens_member_smoke");
  const test::ScratchDir& dir = t.dir;
  const fs::path ens = dir.path() / "ens.pt", second = dir.path() / "second.pt";
  ASSERT_EQ(run_cli("export --model " + t.a + " --model " + t.b + " --out " + ens.string(), dir).code, 0);
  auto r = run_cli("export --model " + ens.string() + " --member 2 --out " + second.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;

  // Member 2 is b: the same scores, and a plain "sa-unet" checkpoint that training can start from.
  EXPECT_EQ(read_checkpoint_header(second).kind, kSegCheckpointKind);
  const fs::path from_member = dir.path() / "eval_member", from_b = dir.path() / "eval_b";
  for (const auto& [model, out] : {std::pair{second.string(), from_member}, std::pair{t.b, from_b}}) {
    r = run_cli("evaluate --model " + model + " --data " + t.data.string() +
                    " --split test --device cpu --threads 2 --out " + out.string(),
                dir);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const auto got = read_json(from_member / "metrics.json")["fov_pooled"];
  const auto want = read_json(from_b / "metrics.json")["fov_pooled"];
  for (const char* k : {"f1", "auc_roc"}) EXPECT_DOUBLE_EQ(got[k].get<double>(), want[k].get<double>()) << k;

  // A member that does not exist, or a single model, is a one-line user error that writes nothing.
  for (const std::string& args : {"export --model " + ens.string() + " --member 3 --out " + (dir.path() / "x.pt").string(),
                                  "export --model " + t.a + " --member 1 --out " + (dir.path() / "x.pt").string()}) {
    const auto e = run_cli(args, dir);
    EXPECT_EQ(e.code, 2) << args << "\n" << e.err;
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "x.pt"));
}

TEST(EnsembleSmoke, ExportKeepsATemperatureOnlyForTheMapsItWasFittedOn) {
  const TwoModels t("ens_temperature_smoke");
  const test::ScratchDir& dir = t.dir;
  const std::string id = sorted_train_ids(t.data).back();
  const auto calibrate = [&](const fs::path& model, const fs::path& out) {
    const auto r = run_cli("calibrate --model " + model.string() + " --data " + t.data.string() + " --ids " + id +
                               " --threads 2 --out " + out.string(),
                           dir);
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(read_checkpoint_header(out).config.contains("calibration"));
  };
  const auto calibrated = [](const fs::path& p) { return read_checkpoint_header(p).config.contains("calibration"); };
  const fs::path cal_a = dir.path() / "cal_a.pt", slim = dir.path() / "slim.pt", ens = dir.path() / "ens.pt",
                 cal_ens = dir.path() / "cal_ens.pt", member = dir.path() / "member.pt";
  calibrate(t.a, cal_a);

  // One model exported alone keeps its own temperature: the maps are the ones it was fitted on.
  auto r = run_cli("export --model " + cal_a.string() + " --out " + slim.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(calibrated(slim));

  // An ensemble averages other maps than its first member's, and one member alone is sharper than the average
  // it was calibrated in: neither keeps the temperature, and export says so.
  r = run_cli("export --model " + cal_a.string() + " --model " + t.b + " --out " + ens.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(calibrated(ens));
  EXPECT_TRUE(contains(r.out, "vesselgan calibrate")) << r.out;
  calibrate(ens, cal_ens);
  r = run_cli("export --model " + cal_ens.string() + " --member 1 --out " + member.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(calibrated(member));
  EXPECT_TRUE(contains(r.out, "vesselgan calibrate")) << r.out;
}

TEST(EnsembleSmoke, AMemberOfAnotherEnhancementIsExportedWithItsOwnInput) {
  const TwoModels t("ens_member_enhance_smoke");
  const test::ScratchDir& dir = t.dir;
  // b again, but trained (as its config says) on the green channel after CLAHE.
  const fs::path c = dir.path() / "c.pt", ens = dir.path() / "ens.pt", second = dir.path() / "second.pt";
  auto h = read_checkpoint_header(t.b);
  h.config["train"]["input"]["enhance"] = "green-clahe";
  {
    TrainOptions o = h.config.at("train").get<TrainOptions>();
    SAUNet net(o.model);
    load_checkpoint(t.b, kSegCheckpointKind, *net, torch::kCPU);
    save_checkpoint(c, h, *net);
  }
  ASSERT_EQ(run_cli("export --model " + t.a + " --model " + c.string() + " --out " + ens.string(), dir).code, 0);
  const auto r = run_cli("export --model " + ens.string() + " --member 2 --out " + second.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_checkpoint_header(second).config.at("train").at("input").at("enhance"), "green-clahe");
}

TEST(EnsembleSmoke, AMemberOfAnEnsembleWithStatisticsRangesKeepsItsOwnRangeAndEvaluates) {
  // The shipped model records one statistics range per network; a member exported alone is one network.
  const TwoModels t("ens_member_ranges_smoke");
  const test::ScratchDir& dir = t.dir;
  const std::vector<std::string> ids = sorted_train_ids(t.data);
  const std::vector<std::string> trained_on(ids.begin(), ids.end() - 1);
  const std::string a = tiny_checkpoint(dir.path() / "ra.pt", 5, trained_on);
  const std::string b = tiny_checkpoint(dir.path() / "rb.pt", 6, trained_on);
  const fs::path ens = dir.path() / "ens.pt", ranged = dir.path() / "ranged.pt", second = dir.path() / "second.pt";
  ASSERT_EQ(run_cli("export --model " + a + " --model " + b + " --out " + ens.string(), dir).code, 0);
  auto r = run_cli("calibrate --model " + ens.string() + " --statistics-range 2 --data " + t.data.string() +
                       " --ids " + ids.back() + " --threads 2 --out " + ranged.string(),
                   dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto ranges = read_checkpoint_header(ranged).config.at("predict").at("statistics_ranges");
  ASSERT_EQ(ranges.size(), 2u);
  r = run_cli("export --model " + ranged.string() + " --member 2 --out " + second.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto own = read_checkpoint_header(second).config.at("predict").at("statistics_ranges");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0], ranges[1]);
  r = run_cli("evaluate --model " + second.string() + " --data " + t.data.string() +
                  " --split test --device cpu --threads 2 --out " + (dir.path() / "e").string(),
              dir);
  EXPECT_EQ(r.code, 0) << r.err;

  // Members re-assembled keep their ranges in order; with a member that has none, the ensemble records none
  // and says so. Both evaluate.
  const fs::path first = dir.path() / "first.pt", again = dir.path() / "again.pt", mixed = dir.path() / "mixed.pt";
  ASSERT_EQ(run_cli("export --model " + ranged.string() + " --member 1 --out " + first.string(), dir).code, 0);
  ASSERT_EQ(run_cli("export --model " + first.string() + " --model " + second.string() + " --out " + again.string(),
                    dir).code, 0);
  EXPECT_EQ(read_checkpoint_header(again).config.at("predict").at("statistics_ranges"), ranges);
  r = run_cli("export --model " + second.string() + " --model " + a + " --out " + mixed.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "records none")) << r.out;
  EXPECT_FALSE(read_checkpoint_header(mixed).config.value("predict", nlohmann::json::object()).contains(
      "statistics_ranges"));
  for (const fs::path& m : {again, mixed}) {
    r = run_cli("evaluate --model " + m.string() + " --data " + t.data.string() +
                    " --split test --device cpu --threads 2 --out " + (dir.path() / ("e-" + m.stem().string())).string(),
                dir);
    EXPECT_EQ(r.code, 0) << m << "\n" << r.err;
  }
}

TEST(EnsembleSmoke, CalibrateFitsOnHeldOutImagesOnlyAndKeepsTheThresholdedMap) {
  const TwoModels t("ens_calibrate_smoke");
  const test::ScratchDir& dir = t.dir;
  // These checkpoints record no validation images: calibrating needs --ids, and says so in one line.
  const fs::path cal = dir.path() / "cal.pt";
  auto r = run_cli("calibrate --model " + t.a + " --data " + t.data.string() + " --out " + cal.string(), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "--ids")) << r.err;
  EXPECT_FALSE(fs::exists(cal));
  std::string id;
  for (const auto& e : fs::directory_iterator(t.data / "train" / "images")) id = e.path().stem().string();
  r = run_cli("calibrate --model " + t.a + " --data " + t.data.string() + " --ids " + id + " --threads 2 --out " +
                  cal.string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "temperature")) << r.out;
  EXPECT_TRUE(read_checkpoint_header(cal).config.at("calibration").contains("temperature"));
  // The thresholded map stays exactly; the ranking stays up to ties that float32 rounding makes among this
  // untrained model's near-0.5 probabilities when the temperature compresses them.
  const fs::path e1 = dir.path() / "e1", e2 = dir.path() / "e2";
  for (const auto& [model, out] : {std::pair{t.a, e1}, std::pair{cal.string(), e2}})
    ASSERT_EQ(run_cli("evaluate --model " + model + " --data " + t.data.string() +
                          " --split test --device cpu --threads 2 --out " + out.string(),
                      dir).code, 0);
  const auto a = read_json(e1 / "metrics.json")["fov_pooled"], b = read_json(e2 / "metrics.json")["fov_pooled"];
  EXPECT_EQ(a["f1"].get<double>(), b["f1"].get<double>());
  EXPECT_NEAR(a["auc_roc"].get<double>(), b["auc_roc"].get<double>(), 1e-3);
}

TEST(EnsembleSmoke, CalibrateRecordsStatisticsRangesFittedOnTheModelsTrainingPhotographs) {
  const TwoModels t("ens_statistics_range_smoke");
  const test::ScratchDir& dir = t.dir;
  const std::vector<std::string> ids = sorted_train_ids(t.data);
  const std::string held_out = ids.back();
  const std::string trained = tiny_checkpoint(dir.path() / "trained.pt", 3, {ids.begin(), ids.end() - 1});
  const std::string common = " --data " + t.data.string() + " --ids " + held_out + " --threads 2 --out ";

  // Refused in one line, nothing written: a factor below 1, and a checkpoint without training ids.
  const fs::path bad = dir.path() / "bad.pt";
  for (const std::string& args : {"calibrate --model " + trained + " --statistics-range 0.5" + common + bad.string(),
                                  "calibrate --model " + t.a + " --statistics-range 2" + common + bad.string()}) {
    const auto r = run_cli(args, dir);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, "error: ")) << r.err;
    EXPECT_EQ(r.err.find("error: "), r.err.rfind("error: ")) << r.err;
    EXPECT_TRUE(contains(r.err, "(valid: ") || contains(r.err, "records no training ids")) << r.err;
  }
  EXPECT_FALSE(fs::exists(bad));

  const fs::path ranged = dir.path() / "ranged.pt";
  auto r = run_cli("calibrate --model " + trained + " --statistics-range 2" + common + ranged.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "network 1: running statistics up to distance")) << r.out;
  const auto predict = read_checkpoint_header(ranged).config.at("predict");
  ASSERT_EQ(predict.at("statistics_ranges").size(), 1u);
  const double low = predict["statistics_ranges"][0]["low"], high = predict["statistics_ranges"][0]["high"];
  EXPECT_GT(low, 0.0);
  EXPECT_NEAR(high, 2 * low, 1e-12);
  // Fitted on the photographs the model was trained on, not the held-out one.
  EXPECT_EQ(predict.at("statistics_fit").at("ids").get<std::vector<std::string>>(),
            std::vector<std::string>(ids.begin(), ids.end() - 1));
  const fs::path e = dir.path() / "e";
  r = run_cli("evaluate --model " + ranged.string() + " --data " + t.data.string() +
                  " --split test --device cpu --threads 2 --out " + e.string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(read_json(e / "metrics.json")["protocol"]["predictions"].get<std::string>(),
                       "(adaptive image statistics)"));
}

TEST(EnsembleSmoke, CalibrateRecordsTheCountRatioOfTheModelsTrainingPhotographsAndEvaluateUsesIt) {
  const TwoModels t("ens_count_ratio_smoke");
  const test::ScratchDir& dir = t.dir;
  const std::vector<std::string> ids = sorted_train_ids(t.data);
  const std::string common = " --data " + t.data.string() + " --ids " + ids.back() + " --threads 2 --out ";
  const fs::path with = dir.path() / "with.pt";
  // An untrained network puts no pixel above 0.5: no ratio to record, refused in one line, nothing written.
  const std::string dim = tiny_checkpoint(dir.path() / "dim.pt", 3, {ids.begin(), ids.end() - 1}, -5);
  auto r = run_cli("calibrate --model " + dim + " --count-ratio" + common + with.string(), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "no pixel")) << r.err;
  EXPECT_FALSE(fs::exists(with));
  // One whose head is biased up puts every pixel above 0.5, also after the fitted temperature (which keeps each
  // logit's sign): each pixel counts 1 and adds between 0.5 and 1 to the sum, so the ratio lies in (1, 2).
  const std::string lit = tiny_checkpoint(dir.path() / "lit.pt", 3, {ids.begin(), ids.end() - 1}, 8);
  r = run_cli("calibrate --model " + lit + " --count-ratio" + common + with.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "count ratio ")) << r.out;
  const double ratio = read_checkpoint_header(with).config.at("predict").at("count_ratio");
  EXPECT_GT(ratio, 1.0);
  EXPECT_LT(ratio, 2.0);

  // Recalibrated without the flag, the ratio (measured under the old calibration) is dropped, and said so.
  const fs::path again = dir.path() / "again.pt";
  r = run_cli("calibrate --model " + with.string() + common + again.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "count ratio")) << r.out;
  EXPECT_FALSE(read_checkpoint_header(again).config.value("predict", nlohmann::json::object()).contains("count_ratio"));

  // evaluate's expected-count operating point takes the recorded ratio unless --count-ratio gives one.
  std::ostringstream text;
  text << ratio;
  for (const auto& [flags, expected] : {std::pair<std::string, std::string>{"", text.str()}, {" --count-ratio 1.5", "1.5"}}) {
    const fs::path e = dir.path() / ("e" + std::to_string(flags.size()));
    r = run_cli("evaluate --model " + with.string() + " --operating-point expected-count" + flags + " --data " +
                    t.data.string() + " --split test --device cpu --threads 2 --out " + e.string(),
                dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(read_json(e / "metrics.json")["protocol"]["predictions"].get<std::string>(),
                         "count ratio " + expected))
        << flags;
  }
}

TEST(EnsembleSmoke, CalibrateRecordsAnOperatingPointThatSegmentAndEvaluateUseUnlessToldOtherwise) {
  const TwoModels t("ens_operating_point_smoke");
  const test::ScratchDir& dir = t.dir;
  const std::vector<std::string> ids = sorted_train_ids(t.data);
  const std::string common = " --data " + t.data.string() + " --ids " + ids.back() + " --threads 2 --out ";
  const std::string lit = tiny_checkpoint(dir.path() / "lit.pt", 3, {ids.begin(), ids.end() - 1}, 8);
  const fs::path ec = dir.path() / "ec.pt";
  // The rule cuts with a ratio, so it is refused without one, in one line, before any work; nothing is written.
  auto r = run_cli("calibrate --model " + lit + " --operating-point expected-count" + common + ec.string(), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "--operating-point expected-count needs --count-ratio")) << r.err;
  EXPECT_FALSE(fs::exists(ec));
  r = run_cli("calibrate --model " + lit + " --count-ratio --operating-point otsu" + common + ec.string(), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_FALSE(fs::exists(ec));

  r = run_cli("calibrate --model " + lit + " --count-ratio --operating-point expected-count" + common + ec.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "operating point expected-count")) << r.out;
  EXPECT_EQ(read_checkpoint_header(ec).config.at("predict").at("operating_point"), "expected-count");

  // evaluate reads the model at its recorded rule without a flag; --operating-point fixed overrides it.
  const auto predictions = [&](const std::string& flags) {
    const fs::path e = dir.path() / ("e" + std::to_string(flags.size()));
    r = run_cli("evaluate --model " + ec.string() + flags + " --data " + t.data.string() +
                    " --split test --device cpu --threads 2 --out " + e.string(),
                dir);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_json(e / "metrics.json")["protocol"]["predictions"].get<std::string>();
  };
  EXPECT_TRUE(contains(predictions(""), "(operating point expected-count, count ratio ")) << predictions("");
  EXPECT_FALSE(contains(predictions(" --operating-point fixed"), "operating point"));

  // segment too: the recorded rule moves each map's own threshold to 0.5, so its maps differ from fixed ones.
  const std::string test_id = fs::directory_iterator(t.data / "test" / "images")->path().stem().string();
  const auto segmented = [&](const std::string& name, const std::string& flags) {
    r = run_cli("segment --model " + ec.string() + flags + " --data " + t.data.string() +
                    " --split test --bits 16 --device cpu --threads 2 --out " + (dir.path() / name).string(),
                dir);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_file(dir.path() / name / (test_id + "_prob.png"));
  };
  const std::string by_default = segmented("s-default", ""), by_rule = segmented("s-ec", " --operating-point expected-count"),
                    fixed = segmented("s-fixed", " --operating-point fixed");
  EXPECT_EQ(by_default, by_rule);
  EXPECT_NE(by_default, fixed);

  // Recalibrated with the ratio measured again, the rule stays; without the ratio it goes too, and is said to.
  const fs::path kept = dir.path() / "kept.pt", dropped = dir.path() / "dropped.pt";
  r = run_cli("calibrate --model " + ec.string() + " --count-ratio" + common + kept.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_checkpoint_header(kept).config.at("predict").at("operating_point"), "expected-count");
  r = run_cli("calibrate --model " + ec.string() + common + dropped.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "and with it the operating point expected-count")) << r.out;
  EXPECT_FALSE(read_checkpoint_header(dropped).config.value("predict", nlohmann::json::object()).contains("operating_point"));
}

}  // namespace vg
