// Drives the real `vesselgan` program end to end on tiny phantom data, and checks its bad-input behaviour.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/core/files.h"

namespace vg {

namespace {

test::CliResult run_cli(const std::string& args, const test::ScratchDir& dir) {
  return test::run_vesselgan(args, dir);
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST(CliSmoke, PhantomTrainSegmentEvaluateEndToEnd) {
  test::ScratchDir dir("cli_e2e");
  const std::string d = (dir.path() / "data").string(), run = (dir.path() / "run").string();
  auto r = run_cli("phantom --n 6 --n-test 2 --size 64 --out " + d, dir);
  ASSERT_EQ(r.code, 0) << r.err;

  r = run_cli("train --data " + d + " --out " + run +
                  " --preset quick --epochs 2 --batch 2 --val-count 1 --device cpu --threads 2",
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(run + "/checkpoints/best.pt"));
  EXPECT_TRUE(fs::exists(run + "/curves.svg"));
  EXPECT_NE(read_file(run + "/stats.jsonl").find("val_f1"), std::string::npos);
  // A second run into the same folder must not clobber it; --resume of a finished run is a no-op.
  r = run_cli("train --data " + d + " --out " + run + " --epochs 2", dir);
  EXPECT_EQ(r.code, 2);
  r = run_cli("train --out " + run + " --resume --device cpu", dir);
  EXPECT_EQ(r.code, 0) << r.err;

  const std::string seg = (dir.path() / "seg").string();
  r = run_cli(
      "segment --model " + run + "/checkpoints/best.pt --data " + d + " --split test --bits 16 --out " + seg,
      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* suffix : {"_prob.png", "_mask.png", "_overlay.png"})
    EXPECT_TRUE(fs::exists(seg + "/07" + suffix)) << suffix;

  const std::string ev = (dir.path() / "eval").string();
  r = run_cli("evaluate --model " + run + "/checkpoints/best.pt --data " + d + " --split test --out " + ev,
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto metrics = nlohmann::json::parse(read_file(ev + "/metrics.json"));
  for (const char* section : {"fov_pooled", "whole_image_pooled", "per_image_mean", "per_image_std"})
    for (const char* key :
         {"se", "sp", "acc", "precision", "f1", "iou", "mcc", "auc_roc", "auc_pr", "cldice"})
      EXPECT_TRUE(metrics[section].contains(key)) << section << "." << key;
  EXPECT_EQ(metrics["per_image"].size(), 2u);
  EXPECT_TRUE(fs::exists(ev + "/roc.svg"));

  // Saved probability maps score the same way (16-bit quantised: AUC within a small tolerance).
  const std::string ev2 = (dir.path() / "eval_pred").string();
  r = run_cli("evaluate --pred " + seg + " --data " + d + " --split test --out " + ev2, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto m2 = nlohmann::json::parse(read_file(ev2 + "/metrics.json"));
  EXPECT_NEAR(m2["fov_pooled"]["auc_roc"].get<double>(), metrics["fov_pooled"]["auc_roc"].get<double>(),
              0.01);
}

TEST(CliSmoke, DemoRunsOnBuiltInPhantomsAndPrintsTheTable) {
  test::ScratchDir dir("cli_demo");
  auto r = run_cli(
      "demo --out " + (dir.path() / "demo").string() + " --size 64 --n 6 --n-test 2 --epochs 2 --device cpu",
      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("FOV"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir.path() / "demo/eval/metrics.json"));
}

TEST(CliSmoke, DriveSecondObserverReproducesProtocolFigures) {
  VG_REQUIRE_DRIVE(drive);
  test::ScratchDir dir("cli_drive_2nd");
  const auto r =
      run_cli("evaluate --data " + drive.string() + " --split test --pred " +
                  (drive / "testing/2nd_manual").string() + " --out " + (dir.path() / "eval").string(),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto m = nlohmann::json::parse(read_file(dir.path() / "eval/metrics.json"));
  const auto& fov = m["fov_pooled"];
  // ../shared/docs/protocol.md: FOV pooled over all 4,538,143 FOV pixels of the 20 test images.
  EXPECT_EQ(m["fov_pixels"], 4538143);
  EXPECT_NEAR(fov["se"].get<double>(), 0.7746, 5e-5);
  EXPECT_NEAR(fov["sp"].get<double>(), 0.9725, 5e-5);
  EXPECT_NEAR(fov["acc"].get<double>(), 0.9473, 5e-5);
  EXPECT_NEAR(fov["precision"].get<double>(), 0.8040, 5e-5);
  EXPECT_NEAR(fov["f1"].get<double>(), 0.7891, 5e-5);
}

TEST(CliSmoke, BadInputsAreOneLineErrorsWithExitCode2) {
  test::ScratchDir dir("cli_bad");
  const std::string d = (dir.path() / "data").string();
  ASSERT_EQ(run_cli("phantom --n 3 --n-test 1 --size 32 --out " + d, dir).code, 0);

  auto expect_user_error = [&](const std::string& args, const std::string& must_mention) {
    const auto r = run_cli(args, dir);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err.substr(r.err.find("vesselgan: error:"))), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(must_mention), std::string::npos) << args << "\n" << r.err;
  };
  // Empty folder, missing checkpoint, unknown layout.
  fs::create_directories(dir.path() / "empty");
  expect_user_error(
      "train --data " + (dir.path() / "empty").string() + " --out " + (dir.path() / "r1").string(), "empty");
  expect_user_error("evaluate --model " + (dir.path() / "nope.pt").string() + " --data " + d, "nope.pt");
  expect_user_error("evaluate --pred " + d + " --data " + d + " --layout weird", "weird");
  // An unknown operating-point rule, a negative ratio.
  expect_user_error("evaluate --data " + d + " --operating-point otsu", "valid: fixed | expected-count");
  expect_user_error("segment --data " + d + " --count-ratio -0.5 --out " + (dir.path() / "s1").string(),
                    "--count-ratio: value -0.5 is not a number >= 0");
  EXPECT_FALSE(fs::exists(dir.path() / "s1"));
  // A --data folder that does not exist is an input problem too (exit 2, as the README promises), and the
  // refused run writes nothing.
  const std::string missing = (dir.path() / "no-such-folder").string();
  for (const std::string& cmd : {"train --out " + (dir.path() / "r0").string(), std::string("evaluate"),
                                "segment --out " + (dir.path() / "s0").string()})
    expect_user_error(cmd + " --data " + missing, missing);
  EXPECT_FALSE(fs::exists(dir.path() / "r0"));
  EXPECT_FALSE(fs::exists(dir.path() / "s0"));
  // A bad config value and an unknown config key.
  write_file_atomic(dir.path() / "bad.json", R"({"batch_size": 0})");
  expect_user_error("train --data " + d + " --out " + (dir.path() / "r2").string() + " --config " +
                        (dir.path() / "bad.json").string(),
                    "batch_size");
  write_file_atomic(dir.path() / "typo.json", R"({"batchsize": 2})");
  expect_user_error("train --data " + d + " --out " + (dir.path() / "r3").string() + " --config " +
                        (dir.path() / "typo.json").string(),
                    "batchsize");
  // A truncated image in the data set.
  const auto img = fs::path(d) / "train/images/01.png";
  fs::resize_file(img, fs::file_size(img) / 2);
  expect_user_error("train --data " + d + " --out " + (dir.path() / "r4").string(), "01.png");
  // A missing label.
  fs::remove(fs::path(d) / "train/labels/02.png");
  fs::remove(img);
  expect_user_error("train --data " + d + " --out " + (dir.path() / "r5").string(), "02");
}

}  // namespace vg
