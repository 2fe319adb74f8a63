// vesselgan calibrate: fits a temperature (eval/temperature.h) to a model's probabilities on its own
// validation images, the training-set photographs it held out, and writes a copy of the checkpoint that
// applies it. The thresholded map and AUC do not change; the probabilities' reliability (ECE) does.
#include <iostream>
#include <set>

#include "cli.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/eval/temperature.h"
#include "vesselgan/seg/dataset_inference.h"
#include "vesselgan/seg/ensemble_checkpoint.h"
#include "vesselgan/seg/segmenter.h"

namespace vg::cli {

namespace {

struct CalibrateFlags {
  std::string model, data, layout = "auto", out;
  std::vector<std::string> ids;  // empty: the validation ids the checkpoint records
  ComputeFlags compute;
};

// The validation ids a checkpoint records: its own "val_ids", or its ensemble members'.
std::vector<std::string> recorded_val_ids(const CheckpointHeader& h) {
  std::set<std::string> ids;
  for (const auto& id : h.config.value("val_ids", nlohmann::json::array())) ids.insert(id.get<std::string>());
  if (h.config.contains("ensemble"))
    for (const auto& m : h.config.at("ensemble").value("members", nlohmann::json::array()))
      for (const auto& id : m.value("val_ids", nlohmann::json::array())) ids.insert(id.get<std::string>());
  return {ids.begin(), ids.end()};
}

void run_calibrate(const CalibrateFlags& f) {
  const std::filesystem::path model = f.model.empty() ? shipped_model("sa-unet-drive.pt") : std::filesystem::path(f.model);
  const auto device = setup_compute(f.compute);
  Segmenter seg = Segmenter::load(model, device);
  const std::vector<std::string> ids = f.ids.empty() ? recorded_val_ids(seg.header()) : f.ids;
  if (ids.empty())
    throw UserError("checkpoint " + model.string() +
                    " records no validation images to calibrate on (give --ids of held-out training images)");
  const DatasetFiles all = find_dataset(f.data, "train", f.layout);
  const DatasetFiles data = samples_with_ids(all, ids, [&](const std::string& id) {
    return "calibration image " + id + " is not in the train split of " + all.root.string() +
           " (give the data set the model was trained on, or --ids)";
  });
  seg.set_temperature(1.0);  // fit on the raw probabilities, whatever the checkpoint recorded
  PredictOptions popt;
  popt.fov_diameter = seg.resolve_fov_diameter(-1);  // as segment and evaluate run it
  const auto items = predict_dataset(seg, data, popt, make_progress_printer());
  std::cerr << "\n";
  std::vector<torch::Tensor> probs, truths;
  for (const auto& it : items) {
    if (!it.label.defined()) throw UserError("calibration image " + it.id + " has no label");
    const torch::Tensor inside = it.mask.defined() ? it.mask.gt(0.5) : torch::ones_like(it.prob, torch::kBool);
    probs.push_back(it.prob.masked_select(inside));
    truths.push_back(it.label.gt(0.5).masked_select(inside));
  }
  const TemperatureFit fit = fit_temperature(torch::cat(probs), torch::cat(truths));

  CheckpointHeader h = seg.header();
  h.config["calibration"] = fit;
  h.config["calibration"]["ids"] = ids;
  h.config["calibration"]["data"] = f.data;
  if (seg.member_count() == 1) {
    save_checkpoint(f.out, h, *seg.model());
  } else {
    std::vector<SAUNet> members;
    for (size_t i = 0; i < seg.member_count(); ++i) members.push_back(seg.member(i));
    save_checkpoint(f.out, h, *SAUNetEnsemble(members));
  }
  std::printf("temperature %.4f fitted on %lld FOV pixels of %zu validation image(s): NLL %.5f -> %.5f\n",
              fit.temperature, static_cast<long long>(fit.pixels), ids.size(), fit.nll_before, fit.nll_after);
  std::cout << "written: " << f.out << "\n";
}

}  // namespace

void add_calibrate(CLI::App& app) {
  auto f = std::make_shared<CalibrateFlags>();
  auto* cmd = app.add_subcommand(
      "calibrate", "Fit a probability temperature on a model's validation images and write a calibrated copy");
  cmd->add_option("--model", f->model, "SA-UNet checkpoint or ensemble (default: the shipped sa-unet-drive.pt)");
  cmd->add_option("--data", f->data, "the data set the model was trained on (its train split holds the validation images)")
      ->required();
  cmd->add_option("--layout", f->layout, "layout of --data")->capture_default_str();
  cmd->add_option("--ids", f->ids, "held-out training images to fit on, comma separated (default: the checkpoint's validation ids)")
      ->delimiter(',');
  cmd->add_option("--out", f->out, "the calibrated checkpoint to write")->required();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_calibrate(*f); });
}

}  // namespace vg::cli
