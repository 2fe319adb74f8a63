#include "vesselgan/pipeline/stage_runner.h"

#include <chrono>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

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

StageRunner::StageRunner(fs::path run_dir, std::string from_stage, std::string stop_after)
    : run_dir_(std::move(run_dir)), from_(std::move(from_stage)), stop_after_(std::move(stop_after)) {}

bool StageRunner::matches(const std::string& selector, const std::string& name) {
  if (selector.empty()) return false;
  return name == selector || (name.size() > selector.size() && name.compare(0, selector.size(), selector) == 0 &&
                              name[selector.size()] == '/');
}

nlohmann::json StageRunner::run(const std::string& name, const nlohmann::json& inputs, const Body& body) {
  if (stop_armed_ && !matches(stop_after_, name)) throw Stopped{};
  if (matches(from_, name)) forcing_ = true;
  const fs::path dir = run_dir_ / name;
  const fs::path manifest_path = dir / "manifest.json", inputs_path = dir / "inputs.json";
  const nlohmann::json manifest = read_json_or_null(manifest_path);
  StageRecord rec;
  rec.name = name;
  if (!forcing_ && manifest.is_object() && manifest.value("inputs", nlohmann::json()) == inputs) {
    rec.cached = true;
    rec.seconds = manifest.value("seconds", 0.0);
    rec.outputs = manifest.value("outputs", nlohmann::json::object());
  } else {
    const nlohmann::json started = read_json_or_null(inputs_path);
    // Other inputs than the attempt in the folder (or a forced rerun): start clean. Same inputs: resume.
    if (forcing_ || manifest.is_object() || (!started.is_null() && started != inputs)) fs::remove_all(dir);
    fs::create_directories(dir);
    write_file_atomic(inputs_path, inputs.dump(2) + "\n");
    const auto t0 = std::chrono::steady_clock::now();
    rec.outputs = body(dir);
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const nlohmann::json m = {
        {"stage", name}, {"inputs", inputs}, {"outputs", rec.outputs}, {"seconds", rec.seconds}};
    write_file_atomic(manifest_path, m.dump(2) + "\n");
  }
  records_.push_back(rec);
  if (!stop_after_.empty() && name == stop_after_) throw Stopped{};
  if (matches(stop_after_, name)) stop_armed_ = true;
  return rec.outputs;
}

}  // namespace vg
