#include "vesselgan/pipeline/stage_runner.h"

#include <chrono>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/dist/data_parallel.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json_or_null(const fs::path& p) {
  if (!fs::exists(p)) return nullptr;
  try {
    return nlohmann::json::parse(read_file(p));
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // a torn file from a killed run: treated as absent (files are written atomically anyway)
  }
}

}  // namespace

StageRunner::StageRunner(fs::path run_dir, std::string from_stage, std::string stop_after, Collective world)
    : run_dir_(std::move(run_dir)), world_(std::move(world)), from_(std::move(from_stage)),
      stop_after_(std::move(stop_after)) {}

bool StageRunner::matches(const std::string& selector, const std::string& name) {
  if (selector.empty()) return false;
  return name == selector || (name.size() > selector.size() && name.compare(0, selector.size(), selector) == 0 &&
                              name[selector.size()] == '/');
}

nlohmann::json StageRunner::prepare(const fs::path& dir, const nlohmann::json& inputs) const {
  const fs::path manifest_path = dir / "manifest.json", inputs_path = dir / "inputs.json";
  const nlohmann::json manifest = read_json_or_null(manifest_path);
  if (!forcing_ && manifest.is_object() && manifest.value("inputs", nlohmann::json()) == inputs)
    return {{"cached", true},
            {"seconds", manifest.value("seconds", 0.0)},
            {"outputs", manifest.value("outputs", nlohmann::json::object())}};
  const nlohmann::json started = read_json_or_null(inputs_path);
  // Other inputs than the attempt in the folder (or a forced rerun): start clean. Same inputs: resume.
  if (forcing_ || manifest.is_object() || (!started.is_null() && started != inputs)) fs::remove_all(dir);
  fs::create_directories(dir);
  write_file_atomic(inputs_path, inputs.dump(2) + "\n");
  return {{"cached", false}};
}

nlohmann::json StageRunner::run(const std::string& name, const nlohmann::json& inputs, const Body& body,
                                StageRanks ranks) {
  if (stop_armed_ && !matches(stop_after_, name)) throw Stopped{};
  if (matches(from_, name)) forcing_ = true;
  const fs::path dir = run_dir_ / name;
  // Rank 0 decides (and readies the folder) before any rank starts the body.
  nlohmann::json decision = world_.is_main() ? prepare(dir, inputs) : nlohmann::json();
  if (world_.distributed()) decision = nlohmann::json::parse(broadcast_text(world_, decision.dump()));
  StageRecord rec;
  rec.name = name;
  if (decision.at("cached").get<bool>()) {
    rec.cached = true;
    rec.seconds = decision.at("seconds").get<double>();
    rec.outputs = decision.at("outputs");
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    if (ranks == StageRanks::all || world_.is_main()) rec.outputs = body(dir);
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (world_.is_main()) {
      const nlohmann::json m = {
          {"stage", name}, {"inputs", inputs}, {"outputs", rec.outputs}, {"seconds", rec.seconds}};
      write_file_atomic(dir / "manifest.json", m.dump(2) + "\n");
    }
    if (ranks == StageRanks::main) {  // the others wait for rank 0 however long the stage takes
      const std::string key = std::to_string(stages_run_++) + ":" + name;
      world_.mark_done(key);
      world_.wait_until_done(key);
    }
    if (world_.distributed()) {
      const auto shared = nlohmann::json::parse(
          broadcast_text(world_, nlohmann::json{{"outputs", rec.outputs}, {"seconds", rec.seconds}}.dump()));
      rec.outputs = shared.at("outputs");
      rec.seconds = shared.at("seconds").get<double>();
    }
  }
  records_.push_back(rec);
  if (!stop_after_.empty() && name == stop_after_) throw Stopped{};
  if (matches(stop_after_, name)) stop_armed_ = true;
  return rec.outputs;
}

}  // namespace vg
