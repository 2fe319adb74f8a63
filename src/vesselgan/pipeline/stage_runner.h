// The pipeline's stages as cached, resumable steps. Each stage owns a folder RUN/<name>/ holding
//   inputs.json    what the stage was started with (its config section and the outputs of the stages it
//   reads) manifest.json  written (atomically) when the stage finished: inputs, outputs, wall time
// A rerun skips a stage whose manifest holds the same inputs; a stage started with other inputs is cleared
// and run again; a stage killed part-way (inputs.json but no manifest) runs again in its folder, and its body
// resumes there (every body resumes: training from last.pt, generation and pseudo-labelling file by file).
//
// In a data-parallel job (dist/) every rank runs the pipeline: rank 0 alone reads and writes the stage
// folders and decides what is cached; a training stage's body runs on every rank (its trainer is data-parallel),
// any other body on rank 0 alone while the others wait; every rank returns rank 0's outputs. The ranks must
// see the run folder at the same path (one machine, or a shared file system).
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/dist/collective.h"

namespace vg {

enum class StageRanks {
  main,  // rank 0 runs the body alone (generation, labelling, prediction, scoring)
  all,   // every rank runs the body (data-parallel training)
};

struct StageRecord {
  std::string name;
  bool cached = false;  // skipped: finished earlier with the same inputs
  double seconds = 0;   // wall time of the run that finished it (the cached run's, when skipped)
  nlohmann::json outputs;
};

class StageRunner {
 public:
  // from_stage: this stage (a name, or a prefix ending a path component: "retrain" forces every
  // "retrain/...") and every later one run again even when cached; "" = none. stop_after: return
  // (StageRunner::Stopped) after this stage finished (a name: right after it; a prefix: before the first
  // stage after its last match); "" = run to the end.
  StageRunner(std::filesystem::path run_dir, std::string from_stage = "", std::string stop_after = "",
              Collective world = Collective());

  struct Stopped {};  // thrown by run() once stop_after finished

  using Body = std::function<nlohmann::json(const std::filesystem::path& dir)>;
  // Runs `body` in run_dir/name unless cached; returns its outputs (the cached ones when skipped).
  nlohmann::json run(const std::string& name, const nlohmann::json& inputs, const Body& body,
                     StageRanks ranks = StageRanks::main);

  const std::vector<StageRecord>& records() const { return records_; }
  std::filesystem::path dir(const std::string& name) const { return run_dir_ / name; }

 private:
  static bool matches(const std::string& selector, const std::string& name);
  // Rank 0: the record of a stage cached in `dir`, or (not cached) the folder made ready for a run.
  nlohmann::json prepare(const std::filesystem::path& dir, const nlohmann::json& inputs) const;
  std::filesystem::path run_dir_;
  Collective world_;
  int64_t stages_run_ = 0;  // names the marks of rank-0 stages in a job
  std::string from_, stop_after_;
  bool forcing_ = false, stop_armed_ = false;
  std::vector<StageRecord> records_;
};

}  // namespace vg
