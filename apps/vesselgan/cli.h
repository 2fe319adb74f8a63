// Shared pieces of the command-line program: each subcommand registers itself on the CLI11 app; progress
// is drawn here (the library only reports it).
#pragma once
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "vesselgan/core/progress.h"
#include "vesselgan/seg/segmenter.h"

namespace vg::cli {

// Subcommand registration; each lives in cmd_<name>.cpp.
void add_train(CLI::App& app);
void add_segment(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_ensemble(CLI::App& app);
void add_export(CLI::App& app);
void add_calibrate(CLI::App& app);
void add_pipeline(CLI::App& app);
void add_phantom(CLI::App& app);
void add_demo(CLI::App& app);
void add_launch(CLI::App& app);
// `vesselgan gan train|generate|metrics` (cmd_gan.cpp registers the group and train/generate;
// cmd_gan_metrics.cpp adds metrics to it).
void add_gan(CLI::App& app);
void add_gan_metrics(CLI::App& gan);
void add_gan_painter(CLI::App& gan);
void add_gan_track(CLI::App& gan);  // cmd_gan_track.cpp
void add_gan_trees(CLI::App& gan);  // cmd_gan_trees.cpp
void add_gan_convert(CLI::App& gan);

// Flags every compute command takes.
struct ComputeFlags {
  std::string device = "auto";
  int threads = 0;
};
void add_compute_flags(CLI::App& cmd, ComputeFlags& f);

// Where segment and evaluate cut each photograph's map (eval/operating_point.h): --operating-point and
// --count-ratio.
struct OperatingPointFlags {
  std::string rule;         // empty: the rule the model records (Segmenter::operating_point), else fixed
  double count_ratio = 0;  // 0: the model's recorded ratio (Segmenter::count_ratio), else 1
};
void add_operating_point_flags(CLI::App& cmd, OperatingPointFlags& f);
// Sets popt's rule and ratio from the flags, each falling back to what the model records.
void resolve_operating_point(const OperatingPointFlags& f, const Segmenter& seg, PredictOptions& popt);

// The options a --config file holds for one command: its `section` member when it has one ({"train": {...}},
// so a run's config.json works), else the whole object. UserError naming the file when it is missing, not
// JSON, or not a JSON object.
nlohmann::json config_section(const std::string& path, const std::string& section);

// Resolves the device, sets threads and backend switches; returns the device and prints one line about it.
torch::Device setup_compute(const ComputeFlags& f);

// A progress renderer: a redrawn bar with ETA on a terminal, plain lines (epochs, every ~10 s) otherwise.
ProgressFn make_progress_printer();

// Human-friendly durations: "42s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace vg::cli
