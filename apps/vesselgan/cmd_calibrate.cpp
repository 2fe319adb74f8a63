// vesselgan calibrate: fits a temperature (eval/temperature.h) to a model's probabilities on its own
// validation images, the training-set photographs it held out, and writes a copy of the checkpoint that
// applies it. The thresholded map and AUC do not change; the probabilities' reliability (ECE) does.
// With --statistics-range K it first fits and records the ranges of adaptive image statistics
// (seg/statistics_range_fit.h) on the model's own training photographs, and the temperature is then fitted
// with them in use. With --count-ratio it then measures the expected-count operating point's ratio
// (eval/operating_point.h) on the same training photographs, with the fitted temperature, and records it.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <set>

#include "cli.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/eval/operating_point.h"
#include "vesselgan/eval/temperature.h"
#include "vesselgan/seg/dataset_inference.h"
#include "vesselgan/seg/ensemble_checkpoint.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/statistics_range_fit.h"

namespace vg::cli {

namespace {

struct CalibrateFlags {
  std::string model, data, layout = "auto", out;
  std::vector<std::string> ids;  // empty: the validation ids the checkpoint records
  double statistics_range = 0;   // k of adaptive image statistics' ranges; 0 = fit none (keep the recorded)
  bool count_ratio = false;      // also measure and record the expected-count ratio
  // The operating-point rule to record as the model's (Segmenter::operating_point); empty: keep the recorded one
  // while the ratio is measured again. A rule other than "fixed" needs count_ratio.
  std::string operating_point;
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

// The training ids of each network of the checkpoint: its ensemble members' own, or its "train_ids".
std::vector<std::vector<std::string>> recorded_member_train_ids(const CheckpointHeader& h, size_t networks) {
  std::vector<std::vector<std::string>> ids;
  if (h.config.contains("ensemble"))
    for (const auto& m : h.config.at("ensemble").value("members", nlohmann::json::array()))
      ids.push_back(m.value("train_ids", std::vector<std::string>{}));
  else
    ids.push_back(h.config.value("train_ids", std::vector<std::string>{}));
  if (ids.size() != networks) ids.assign(networks, {});
  return ids;
}

// The training photographs of every network (member_ids: each one's training ids) in f.data (`purpose`: what they
// are needed for, named when a network records no training ids).
DatasetFiles training_photographs(const std::vector<std::vector<std::string>>& member_ids,
                                  const std::filesystem::path& model, const CalibrateFlags& f,
                                  const std::string& purpose) {
  std::vector<std::string> all_ids;
  for (size_t i = 0; i < member_ids.size(); ++i) {
    if (member_ids[i].empty())
      throw UserError("checkpoint " + model.string() + " records no training ids for network " +
                      std::to_string(i + 1) + " (needed to " + purpose + " on its training photographs)");
    all_ids.insert(all_ids.end(), member_ids[i].begin(), member_ids[i].end());
  }
  std::sort(all_ids.begin(), all_ids.end());
  all_ids.erase(std::unique(all_ids.begin(), all_ids.end()), all_ids.end());
  const DatasetFiles all = find_dataset(f.data, "train", f.layout);
  return samples_with_ids(all, all_ids, [&](const std::string& id) {
    return "training image " + id + " of " + model.string() + " is not in the train split of " +
           all.root.string() + " (give the data set the model was trained on)";
  });
}

// Fits the statistics ranges on the model's training photographs in f.data and sets them on seg.
StatisticsRangeFit fit_ranges(Segmenter& seg, const std::filesystem::path& model, const CalibrateFlags& f,
                              const PredictOptions& popt) {
  if (seg.image_statistics())
    throw UserError("checkpoint " + model.string() +
                    " records image statistics for every photograph, so statistics ranges would not be used "
                    "(calibrate the checkpoint exported without --image-statistics)");
  const auto member_ids = recorded_member_train_ids(seg.header(), seg.member_count());
  const DatasetFiles data = training_photographs(member_ids, model, f, "fit --statistics-range");
  StatisticsRangeFit fit = fit_statistics_ranges(seg, load_samples(data, /*require_labels=*/false), member_ids,
                                                 f.statistics_range, popt, make_progress_printer());
  std::cerr << "\n";
  seg.set_statistics_ranges(fit.ranges);
  return fit;
}

// The expected-count ratio of seg's maps (as calibrated so far) on the model's training photographs in f.data,
// inside their FOV masks (given or estimated, as segment finds them).
double measure_count_ratio(const Segmenter& seg, const std::filesystem::path& model, const CalibrateFlags& f,
                           const PredictOptions& popt) {
  const DatasetFiles data = training_photographs(recorded_member_train_ids(seg.header(), seg.member_count()), model,
                                                 f, "measure --count-ratio");
  const auto items = predict_dataset(seg, data, popt, make_progress_printer());
  std::cerr << "\n";
  std::vector<torch::Tensor> probs, regions;
  for (const auto& it : items) {
    probs.push_back(it.prob);
    regions.push_back(it.mask.defined() ? it.mask.gt(0.5) : torch::Tensor());
  }
  return count_ratio_of(probs, regions);
}

void run_calibrate(const CalibrateFlags& f) {
  if (f.statistics_range != 0 && !(f.statistics_range >= 1 && std::isfinite(f.statistics_range)))
    throw UserError("--statistics-range " + std::to_string(f.statistics_range) +
                    " is not valid (valid: 0 = keep what the checkpoint records, or K >= 1; 1 is a switch)");
  if (!f.operating_point.empty()) {
    check_operating_point_rule(f.operating_point, "--operating-point");
    if (f.operating_point != "fixed" && !f.count_ratio)
      throw UserError("--operating-point " + f.operating_point +
                      " needs --count-ratio in the same call (the rule cuts with the ratio measured there)");
  }
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
  std::optional<StatisticsRangeFit> ranges;
  if (f.statistics_range != 0) ranges = fit_ranges(seg, model, f, popt);
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
  std::optional<double> count_ratio;
  if (f.count_ratio) {
    seg.set_temperature(fit.temperature);  // the ratio of the maps the calibrated checkpoint will give
    count_ratio = measure_count_ratio(seg, model, f, popt);
  }

  CheckpointHeader h = seg.header();
  const std::string recorded_rule = seg.operating_point();
  h.config["calibration"] = fit;
  h.config["calibration"]["ids"] = ids;
  h.config["calibration"]["data"] = f.data;
  if (ranges) {
    h.config["predict"]["statistics_ranges"] = ranges->ranges;
    h.config["predict"]["statistics_fit"] = *ranges;
    h.config["predict"]["statistics_fit"]["data"] = f.data;
  }
  // A ratio recorded before was measured with the old temperature and ranges; the rule goes with it.
  const bool stale_ratio = drop_recorded_count_ratio(h.config) && !count_ratio;
  const std::string rule = !count_ratio ? "fixed" : f.operating_point.empty() ? recorded_rule : f.operating_point;
  if (count_ratio) {
    h.config["predict"]["count_ratio"] = *count_ratio;
    h.config["predict"]["count_ratio_data"] = f.data;
    if (rule != "fixed") h.config["predict"]["operating_point"] = rule;
  }
  if (seg.member_count() == 1) {
    save_checkpoint(f.out, h, *seg.model());
  } else {
    std::vector<SAUNet> members;
    for (size_t i = 0; i < seg.member_count(); ++i) members.push_back(seg.member(i));
    save_checkpoint(f.out, h, *SAUNetEnsemble(members));
  }
  std::printf("temperature %.4f fitted on %lld FOV pixels of %zu validation image(s): NLL %.5f -> %.5f\n",
              fit.temperature, static_cast<long long>(fit.pixels), ids.size(), fit.nll_before, fit.nll_after);
  if (ranges)
    for (size_t i = 0; i < ranges->ranges.size(); ++i)
      std::printf("network %zu: running statistics up to distance %.4f, image statistics from %.4f\n", i + 1,
                  ranges->ranges[i].low, ranges->ranges[i].high);
  if (stale_ratio)
    std::cout << "note: the count ratio " << model.string() << " recorded was measured before this calibration and is "
                 "dropped" << (recorded_rule != "fixed" ? ", and with it the operating point " + recorded_rule : "")
              << " (add --count-ratio to measure it again)\n";
  if (count_ratio)
    std::printf("count ratio %.4f (pixels above 0.5 over summed probability on the training photographs)\n",
                *count_ratio);
  if (rule != "fixed")
    std::cout << "operating point " << rule << ": segment and evaluate read the model with it unless "
                 "--operating-point says otherwise\n";
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
  cmd->add_option("--statistics-range", f->statistics_range,
                  "K >= 1: also record adaptive image statistics, each network normalising a photograph with its "
                  "running statistics up to the largest distance d among its training photographs, and with the "
                  "photograph's own from K*d on (mixed in between); 0 keeps what the checkpoint records")
      ->capture_default_str();
  cmd->add_flag("--count-ratio", f->count_ratio,
               "also measure, on the model's training photographs, the ratio that --operating-point expected-count "
               "uses (pixels above 0.5 over summed probability), and record it");
  cmd->add_option("--operating-point", f->operating_point,
                  "with --count-ratio: record the operating-point rule segment and evaluate use by default "
                  "(fixed | expected-count); without it a recorded rule is kept when the ratio is measured again");
  cmd->add_option("--out", f->out, "the calibrated checkpoint to write")->required();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_calibrate(*f); });
}

}  // namespace vg::cli
