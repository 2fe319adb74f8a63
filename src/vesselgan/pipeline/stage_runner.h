// The pipeline's stages as cached, resumable steps. Each stage owns a folder RUN/<name>/ holding
//   inputs.json    what the stage was started with (its config section and the outputs of the stages it
//   reads) manifest.json  written (atomically) when the stage finished: inputs, outputs, wall time
// A rerun skips a stage whose manifest holds the same inputs; a stage started with other inputs is cleared
// and run again; a stage killed part-way (inputs.json but no manifest) runs again in its folder, and its body
// resumes there (every body resumes: training from last.pt, generation and pseudo-labelling file by file).
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vg {

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
  StageRunner(std::filesystem::path run_dir, std::string from_stage = "", std::string stop_after = "");

  struct Stopped {};  // thrown by run() once stop_after finished

  using Body = std::function<nlohmann::json(const std::filesystem::path& dir)>;
  // Runs `body` in run_dir/name unless cached; returns its outputs (the cached ones when skipped).
  nlohmann::json run(const std::string& name, const nlohmann::json& inputs, const Body& body);

  const std::vector<StageRecord>& records() const { return records_; }
  std::filesystem::path dir(const std::string& name) const { return run_dir_ / name; }

 private:
  static bool matches(const std::string& selector, const std::string& name);
  std::filesystem::path run_dir_;
  std::string from_, stop_after_;
  bool forcing_ = false, stop_armed_ = false;
  std::vector<StageRecord> records_;
};

}  // namespace vg
