// Resuming after a kill INSIDE a stage, through the real program on tiny phantom data: `train`, `gan train` and a
// pipeline's retraining stage are SIGKILLed at chosen points, resumed to the end, and compared with an
// uninterrupted run of the same command: the statistics of every epoch (tick) and the final networks must be
// equal bit for bit, and a killed pipeline stage must continue in its own folder, not start over. The kill
// points are deterministic: the moment the program, drawing its progress on a pseudo-terminal, reports an epoch
// done or a given training step (mid-epoch, mid-tick), or the moment a snapshot is the run's last checkpoint.
// The instant between a checkpoint and its stats row, which no kill can be timed to hit, is reached by making
// the row's write fail.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "run_cli.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/trainer.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::contains;

// ---- Reading run folders.

// The rows of a stats.jsonl without their wall-clock fields, which no two runs share.
std::vector<json> figures(const fs::path& stats) {
  std::vector<json> rows = read_jsonl(stats);
  for (auto& row : rows)
    for (const char* k : {"seconds", "images_per_s", "sec_per_kimg", "peak_rss_mib"}) row.erase(k);
  return rows;
}

size_t rows_in(const fs::path& stats) { return read_jsonl(stats).size(); }

// One field of every row: the epochs or image counts a stats file holds, in order.
std::vector<int64_t> column(const std::vector<json>& rows, const char* key) {
  std::vector<int64_t> v;
  for (const auto& row : rows) v.push_back(row.value(key, int64_t{-1}));
  return v;
}

// A field of the training state a checkpoint records ("epoch", "nimg"); -1 while the file does not exist.
int64_t recorded(const fs::path& checkpoint, const char* key) {
  if (!fs::exists(checkpoint)) return -1;
  return read_checkpoint_header(checkpoint).state.value(key, int64_t{-1});
}

// The first parameter or buffer in which `a` and `b` differ ("" when all are equal bit for bit).
std::string first_difference(const torch::nn::Module& a, const torch::nn::Module& b) {
  for (const bool buffers : {false, true}) {
    const auto ta = buffers ? a.named_buffers(true) : a.named_parameters(true);
    const auto tb = buffers ? b.named_buffers(true) : b.named_parameters(true);
    if (ta.size() != tb.size()) return "(the networks differ in size)";
    for (const auto& t : ta) {
      const torch::Tensor* other = tb.find(t.key());
      if (other == nullptr || !torch::equal(t.value(), *other)) return t.key();
    }
  }
  return "";
}

// The networks two checkpoints of one kind hold, compared: "" when equal, else the first difference.
std::string checkpoint_difference(const fs::path& a, const fs::path& b) {
  const CheckpointHeader ha = read_checkpoint_header(a), hb = read_checkpoint_header(b);
  if (ha.kind != hb.kind) return "kinds " + ha.kind + " and " + hb.kind;
  if (ha.state != hb.state) return "states " + ha.state.dump() + " and " + hb.state.dump();
  if (ha.kind == kSegCheckpointKind) {
    const SAUNetOptions o = ha.config.at("train").get<TrainOptions>().model;
    SAUNet ma(o), mb(o);
    load_checkpoint(a, ha.kind, *ma, torch::kCPU);
    load_checkpoint(b, hb.kind, *mb, torch::kCPU);
    return first_difference(*ma, *mb);
  }
  const GanTrainOptions o = ha.config.at("gan").get<GanTrainOptions>();
  GanModels ma(o), mb(o);
  load_checkpoint(a, ha.kind, *ma, torch::kCPU);
  load_checkpoint(b, hb.kind, *mb, torch::kCPU);
  return first_difference(*ma, *mb);
}

// The snapshots and grids of fakes a GAN run folder holds, by name (temp files a kill left aside).
std::vector<std::string> snapshot_files(const fs::path& run) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    const std::string name = fs::relative(e.path(), run).string();
    if (!contains(name, ".tmp-") && (name.rfind("fakes-", 0) == 0 || name.rfind("snapshots/", 0) == 0))
      names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Waits until `ready()` (`what`, for the message), then kills `p`.
::testing::AssertionResult kill_when(test::CliProcess& p, const std::function<bool()>& ready, const std::string& what) {
  if (!p.started()) return ::testing::AssertionFailure() << "the program did not start (or got no pseudo-terminal)";
  if (!p.wait_for(ready, 600)) return ::testing::AssertionFailure() << what << " never came:\n" << p.err();
  if (!p.kill())
    return ::testing::AssertionFailure() << "the run ended before the kill at " << what << ":\n" << p.err();
  return ::testing::AssertionSuccess();
}

// The program (a CliProcess on a terminal) has drawn its progress bar at `done_of_total` ("5/10 steps"), in
// what it wrote after `after` ("" = from the start).
bool drew(test::CliProcess& p, const std::string& done_of_total, const std::string& after = "") {
  const std::string err = p.err();
  const auto from = err.find(after);
  return from != std::string::npos && err.find("] " + done_of_total + " ", from) != std::string::npos;
}

// ---- The data and the uninterrupted runs, made once and shared by the tests of this file.

test::ScratchDir& shared() {
  static test::ScratchDir dir("resume_shared_" + std::to_string(getpid()));  // ctest runs each test alone
  return dir;
}

// Six 64 px phantoms (two are held out for validation by the commands below) and one test phantom.
std::string phantoms() {
  static const std::string path = test::make_phantoms(shared(), 6, 64);
  return path;
}

// A file of `text` in the shared folder.
std::string shared_file(const std::string& name, const std::string& text) {
  const fs::path p = shared().path() / name;
  if (!fs::exists(p)) write_file_atomic(p, text);
  return p.string();
}

// The run folder of `command(run folder)` run once, uninterrupted, to the end ("" when it failed). Named "run"
// like the folders of the interrupted runs, since a pipeline's report bears its folder's name.
std::string reference_run(const std::string& name, const std::function<std::string(const std::string&)>& command) {
  static std::map<std::string, std::string> done;
  if (!done.count(name)) {
    const std::string run = (shared().path() / name / "run").string();
    const auto r = test::run_vesselgan(command(run), shared());
    EXPECT_EQ(r.code, 0) << "the uninterrupted run failed:\n" << r.err;
    done[name] = r.code == 0 ? run : "";
  }
  return done[name];
}

// ---- `vesselgan train`

// SA-UNet on 4 phantoms, 2 a step, 5 epochs over two learning rates (the rate changes after epoch 3); the best
// checkpoint by validation AUC, which moves in both directions this early.
std::string train_command(const std::string& run) {
  const std::string config =
      shared_file("train.json", R"({"schedule": [{"epochs": 3, "lr": 0.003}, {"epochs": 2, "lr": 0.001}],
                                    "select": "auc"})");
  return "train --data " + phantoms() + " --out " + run + " --preset quick --config " + config +
         " --batch 2 --val-count 2 --device cpu --threads 2";
}
constexpr int64_t kTrainEpochs = 5, kTrainSteps = 2;  // steps an epoch

// Where a launch of `train` is killed: the moment the program reports epoch `epoch` done (after its stats row and
// checkpoint), or with `step` > 0 the moment it reports training step `step` done, a step inside epoch `epoch` + 1.
struct TrainKill {
  int64_t epoch = 0, step = 0;
};

// Runs `train` in `run` once per kill point (resuming from the second launch on), then resumes it to the end.
// Checks that every kill landed inside the run, after the epoch it waited for and before the next one was
// saved, and that every relaunch resumed.
void kill_and_resume_training(const test::ScratchDir& dir, const std::string& run,
                              const std::vector<TrainKill>& kills) {
  const fs::path stats = fs::path(run) / "stats.jsonl", last = fs::path(run) / "checkpoints" / "last.pt";
  for (size_t i = 0; i < kills.size(); ++i) {
    const TrainKill k = kills[i];
    test::CliProcess p(train_command(run) + (i == 0 ? "" : " --resume"), dir, "launch" + std::to_string(i),
                       /*terminal=*/true);
    if (k.step > 0) {
      const std::string step = std::to_string(k.step) + "/" + std::to_string(kTrainEpochs * kTrainSteps) + " steps";
      ASSERT_TRUE(kill_when(p, [&] { return drew(p, step); }, "step " + step));
    } else {
      const std::string epoch = "epoch " + std::to_string(k.epoch) + "/" + std::to_string(kTrainEpochs) + " ";
      ASSERT_TRUE(kill_when(p, [&] { return contains(p.err(), epoch); }, epoch));
    }
    EXPECT_EQ(recorded(last, "epoch"), k.epoch) << "the kill landed late";
    EXPECT_EQ(rows_in(stats), static_cast<size_t>(k.epoch));
    if (i > 0) {
      EXPECT_TRUE(contains(p.err(), "resuming")) << p.err();
    }
  }
  const auto r = test::run_vesselgan(train_command(run) + " --resume", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "resuming")) << r.err;
  EXPECT_TRUE(contains(r.out, "trained " + std::to_string(kTrainEpochs) + " epochs")) << r.out;
}

// The resumed run's epochs, figures and networks against the uninterrupted run's.
void expect_same_training(const std::string& reference, const std::string& run) {
  const auto rows = figures(fs::path(run) / "stats.jsonl");
  ASSERT_EQ(column(rows, "epoch"), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  const auto expected = figures(fs::path(reference) / "stats.jsonl");
  ASSERT_EQ(rows.size(), expected.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i], expected[i]) << "epoch " << i + 1;
  for (const char* ckpt : {"last.pt", "best.pt"})
    EXPECT_EQ(checkpoint_difference(fs::path(reference) / "checkpoints" / ckpt, fs::path(run) / "checkpoints" / ckpt),
              "")
        << ckpt;
}

TEST(ResumeSmoke, TrainingKilledAsEpochsEndFinishesAsIfNeverStopped) {
  const std::string reference = reference_run("train", train_command);
  ASSERT_FALSE(reference.empty());
  test::ScratchDir dir("resume_train_epoch_ends");
  const std::string run = (dir.path() / "run").string();
  // The moment epoch 1 is on record, then epoch 3 (the last at the first learning rate).
  kill_and_resume_training(dir, run, {{1, 0}, {3, 0}});
  expect_same_training(reference, run);
}

TEST(ResumeSmoke, TrainingKilledMidEpochFinishesAsIfNeverStopped) {
  const std::string reference = reference_run("train", train_command);
  ASSERT_FALSE(reference.empty());
  test::ScratchDir dir("resume_train_mid_epoch");
  const std::string run = (dir.path() / "run").string();
  // After the first of epoch 3's two steps, then after the first of epoch 5's, which resumes at the second
  // learning rate.
  kill_and_resume_training(dir, run, {{2, 5}, {4, 9}});
  expect_same_training(reference, run);
}

TEST(ResumeSmoke, TrainingStoppedBetweenItsCheckpointAndItsStatsRowLosesNoEpoch) {
  // A kill in that instant cannot be timed from outside, so the row write itself fails: stats.jsonl is a folder
  // while epoch 2 ends, and the program stops with an error exactly where the kill would have stopped it.
  const std::string reference = reference_run("train", train_command);
  ASSERT_FALSE(reference.empty());
  test::ScratchDir dir("resume_train_row_lost");
  const std::string run = (dir.path() / "run").string();
  const fs::path stats = fs::path(run) / "stats.jsonl";
  {
    test::CliProcess p(train_command(run), dir, "launch0", /*terminal=*/true);
    ASSERT_TRUE(p.wait_for([&] { return contains(p.err(), "epoch 1/5 "); }, 300)) << p.err();
    fs::rename(stats, fs::path(run) / "stats.saved");
    fs::create_directory(stats);
    EXPECT_EQ(p.wait(), 2) << p.err();
    EXPECT_TRUE(contains(p.err(), "cannot append to " + stats.string())) << p.err();
    fs::remove(stats);
    fs::rename(fs::path(run) / "stats.saved", stats);
  }
  const auto r = test::run_vesselgan(train_command(run) + " --resume", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_training(reference, run);
}

// ---- `vesselgan gan train`

// The toy StyleGAN2 at 32 channels on the 6 training phantoms: batch 8, a tick every 2 steps (16 images), a
// snapshot every 4 and at the end, 10 steps; ADA fast enough that its p moves within the run.
std::string gan_command(const std::string& run) {
  const std::string config = shared_file("gan.json", R"({"tick_kimg": 0.016, "snapshot_kimg": 0.032, "grid_size": 2,
    "generator": {"z_dim": 32, "w_dim": 32, "channel_base": 1024, "channel_max": 32},
    "discriminator": {"channel_base": 1024, "channel_max": 32}})");
  return "gan train --data " + phantoms() + " --out " + run + " --preset toy --config " + config +
         " --kimg 0.080 --batch 8 --ada-speed 0.5 --device cpu --threads 2";
}

TEST(ResumeSmoke, GanKilledAtASnapshotAndMidTickFinishesAsIfNeverStopped) {
  const std::string reference = reference_run("gan", gan_command);
  ASSERT_FALSE(reference.empty());
  test::ScratchDir dir("resume_gan");
  const std::string run = (dir.path() / "run").string();
  const fs::path stats = fs::path(run) / "stats.jsonl", last = fs::path(run) / "checkpoints" / "last.pt";
  auto last_tick = [&] {
    const auto rows = read_jsonl(stats);
    return rows.empty() ? int64_t{0} : rows.back().at("nimg").get<int64_t>();
  };
  {
    // Killed the moment the first snapshot (32 images) is the run's last checkpoint.
    test::CliProcess p(gan_command(run), dir, "launch0");
    ASSERT_TRUE(kill_when(p, [&] { return fs::exists(last); }, "the first snapshot"));
    EXPECT_EQ(recorded(last, "nimg"), 32);
  }
  {
    // Resumed, then killed in the middle of the tick from 48 to 64 images, after the step at 56: the tick at
    // 48 is on record but past the last snapshot (32), so the resume must drop it and train it again.
    test::CliProcess p(gan_command(run) + " --resume", dir, "launch1", /*terminal=*/true);
    ASSERT_TRUE(kill_when(p, [&] { return drew(p, "56/80 imgs"); }, "56 images"));
    EXPECT_EQ(recorded(last, "nimg"), 32) << "the kill mid-tick landed late";
    EXPECT_EQ(last_tick(), 48);
    EXPECT_TRUE(drew(p, "40/80 imgs") && !drew(p, "8/80 imgs")) << "it did not resume:\n" << p.err();
  }
  const auto r = test::run_vesselgan(gan_command(run) + " --resume", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "trained to 0.08 kimg")) << r.out;

  const auto rows = figures(stats), expected = figures(fs::path(reference) / "stats.jsonl");
  ASSERT_EQ(column(rows, "nimg"), (std::vector<int64_t>{16, 32, 48, 64, 80}));
  ASSERT_EQ(rows.size(), expected.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i], expected[i]) << "tick " << i + 1;
  EXPECT_NE(expected.back().at("augment_p").get<double>(), 0.0);  // ADA's state mattered
  EXPECT_EQ(checkpoint_difference(fs::path(reference) / "checkpoints" / "last.pt", last), "");
  // A snapshot and a grid of fakes for every snapshot, as in the uninterrupted run, and the same fakes: the
  // final networks draw the same images.
  const auto files = snapshot_files(run);
  EXPECT_EQ(files, snapshot_files(reference));
  EXPECT_EQ(std::count(files.begin(), files.end(), "fakes-" + kimg_label(0.080) + ".png"), 1);
  for (const auto& f : files) {
    if (f.rfind("fakes-", 0) == 0) {
      EXPECT_EQ(read_file(fs::path(run) / f), read_file(fs::path(reference) / f)) << f;
    }
  }
}

TEST(ResumeSmoke, GanStoppedBetweenItsSnapshotAndItsStatsRowLosesNoTick) {
  // As for `train`: the tick's row cannot be written (stats.jsonl is a folder) when the first snapshot is due.
  const std::string reference = reference_run("gan", gan_command);
  ASSERT_FALSE(reference.empty());
  test::ScratchDir dir("resume_gan_row_lost");
  const std::string run = (dir.path() / "run").string();
  const fs::path stats = fs::path(run) / "stats.jsonl";
  {
    test::CliProcess p(gan_command(run), dir, "launch0");
    ASSERT_TRUE(p.wait_for([&] { return rows_in(stats) >= 1; }, 300)) << p.err();
    fs::rename(stats, fs::path(run) / "stats.saved");
    fs::create_directory(stats);
    EXPECT_EQ(p.wait(), 2) << p.err();
    EXPECT_TRUE(contains(p.err(), "cannot append to " + stats.string())) << p.err();
    fs::remove(stats);
    fs::rename(fs::path(run) / "stats.saved", stats);
  }
  const auto r = test::run_vesselgan(gan_command(run) + " --resume", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = figures(stats);
  ASSERT_EQ(column(rows, "nimg"), (std::vector<int64_t>{16, 32, 48, 64, 80}));
  EXPECT_EQ(rows, figures(fs::path(reference) / "stats.jsonl"));
  EXPECT_EQ(checkpoint_difference(fs::path(reference) / "checkpoints" / "last.pt",
                                  fs::path(run) / "checkpoints" / "last.pt"),
            "");
}

// ---- `vesselgan pipeline`

// The quick preset cut to one seed, one retraining variant and short schedules: model A and the real phase 4
// epochs of 2 steps (4 photographs), the synthetic phase 2 epochs of 2 steps, a 10-step painter whose images
// are trained on whatever their labels look like (the guard is off: a 10-step painter is no test of it).
std::string pipeline_command(const std::string& run) {
  const std::string config = shared_file("pipeline.json", R"({
    "phantom_train": 6, "phantom_test": 2,
    "seg": {"schedule": [{"epochs": 4, "lr": 0.003}], "val_count": 2, "batch_size": 2},
    "synthetic_epochs": 2,
    "painter": {"resolution": 32, "channels": 8, "max_channels": 32, "levels": 2, "d_channels": 8, "batch": 8,
                "steps": 10, "log_every": 5, "snapshot_every": 10},
    "labels": "gan", "guard_vessel_fraction": false, "min_label_f1": 0,
    "orders": ["synthetic-then-real"], "n_synthetic": [4], "seeds": [0]})");
  return "pipeline --preset quick --config " + config + " --out " + run + " --device cpu --threads 2";
}
constexpr const char* kRetrain = "retrain/syn-real_aug_n4_gan_s0";

// results.json without what differs between two run folders by design: their paths and wall times.
json comparable_results(const std::string& run) {
  std::string text = read_file(fs::path(run) / "report" / "results.json");
  for (size_t at = text.find(run); at != std::string::npos; at = text.find(run, at))
    text.replace(at, run.size(), "RUN");
  json j = json::parse(text);
  j.erase("stages");
  return j;
}

TEST(ResumeSmoke, PipelineKilledInsideARetrainingStageContinuesItInItsFolder) {
  const std::string reference = reference_run("pipeline", pipeline_command);
  ASSERT_FALSE(reference.empty());
  test::ScratchDir dir("resume_pipeline");
  const std::string run = (dir.path() / "run").string();
  const fs::path stage = fs::path(run) / kRetrain;
  const fs::path real = stage / "2-real", stats = real / "stats.jsonl", last = real / "checkpoints" / "last.pt";
  {
    // Killed after the first of the real phase's two steps of epoch 3 (the synthetic phase, 2 x 2 steps, is done).
    test::CliProcess p(pipeline_command(run), dir, "launch0", /*terminal=*/true);
    ASSERT_TRUE(kill_when(p, [&] { return drew(p, "5/8 steps", std::string(kRetrain) + ": running"); },
                          "step 5 of the real phase"));
  }
  // The stage was running: started, not finished, its real phase part-way.
  ASSERT_TRUE(fs::exists(stage / "inputs.json"));
  ASSERT_FALSE(fs::exists(stage / "manifest.json"));
  ASSERT_EQ(recorded(last, "epoch"), 2) << "the kill landed late";
  const std::string synthetic_before = read_file(stage / "1-synthetic" / "stats.jsonl");
  const std::string real_before = read_file(stats);
  ASSERT_EQ(rows_in(stats), 2u);

  const auto r = test::run_vesselgan(pipeline_command(run), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "seg-real/s0: cached")) << r.err;
  EXPECT_TRUE(contains(r.err, std::string(kRetrain) + ": running")) << r.err;
  // Continued in its folder: the real phase went on at epoch 3, the synthetic one was not run again ...
  const std::string resumed = r.err.substr(std::min(r.err.size(), r.err.find(std::string(kRetrain) + ": running")));
  EXPECT_TRUE(contains(resumed, "epoch 3/4")) << resumed;
  EXPECT_FALSE(contains(resumed, "epoch 1/")) << resumed;
  // ... in its folder: the finished phase untouched, the real phase's first rows kept as they were
  // written (their wall times too), its epochs continuous.
  EXPECT_EQ(read_file(stage / "1-synthetic" / "stats.jsonl"), synthetic_before);
  const std::string real_after = read_file(stats);
  EXPECT_EQ(real_after.substr(0, real_before.size()), real_before);
  const auto rows = figures(stats);
  ASSERT_EQ(column(rows, "epoch"), (std::vector<int64_t>{1, 2, 3, 4}));
  // ... and finished as if never stopped: the same epochs, networks and report as the uninterrupted run's.
  const fs::path ref_stage = fs::path(reference) / kRetrain;
  EXPECT_EQ(rows, figures(ref_stage / "2-real" / "stats.jsonl"));
  for (const char* ckpt : {"2-real/checkpoints/last.pt", "2-real/checkpoints/best.pt"})
    EXPECT_EQ(checkpoint_difference(ref_stage / ckpt, stage / ckpt), "") << ckpt;
  EXPECT_EQ(comparable_results(run), comparable_results(reference));
}

}  // namespace
}  // namespace vg
