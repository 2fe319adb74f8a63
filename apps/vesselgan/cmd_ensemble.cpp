// vesselgan ensemble: segment a data set with several models, combine their probability maps
// (seg/ensemble.h) and score the combination with the standard protocol, as `evaluate` does.
#include <cstdio>
#include <iostream>
#include <set>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/seg/dataset_inference.h"
#include "vesselgan/seg/ensemble.h"

namespace vg::cli {

namespace {

struct EnsembleFlags {
  std::vector<std::string> models;
  std::string data, split = "test", layout = "auto", method, choose_on, select = "f1", out = "ensemble";
  std::vector<double> weights;
  double step = 0.1, threshold = 0.5, vote_threshold = 0.5, fov_diameter = -1;
  bool tta = false;
  ComputeFlags compute;
};

std::string fmt(const char* format, double v) {
  char b[64];
  std::snprintf(b, sizeof b, format, v);
  return b;
}

std::string join_weights(const std::vector<double>& w) {
  std::string s;
  for (double x : w) s += (s.empty() ? "" : "/") + fmt("%.3g", x);
  return s;
}

// Weights must never be chosen on the images they are then scored on (docs/protocol.md).
void refuse_overlap(const EnsembleFlags& f, const DatasetFiles& test, const DatasetFiles& val) {
  if (f.choose_on == f.split || f.choose_on == "all" || f.split == "all")
    throw UserError(
        "--choose-weights-on " + f.choose_on + " overlaps --split " + f.split +
        " (valid: a split without the scored images, e.g. --choose-weights-on train --split test)");
  std::set<std::string> scored;
  for (const auto& s : test.samples) scored.insert(fs::weakly_canonical(s.image).string());
  for (const auto& s : val.samples)
    if (scored.count(fs::weakly_canonical(s.image).string()))
      throw UserError("--choose-weights-on " + f.choose_on + " holds " + s.image.string() +
                      ", which --split " + f.split +
                      " also scores (valid: a split without the scored images)");
}

void run_ensemble(const EnsembleFlags& f) {
  if (f.models.size() < 2)
    throw UserError("got " + std::to_string(f.models.size()) +
                    " --model (valid: at least two, --model A --model B)");
  if (!f.weights.empty() && !f.choose_on.empty())
    throw UserError("give --weights or --choose-weights-on, not both");
  EnsembleOptions eo;
  eo.method = !f.method.empty()                              ? f.method
              : (!f.weights.empty() || !f.choose_on.empty()) ? "weighted"
                                                             : "mean";
  eo.weights = f.weights;
  eo.threshold = f.vote_threshold;
  if (eo.method != "mean" && eo.method != "weighted" && eo.method != "max" && eo.method != "vote")
    throw UserError("--method " + eo.method + " is not valid (valid: mean, weighted, max, vote)");
  if (!f.choose_on.empty() && eo.method != "weighted")
    throw UserError("--choose-weights-on needs --method weighted, got --method " + eo.method);
  if (eo.method == "weighted" && f.choose_on.empty() && f.weights.size() != f.models.size())
    throw UserError("--weights has " + std::to_string(f.weights.size()) + " values for " +
                    std::to_string(f.models.size()) +
                    " models (valid: one per --model, e.g. --weights 0.6,0.4, "
                    "or --choose-weights-on train)");
  if (f.threshold <= 0 || f.threshold >= 1)
    throw UserError("--threshold " + std::to_string(f.threshold) + " is not valid (valid: 0 < t < 1)");
  WeightSearchOptions search;
  search.step = f.step;
  search.metric = f.select;
  search.threshold = f.threshold;
  if (!f.choose_on.empty()) validate(search);
  if (f.choose_on.empty()) validate(eo);

  const DatasetFiles data = find_dataset(f.data, f.split, f.layout);
  DatasetFiles val;
  if (!f.choose_on.empty()) {
    val = find_dataset(f.data, f.choose_on, f.layout);
    refuse_overlap(f, data, val);
  }

  const auto device = setup_compute(f.compute);
  std::vector<std::vector<EvalItem>> test_items, val_items;
  std::string scale;
  for (const auto& m : f.models) {
    const Segmenter seg = Segmenter::load(m, device);
    PredictOptions popt;
    popt.tta = f.tta;
    popt.fov_diameter = seg.resolve_fov_diameter(f.fov_diameter);
    std::cerr << "model " << m << "\n";
    std::vector<ScaleInfo> scales;
    test_items.push_back(predict_dataset(seg, data, popt, make_progress_printer(), &scales));
    std::cerr << "\n";
    scale += (scale.empty() ? "" : "; ") + fs::path(m).filename().string() + ": " +
             describe_scale(popt.fov_diameter, scales);
    if (!f.choose_on.empty()) {
      val_items.push_back(predict_dataset(seg, val, popt, make_progress_printer()));
      std::cerr << "\n";
    }
  }

  double val_score = 0;
  if (!f.choose_on.empty()) {
    eo.weights = choose_weights(val_items, search, &val_score);
    std::cerr << "weights " << join_weights(eo.weights) << " chosen on " << f.choose_on << " ("
              << val.samples.size() << " images, FOV-pooled " << f.select << " " << fmt("%.4f", val_score)
              << ")\n";
  }

  std::vector<EvalItem> items;
  for (size_t i = 0; i < test_items[0].size(); ++i) {
    std::vector<torch::Tensor> probs;
    for (const auto& per_model : test_items) probs.push_back(per_model[i].prob);
    const EvalItem& ref = test_items[0][i];
    items.push_back({ref.id, combine(probs, eo), ref.label, ref.mask});
  }

  std::string model_list;
  for (const auto& m : f.models) model_list += (model_list.empty() ? "" : ", ") + m;
  std::string how = eo.method;
  if (eo.method == "weighted") {
    how += ", weights " + join_weights(eo.weights);
    if (!f.choose_on.empty())
      how += " chosen on the " + f.choose_on + " split by FOV-pooled " + f.select + " (step " +
             fmt("%.3g", f.step) + ")";
  }
  if (eo.method == "vote") how += ", each model binarized at " + fmt("%.3g", eo.threshold);
  EvalOptions eopt;
  eopt.threshold = f.threshold;
  EvalReport report = evaluate(items, eopt);
  report.protocol = describe_protocol(data);
  report.protocol.predictions =
      "ensemble (" + how + ") of models " + model_list + (f.tta ? " (flip TTA)" : "");
  report.protocol.scale = scale;
  const std::string title = "ensemble of " + std::to_string(f.models.size()) + " models (" + eo.method +
                            ") on " + data.root.string() + " [" + data.split + ", " +
                            std::to_string(items.size()) + " images]";
  write_eval_report(f.out, report, title);

  // ensemble.json: what was combined and how, and each model alone on the same images for comparison.
  nlohmann::json j;
  j["models"] = f.models;
  j["ensemble"] = eo;
  j["tta"] = f.tta;
  j["split"] = data.split;
  if (!f.choose_on.empty())
    j["weight_search"] = {{"split", f.choose_on},
                          {"images", val.samples.size()},
                          {"options", search},
                          {"validation_score", val_score}};
  std::cout << to_markdown(report, title) << "\n| model | FOV F1 | FOV AUC |\n|---|---|---|\n";
  nlohmann::json singles = nlohmann::json::array();
  for (size_t m = 0; m < f.models.size(); ++m) {
    const EvalReport r = evaluate(test_items[m], eopt);
    singles.push_back({{"model", f.models[m]}, {"fov_pooled", r.fov_pooled}});
    std::cout << "| " << f.models[m] << " | " << fmt("%.4f", r.fov_pooled.f1) << " | "
              << fmt("%.4f", r.fov_pooled.auc_roc) << " |\n";
  }
  std::cout << "| ensemble | " << fmt("%.4f", report.fov_pooled.f1) << " | "
            << fmt("%.4f", report.fov_pooled.auc_roc) << " |\n";
  j["single_models"] = singles;
  j["ensemble_fov_pooled"] = report.fov_pooled;
  write_file_atomic(fs::path(f.out) / "ensemble.json", j.dump(2) + "\n");
  std::cout << "\nwritten: " << f.out << "/metrics.json, metrics.md, roc.svg, pr.svg, ensemble.json\n";
}

}  // namespace

void add_ensemble(CLI::App& app) {
  auto f = std::make_shared<EnsembleFlags>();
  auto* cmd =
      app.add_subcommand("ensemble", "Combine several models' probability maps and score the ensemble");
  cmd->add_option("--model", f->models, "SA-UNet checkpoint; repeat for each model (at least two)")
      ->required();
  cmd->add_option("--data", f->data, "data set folder with labels (as for evaluate)")->required();
  cmd->add_option("--split", f->split, "the split scored: train | test | all")->capture_default_str();
  cmd->add_option("--layout", f->layout, "auto | drive | chase | stare | hrf | folder | photos")
      ->capture_default_str();
  cmd->add_option(
      "--method", f->method,
      "mean | weighted | max | vote (default: weighted with --weights or --choose-weights-on, else mean)");
  cmd->add_option("--weights", f->weights, "one weight per model, comma-separated, e.g. 0.6,0.4 (normalized)")
      ->delimiter(',');
  cmd->add_option(
      "--choose-weights-on", f->choose_on,
      "choose the weights by a grid search on this split of --data (validation images; never the "
      "test split: weights chosen on the scored images overstate the result, so a split equal to or "
      "overlapping --split is refused)");
  cmd->add_option("--select", f->select, "with --choose-weights-on: maximize FOV-pooled f1 | auc")
      ->capture_default_str();
  cmd->add_option("--step", f->step, "with --choose-weights-on: simplex grid step (1/k)")
      ->capture_default_str();
  cmd->add_option("--vote-threshold", f->vote_threshold,
                  "with --method vote: each model's binarization threshold")
      ->capture_default_str();
  cmd->add_option("--threshold", f->threshold, "evaluation threshold")->capture_default_str();
  cmd->add_option("--out", f->out, "report folder (metrics.json, metrics.md, roc.svg, pr.svg, ensemble.json)")
      ->capture_default_str();
  cmd->add_flag("--tta", f->tta, "flip test-time augmentation for every model");
  cmd->add_option(
         "--fov-diameter", f->fov_diameter,
         "resize photographs so their FOV is this many px across (-1: each model's training scale, 0: "
         "native)")
      ->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_ensemble(*f); });
}

}  // namespace vg::cli
