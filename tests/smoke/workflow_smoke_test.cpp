// The README's workflows as a user runs them, and the refusals that must leave earlier work untouched.
#include <fstream>

#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/core/files.h"

namespace vg {

namespace {

test::CliResult run_cli(const std::string& args, const test::ScratchDir& dir) { return test::run_vesselgan(args, dir); }

void copy_into(const fs::path& file, const fs::path& folder, const std::string& name = "") {
  fs::create_directories(folder);
  fs::copy_file(file, folder / (name.empty() ? file.filename().string() : name), fs::copy_options::overwrite_existing);
}

}  // namespace

TEST(WorkflowSmoke, RefusedTrainingRunsLeaveTheRunFolderAlone) {
  test::ScratchDir dir("wf_refused");
  const std::string a = (dir.path() / "a").string(), b = (dir.path() / "b").string();
  ASSERT_EQ(run_cli("phantom --n 4 --n-test 1 --size 64 --out " + a, dir).code, 0);
  ASSERT_EQ(run_cli("phantom --n 4 --n-test 1 --size 64 --seed 9 --out " + b, dir).code, 0);

  const std::string run = (dir.path() / "seg-run").string();
  auto r = run_cli("train --data " + a + " --out " + run + " --preset quick --epochs 1 --val-count 1 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string run_json = read_file(run + "/run.json");
  r = run_cli("train --data " + b + " --out " + run + " --preset quick --epochs 1", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(test::contains(r.err, "already holds")) << r.err;
  EXPECT_EQ(read_file(run + "/run.json"), run_json) << "a refused train rewrote run.json";

  const std::string gan = (dir.path() / "gan-run").string();
  r = run_cli("gan train --data " + a + " --out " + gan + " --preset toy --kimg 0.016 --batch 8 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string gan_json = read_file(gan + "/run.json");
  r = run_cli("gan train --data " + b + " --out " + gan + " --preset toy --kimg 0.016", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(read_file(gan + "/run.json"), gan_json) << "a refused gan train rewrote run.json";
}

TEST(WorkflowSmoke, ResumedGanTrainRunsAndReportsTheCheckpointsRecipe) {
  // `gan train --out RUN --resume` alone continues RUN's recipe: not the default preset's batch or length.
  test::ScratchDir dir("wf_gan_resume");
  const std::string a = (dir.path() / "a").string(), gan = (dir.path() / "gan").string();
  ASSERT_EQ(run_cli("phantom --n 4 --n-test 1 --size 64 --out " + a, dir).code, 0);
  auto r = run_cli("gan train --data " + a + " --out " + gan + " --preset toy --kimg 0.016 --batch 8 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("gan train --out " + gan + " --resume --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(test::contains(r.err, "0.016 kimg, batch 8")) << r.err;
  EXPECT_TRUE(test::contains(r.out, "trained to 0.016 kimg")) << r.out;
  r = run_cli("gan train --out " + gan + " --resume --kimg 0.032 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(test::contains(r.err, "0.032 kimg, batch 8")) << r.err;
  EXPECT_TRUE(test::contains(r.out, "trained to 0.032 kimg")) << r.out;
}

TEST(WorkflowSmoke, SegmentAllSplitsWritesOneSetOfFilesPerSampleId) {
  // Two splits holding the same file names: ids become train_01 / test_01, and so do the outputs.
  test::ScratchDir dir("wf_all_splits");
  const fs::path ph = dir.path() / "ph", root = dir.path() / "data";
  ASSERT_EQ(run_cli("phantom --n 1 --n-test 1 --size 64 --out " + ph.string(), dir).code, 0);
  for (const char* split : {"train", "test"})
    for (const char* sub : {"images", "labels", "masks"})
      for (const auto& e : fs::directory_iterator(ph / split / sub)) copy_into(e.path(), root / split / sub, "01.png");
  const std::string model = (dir.path() / "m").string();
  ASSERT_EQ(run_cli("train --data " + root.string() + " --out " + model + " --preset quick --epochs 1 --val-count 0",
                    dir).code, 0);
  const fs::path seg = dir.path() / "seg";
  auto r = run_cli("segment --model " + model + "/checkpoints/last.pt --data " + root.string() + " --split all --out " +
                       seg.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(seg / "train_01_prob.png"));
  EXPECT_TRUE(fs::exists(seg / "test_01_prob.png"));
  r = run_cli("evaluate --pred " + seg.string() + " --data " + root.string() + " --split all", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  // Without --out the report goes to evaluation/ in the folder the command ran in.
  EXPECT_TRUE(fs::exists(dir.path() / "evaluation" / "metrics.json"));
  // Two inputs of one name would overwrite each other's outputs: refused before anything is written.
  r = run_cli("segment --model " + model + "/checkpoints/last.pt --out " + (dir.path() / "dup").string() + " " +
                  (root / "train/images/01.png").string() + " " + (root / "test/images/01.png").string(), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(test::contains(r.err, "would both write")) << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "dup" / "01_prob.png"));
}

TEST(WorkflowSmoke, DriveSegmentThenEvaluateWorksAsTheReadmeSays) {
  VG_REQUIRE_DRIVE(drive);
  // Two DRIVE test photographs as distributed (01_test.tif, 01_manual1.gif, 01_test_mask.gif).
  test::ScratchDir dir("wf_drive");
  const fs::path test_dir = fs::is_directory(drive / "test") ? drive / "test" : drive / "testing";
  const fs::path mini = dir.path() / "DRIVE";
  for (const char* id : {"01", "02"}) {
    copy_into(test_dir / "images" / (std::string(id) + "_test.tif"), mini / "test" / "images");
    copy_into(test_dir / "1st_manual" / (std::string(id) + "_manual1.gif"), mini / "test" / "1st_manual");
    copy_into(test_dir / "mask" / (std::string(id) + "_test_mask.gif"), mini / "test" / "mask");
  }
  const fs::path seg = dir.path() / "seg";
  auto r = run_cli("segment --out " + seg.string() + " " + (mini / "test/images/01_test.tif").string() + " " +
                       (mini / "test/images/02_test.tif").string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("evaluate --pred " + seg.string() + " --data " + mini.string() + " --split test", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(test::contains(r.out, "F1")) << r.out;
}

TEST(WorkflowSmoke, PipelineRefusesADrivePresetWithoutDataAndUnknownStages) {
  test::ScratchDir dir("wf_pipeline");
  const std::string out = (dir.path() / "run").string();
  auto r = run_cli("pipeline --preset drive-cpu --out " + out, dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(test::contains(r.err, "--data")) << r.err;
  EXPECT_FALSE(fs::exists(out));
  r = run_cli("pipeline --preset quick --stop-after gann --out " + out, dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(test::contains(r.err, "--stop-after gann: no such stage")) << r.err;
  EXPECT_FALSE(fs::exists(out + "/config.json"));
}

}  // namespace vg

namespace vg {

TEST(InstallSmoke, AnInstalledCopySegmentsWithItsShippedModelFromAnotherFolder) {
  test::ScratchDir dir("install");
  const fs::path prefix = dir.path() / "prefix", work = dir.path() / "elsewhere";
  fs::create_directories(work);
  const std::string install = "cmake --install " + std::string(VG_BINARY_DIR) + " --prefix " + prefix.string() +
                              " >" + (dir.path() / "install.log").string() + " 2>&1";
  ASSERT_EQ(std::system(install.c_str()), 0) << read_file(dir.path() / "install.log");
  ASSERT_TRUE(fs::exists(prefix / "bin" / "vesselgan"));
  ASSERT_TRUE(fs::exists(prefix / "share" / "vesselgan" / "models" / "sa-unet-drive.pt"));

  ASSERT_EQ(test::run_vesselgan("phantom --n 1 --n-test 0 --size 64 --out " + (dir.path() / "ph").string(), dir).code, 0);
  const fs::path image = dir.path() / "ph" / "train" / "images" / "01.png";
  const std::string cmd = "cd " + work.string() + " && env -u VESSELGAN_MODELS -u VESSELGAN_MODEL_DIR " +
                          (prefix / "bin" / "vesselgan").string() + " segment --out seg " + image.string() + " >" +
                          (dir.path() / "out.txt").string() + " 2>" + (dir.path() / "err.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.path() / "err.txt");
  const std::string err = read_file(dir.path() / "err.txt");
  EXPECT_TRUE(test::contains(err, (prefix / "share" / "vesselgan" / "models").string())) << err;
  EXPECT_TRUE(fs::exists(work / "seg" / "01_prob.png"));
}

}  // namespace vg
