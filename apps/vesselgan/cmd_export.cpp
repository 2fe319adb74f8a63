// vesselgan export: a slim inference copy of an SA-UNet checkpoint (parameters, buffers and the recipe;
// no optimizer or RNG state), recording the training scale (FOV diameter) that scale normalization needs.
// Given several --model, it writes one ensemble checkpoint (seg/ensemble_checkpoint.h) that every command
// loads like a single model and that averages its members' probabilities.
#include <iostream>

#include "cli.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/seg/ensemble_checkpoint.h"
#include "vesselgan/seg/model_input.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg::cli {

namespace {

struct ExportFlags {
  std::vector<std::string> models;
  std::vector<double> weights;
  std::vector<double> compressed_weights;  // the ensemble's weights for heavily compressed photographs
  double compressed_above = 0;             // 0 = kCompressedAboveDefault
  std::string out, data, layout = "auto";
  double fov_diameter = -1;
  bool image_statistics = false;  // record prediction-time image statistics in the exported file
  int member = 0;  // 1-based member of an ensemble --model to write alone; 0 = none
};

// The mean FOV diameter of the checkpoint's training photographs (its config's train_ids) in `data`.
double fov_diameter_from_data(const CheckpointHeader& h, const std::string& model, const ExportFlags& f) {
  const auto ids = h.config.value("train_ids", std::vector<std::string>{});
  if (ids.empty())
    throw UserError("checkpoint " + model +
                    " lists no training ids; give --fov-diameter instead of --data");
  const DatasetFiles used =
      samples_with_ids(find_dataset(f.data, "train", f.layout), ids, [&](const std::string& id) {
        return "training image " + id + " of " + model + " is not in the train split of " + f.data +
               " (give the data set the model was trained on, or --fov-diameter)";
      });
  const auto samples = load_samples(used, false);
  return training_fov_diameter(samples, h.config.at("train").get<TrainOptions>().input);
}

// The header a single model is exported with: its own, with the training scale set as the flags ask.
CheckpointHeader exported_header(const Segmenter& seg, const std::string& model, const ExportFlags& f) {
  CheckpointHeader h = seg.header();
  if (f.fov_diameter > 0) {
    h.config["fov_diameter"] = f.fov_diameter;
  } else if (f.fov_diameter == 0) {
    h.config.erase("fov_diameter");
  } else if (!f.data.empty()) {
    h.config["fov_diameter"] = fov_diameter_from_data(h, model, f);
  }
  if (f.image_statistics) h.config["predict"]["image_statistics"] = true;
  h.state["exported_from"] = model;
  return h;
}

// The note for an exported file that does not keep the temperature recorded where it came from.
void print_temperature_note(const std::string& fitted_on, const std::string& out) {
  std::cout << "note: the temperature recorded for " << fitted_on << " does not calibrate " << out
            << ", so it is not kept (run vesselgan calibrate on " << out << " for calibrated probabilities)\n";
}

// Member k (1-based) of the ensemble checkpoint `model` as a single "sa-unet" checkpoint: the ensemble's
// config (architecture, input recipe, training scale) with that member's own ids, seed and state, so it can
// start a fine-tuning run (train.init_from) or be re-assembled into another ensemble.
void export_member(const ExportFlags& f) {
  if (f.models.size() != 1)
    throw UserError("--member takes exactly one --model (the ensemble), got " + std::to_string(f.models.size()));
  Segmenter seg = Segmenter::load(f.models[0], torch::kCPU);
  const auto count = static_cast<int>(seg.member_count());
  if (count < 2)
    throw UserError("--member: " + f.models[0] + " is a single SA-UNet, not an ensemble (export it without --member)");
  if (f.member < 1 || f.member > count)
    throw UserError("--member " + std::to_string(f.member) + " is not a member of " + f.models[0] + " (valid: 1.." +
                    std::to_string(count) + ")");
  CheckpointHeader h = seg.header();
  h.kind = kSegCheckpointKind;
  const nlohmann::json info = h.config.at("ensemble").at("members").at(static_cast<size_t>(f.member - 1));
  if (h.config.at("ensemble").contains("inputs"))  // members of different enhancements: this member's own
    h.config["train"]["input"] = h.config["ensemble"]["inputs"].at(static_cast<size_t>(f.member - 1));
  h.config.erase("ensemble");
  h.config["train_ids"] = info.value("train_ids", nlohmann::json::array());
  h.config["val_ids"] = info.value("val_ids", nlohmann::json::array());
  if (info.contains("seed") && !info.at("seed").is_null()) h.config["train"]["seed"] = info.at("seed");
  // Per-network prediction settings keep only this member's entry: one statistics range per network.
  if (h.config.contains("predict") && h.config["predict"].contains("statistics_ranges")) {
    auto& ranges = h.config["predict"]["statistics_ranges"];
    ranges = nlohmann::json::array({ranges.at(static_cast<size_t>(f.member - 1))});
  }
  drop_recorded_count_ratio(h.config);  // the ensemble's ratio was measured on the average of its maps
  const bool had_temperature = drop_recorded_calibration(h.config);  // and its temperature fitted on it
  h.state = info.value("state", nlohmann::json::object());
  h.state["exported_from"] = f.models[0] + " member " + std::to_string(f.member);
  save_checkpoint(f.out, h, *seg.member(static_cast<size_t>(f.member - 1)));
  std::cout << "exported member " << f.member << " of " << count << " of " << f.models[0] << " -> " << f.out << "\n";
  if (had_temperature) print_temperature_note(f.models[0] + "'s average", f.out);
}

void run_export(const ExportFlags& f) {
  if (f.member != 0) return export_member(f);
  if (!f.weights.empty() && f.models.size() < 2)
    throw UserError("--weights needs two or more --model (the members of an ensemble)");
  if (!f.compressed_weights.empty() && f.models.size() < 2)
    throw UserError("--compressed-weights needs two or more --model (the members of an ensemble)");
  if (f.compressed_above != 0 && f.compressed_weights.empty())
    throw UserError("--compressed-above needs --compressed-weights (the weights it switches to)");
  CompressionGate gate;
  gate.weights = f.compressed_weights;
  if (f.compressed_above != 0) gate.above = f.compressed_above;
  validate(gate, f.models.size(), "--compressed-weights/--compressed-above");
  std::vector<EnsembleMember> members;
  for (const auto& m : f.models) {
    Segmenter seg = Segmenter::load(m, torch::kCPU);
    if (seg.member_count() > 1)
      throw UserError("--model " + m + " is already an ensemble of " + std::to_string(seg.member_count()) +
                      " networks; export takes single SA-UNet checkpoints (give its members instead)");
    members.push_back({m, exported_header(seg, m, f), seg.model()});
  }
  if (members.size() == 1) save_checkpoint(f.out, members[0].header, *members[0].model);
  else save_ensemble_checkpoint(f.out, members, f.weights, gate);
  const double d = members[0].header.config.value("fov_diameter", 0.0);
  std::cout << "exported " << (members.size() == 1 ? f.models[0] : std::to_string(members.size()) + " models")
            << " -> " << f.out << " (" << (members.size() == 1 ? "" : "ensemble, ")
            << std::filesystem::file_size(f.out) / 1024 << " KiB; training FOV diameter "
            << (d > 0 ? std::to_string(d) + " px"
                      : std::string("not recorded: photographs are segmented at native scale"))
            << ")\n";
  if (members.size() > 1 && members[0].header.config.contains("calibration"))
    print_temperature_note(f.models[0] + "'s own maps", f.out);
  if (members.size() > 1 && ensemble_drops_statistics_ranges(members))
    std::cout << "note: not every member records its own statistics range, so the ensemble records none (run "
                 "vesselgan calibrate --statistics-range on it for adaptive image statistics)\n";
}

}  // namespace

void add_export(CLI::App& app) {
  auto f = std::make_shared<ExportFlags>();
  auto* cmd = app.add_subcommand("export",
                                 "Write a slim inference copy of an SA-UNet checkpoint (no optimizer state)");
  cmd->add_option("--model", f->models,
                  "SA-UNet checkpoint (e.g. RUN/checkpoints/best.pt); repeat to write one ensemble of all")
      ->required();
  cmd->add_option("--weights", f->weights,
                  "with several --model: one weight per model, comma-separated (normalized; default equal)")
      ->delimiter(',');
  cmd->add_option("--compressed-weights", f->compressed_weights,
                  "with several --model: the weights for photographs whose JPEG blockiness lies above "
                  "--compressed-above (one per model, comma-separated; 0 = not run for them)")
      ->delimiter(',');
  cmd->add_option("--compressed-above", f->compressed_above,
                  "with --compressed-weights: the JPEG blockiness above which a photograph counts as heavily "
                  "compressed (> 1; default 2: clean DRIVE photographs measure 1.1, quality 50 from 1.8)");
  cmd->add_option("--out", f->out, "the slim checkpoint to write")->required();
  cmd->add_option(
         "--fov-diameter", f->fov_diameter,
         "record this training scale (FOV diameter in px); 0 removes it; -1 keeps the checkpoint's, or "
         "measures it on --data")
      ->capture_default_str();
  cmd->add_option("--data", f->data,
                  "with --fov-diameter -1: the data set the model was trained on, to measure "
                  "the mean FOV diameter of its training photographs");
  cmd->add_option("--layout", f->layout, "layout of --data")->capture_default_str();
  cmd->add_flag("--image-statistics", f->image_statistics,
                "record that the model predicts with each photograph's own activation statistics "
                "(prediction-time batch norm; segment and evaluate then use it without a flag)");
  cmd->add_option("--member", f->member,
                  "with one ensemble --model: write its member K (1-based) alone, e.g. to fine-tune it");
  cmd->callback([f] { run_export(*f); });
}

}  // namespace vg::cli
