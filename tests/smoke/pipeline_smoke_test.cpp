// The quick pipeline end to end through the real program: every stage runs, a killed run resumes and a rerun
// skips finished stages, and the report holds every row with sane values.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "run_cli.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using test::contains;

TEST(PipelineSmoke, QuickPresetRunsEveryStageResumesAndReports) {
  test::ScratchDir dir("pipeline_quick");
  const std::string run = (dir.path() / "run").string();
  const std::string common = "pipeline --preset quick --device cpu --threads 2 --out " + run;

  // Part 1: up to the GAN, then stop.
  auto r = test::run_vesselgan(common + " --stop-after gan", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "stopped after stage gan")) << r.out;
  EXPECT_TRUE(fs::exists(run + "/gan/manifest.json"));
  EXPECT_FALSE(fs::exists(run + "/generate"));

  // Part 2: killed a few seconds into the rest (wherever it is), then rerun to the end.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = std::string(VG_CLI) + " " + common + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(8));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);

  r = test::run_vesselgan(common, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* stage : {"data: cached", "seg-real/s0: cached", "seg-real/s1: cached", "gan: cached"})
    EXPECT_TRUE(contains(r.err, stage)) << stage << "\n" << r.err;

  // The report: every row, sane values.
  for (const char* f : {"report.md", "report.html", "results.json", "roc.svg", "pr.svg", "synthetic.png", "whole.png"})
    EXPECT_TRUE(fs::exists(run + "/report/" + f)) << f;
  EXPECT_TRUE(contains(read_file(run + "/report/report.md"), "Whole synthetic photographs and their labels: `whole.png`"));
  EXPECT_TRUE(contains(read_file(run + "/report/report.md"), "Two rows per label route (gan, top to bottom)"));
  const auto results = nlohmann::json::parse(read_file(run + "/report/results.json"));
  std::vector<std::string> rows;
  for (const auto& row : results["rows"]) {
    rows.push_back(row["row"]);
    // Two seeds make one A + A pair: the control is one ensemble, not two copies of it.
    EXPECT_EQ(row["seeds"].get<int>(), row["kind"] == "ensemble" && contains(row["row"].get<std::string>(), "control") ? 1 : 2)
        << row["row"];
    for (const char* k : {"se", "sp", "acc", "precision", "f1", "mcc", "auc_roc", "cldice"}) {
      const double v = row["fov_mean"][k];
      EXPECT_TRUE(v >= -1 && v <= 1) << row["row"] << " " << k << " " << v;
    }
    EXPECT_GT(row["fov_mean"]["auc_roc"].get<double>(), 0.5) << row["row"];
    if (row["kind"] != "baseline") {
      EXPECT_TRUE(row["compared"].get<bool>()) << row["row"];
    }
  }
  const std::vector<std::string> expected = {"baseline (model A)", "mixed_aug_n24_gan",
                                             "ensemble: A + mixed_aug_n24_gan", "control: A + A of another seed"};
  EXPECT_EQ(rows, expected);
  const std::string md = read_file(run + "/report/report.md");
  // Phantoms: before any figure, the report says its synthetic gain is circular (issue 31).
  EXPECT_TRUE(contains(md.substr(0, md.find("Protocol:")), "circular")) << md;
  EXPECT_TRUE(contains(md, "these are crops, not whole synthetic photographs")) << md;
  EXPECT_TRUE(contains(md, "## FOV pooled")) << md;
  EXPECT_TRUE(contains(md, "color-stats")) << md;  // the GAN's Frechet distance names its feature network
  // The generator draws vessels: the guard's figures, which it passed, are in the report.
  EXPECT_TRUE(contains(md, "label consistency F1")) << md;
  EXPECT_TRUE(contains(md, "mean vessel fraction")) << md;
  EXPECT_TRUE(contains(read_file(run + "/report/report.html"), "data:image/png;base64,"));

  // A finished run reruns from its cache in seconds; --from report recomputes only the report.
  r = test::run_vesselgan(common + " --from report", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "retrain/mixed_aug_n24_gan_s1: cached")) << r.err;
}

TEST(PipelineSmoke, BadConfigIsOneLineNamingTheField) {
  test::ScratchDir dir("pipeline_bad");
  write_file_atomic(dir.path() / "bad.json", R"({"orders": ["backwards"]})");
  auto r = test::run_vesselgan(
      "pipeline --config " + (dir.path() / "bad.json").string() + " --out " + (dir.path() / "run").string(),
      dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "pipeline.orders")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace vg
