// vesselgan export: a slim inference copy of an SA-UNet checkpoint (parameters, buffers and the recipe;
// no optimizer or RNG state), recording the training scale (FOV diameter) that scale normalization needs.
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/seg/model_input.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/train_options.h"

namespace vg::cli {

namespace {

struct ExportFlags {
  std::string model, out, data, layout = "auto";
  double fov_diameter = -1;
};

// The mean FOV diameter of the checkpoint's training photographs (its config's train_ids) in `data`.
double fov_diameter_from_data(const CheckpointHeader& h, const ExportFlags& f) {
  const auto ids = h.config.value("train_ids", nlohmann::json::array());
  if (ids.empty())
    throw UserError("checkpoint " + f.model +
                    " lists no training ids; give --fov-diameter instead of --data");
  const DatasetFiles all = find_dataset(f.data, "train", f.layout);
  DatasetFiles used = all;
  used.samples.clear();
  for (const auto& id : ids) {
    bool found = false;
    for (const auto& s : all.samples)
      if (s.id == id.get<std::string>()) {
        used.samples.push_back(s);
        found = true;
      }
    if (!found)
      throw UserError("training image " + id.get<std::string>() + " of " + f.model +
                      " is not in the train split of " + f.data +
                      " (give the data set the model was trained on, or --fov-diameter)");
  }
  const auto samples = load_samples(used, false);
  return training_fov_diameter(samples, h.config.at("train").get<TrainOptions>().input);
}

void run_export(const ExportFlags& f) {
  Segmenter seg = Segmenter::load(f.model, torch::kCPU);
  CheckpointHeader h = seg.header();
  if (f.fov_diameter > 0) {
    h.config["fov_diameter"] = f.fov_diameter;
  } else if (f.fov_diameter == 0) {
    h.config.erase("fov_diameter");
  } else if (!f.data.empty()) {
    h.config["fov_diameter"] = fov_diameter_from_data(h, f);
  }
  h.state["exported_from"] = f.model;
  save_checkpoint(f.out, h, *seg.model());
  const double d = h.config.value("fov_diameter", 0.0);
  std::cout << "exported " << f.model << " -> " << f.out << " (" << std::filesystem::file_size(f.out) / 1024
            << " KiB; training FOV diameter "
            << (d > 0 ? std::to_string(d) + " px"
                      : std::string("not recorded: photographs are segmented at native scale"))
            << ")\n";
}

}  // namespace

void add_export(CLI::App& app) {
  auto f = std::make_shared<ExportFlags>();
  auto* cmd = app.add_subcommand("export",
                                 "Write a slim inference copy of an SA-UNet checkpoint (no optimizer state)");
  cmd->add_option("--model", f->model, "SA-UNet checkpoint (e.g. RUN/checkpoints/best.pt)")->required();
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
  cmd->callback([f] { run_export(*f); });
}

}  // namespace vg::cli
