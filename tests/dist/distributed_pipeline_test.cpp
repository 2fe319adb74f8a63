// The pipeline as a data-parallel job through the real program (Gloo, 2 ranks on loopback, tiny networks on
// phantoms): every stage runs, the training stages train data-parallel and end where one process ends, the
// other stages run once (on rank 0), and the run folder is one job's, which a single process then finds cached.
#include "dist_cli.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using test::contains;

test::ScratchDir& shared() {
  static test::ScratchDir dir("dist_pipeline_" + std::to_string(getpid()));
  return dir;
}

// The quick preset shrunk to seconds: 8 + 2 phantoms, 1 seed, SA-UNet of 4 channels for one epoch, a painter
// of 4 steps, 4 synthetic images, no guard (nothing this short paints labels a guard would accept).
std::string pipeline_args(const fs::path& run) {
  const fs::path config = shared().path() / "tiny.json";
  if (!fs::exists(config))
    write_file_atomic(config, R"({"phantom_train": 8, "phantom_test": 2, "synthetic_epochs": 1, "n_synthetic": [4],
      "seeds": [0], "guard_vessel_fraction": false, "min_label_f1": 0,
      "seg": {"model": {"base_channels": 4, "depth": 2}, "schedule": [{"epochs": 1, "lr": 0.003}], "batch_size": 2,
              "val_count": 2},
      "painter": {"resolution": 32, "channels": 4, "max_channels": 8, "levels": 2, "d_channels": 4, "batch": 4,
                  "steps": 4, "log_every": 2, "snapshot_every": 2}})");
  return "pipeline --preset quick --config " + config.string() + " --out " + run.string() +
         " --device cpu --threads 1";
}

// Each training stage's logged losses (SA-UNet: train_loss and val_loss per epoch; painter: l1 and loss_d).
void expect_same_training(const fs::path& one, const fs::path& two) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> logs = {
      {"seg-real/s0/stats.jsonl", {"train_loss", "val_loss"}},
      {"gan/painter/stats.jsonl", {"l1", "loss_d"}},
      {"retrain/mixed_aug_n4_gan_s0/1-mixed/stats.jsonl", {"train_loss", "val_loss"}}};
  for (const auto& [file, keys] : logs) {
    const auto a = read_jsonl(one / file), b = read_jsonl(two / file);
    ASSERT_EQ(a.size(), b.size()) << file;
    ASSERT_FALSE(a.empty()) << file;
    for (size_t i = 0; i < a.size(); ++i)
      for (const auto& key : keys) {
        const double x = a[i][key].get<double>(), y = b[i][key].get<double>();
        EXPECT_LE(std::abs(x - y), 1e-5 * std::max(std::abs(x), 1e-3)) << file << " " << key << " row " << i + 1
                                                                       << ": " << x << " vs " << y;
      }
  }
}

TEST(DistributedPipeline, TwoRanksRunEveryStageOnceAndTrainWhatOneProcessTrains) {
  const fs::path one = shared().path() / "one", two = shared().path() / "two";
  auto r = test::run_vesselgan(pipeline_args(one), shared());
  ASSERT_EQ(r.code, 0) << r.err;
  r = test::run_ranks(2, pipeline_args(two), shared());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "pipeline finished")) << r.out;
  for (const char* f : {"report/report.md", "report/results.json", "generate/manifest.json", "gan/generator.pt"})
    EXPECT_TRUE(fs::exists(two / f)) << f;
  // Each stage ran once: one "running" line per stage (rank 0 alone reports).
  const auto count = [](const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
  };
  const size_t ran = count(r.err, ": running");
  EXPECT_EQ(ran, 11U) << r.err;
  expect_same_training(one, two);

  // One process resumes the job's folder: every stage is cached.
  r = test::run_vesselgan(pipeline_args(two), shared());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.err, ": running"), 0U) << r.err;
  EXPECT_EQ(count(r.err, ": cached"), ran) << r.err;
}

}  // namespace
}  // namespace vg
