// vesselgan evaluate: the field's standard protocol (protocol.md) for a model or saved predictions, or with
// --shifts the model's robustness to acquisition shifts (seg/robustness.h).
#include <iostream>
#include <sstream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/seg/dataset_inference.h"
#include "vesselgan/seg/robustness.h"

namespace vg::cli {

namespace {

struct EvaluateFlags {
  std::string data, split = "test", layout = "auto", model, pred, out = "evaluation";
  double threshold = 0.5, fov_diameter = -1;
  bool tta = false, image_statistics = false;
  OperatingPointFlags operating_point;
  bool shifts = false;                   // the robustness benchmark instead of one evaluation
  std::vector<std::string> shift_kinds;  // empty: every kind
  int64_t max_images = 0;
  uint64_t seed = 0;
  ComputeFlags compute;
};

std::filesystem::path model_path(const EvaluateFlags& f) {
  return f.model.empty() ? shipped_model("sa-unet-drive.pt") : std::filesystem::path(f.model);
}

std::string count_ratio_text(double r) {
  std::ostringstream s;
  s << r;
  return s.str();
}

// "model M" with how it predicted: flip TTA, image statistics (asked for, or recorded in the checkpoint).
std::string predictions_label(const std::filesystem::path& model, const EvaluateFlags& f, const Segmenter& seg) {
  const bool full = f.image_statistics || seg.image_statistics();
  const std::string rule = seg.resolve_operating_point(f.operating_point.rule);
  return "model " + model.string() + (f.tta ? " (flip TTA)" : "") +
         (rule != "fixed"
              ? " (operating point " + rule + ", count ratio " +
                    count_ratio_text(seg.resolve_count_ratio(f.operating_point.count_ratio)) + ")"
              : "") +
         (full                                ? " (image statistics)"
          : !seg.statistics_ranges().empty() ? " (adaptive image statistics)"
                                              : "");
}

void run_shifts(const EvaluateFlags& f) {
  if (!f.pred.empty())
    throw UserError("--shifts segments the shifted photographs itself: give --model CKPT, not --pred");
  RobustnessOptions opt;
  opt.shifts = default_shifts(f.shift_kinds);
  opt.max_images = f.max_images;
  opt.seed = f.seed;
  opt.threshold = f.threshold;
  validate(opt);
  DatasetFiles data = find_dataset(f.data, f.split, f.layout);
  if (f.max_images > 0 && static_cast<size_t>(f.max_images) < data.samples.size()) data.samples.resize(f.max_images);
  const EvalProtocol protocol = describe_protocol(data);
  const std::filesystem::path model = model_path(f);
  const Segmenter seg = Segmenter::load(model, setup_compute(f.compute));
  PredictOptions popt;
  popt.tta = f.tta;
  popt.image_statistics = f.image_statistics;
  resolve_operating_point(f.operating_point, seg, popt);
  popt.fov_diameter = seg.resolve_fov_diameter(f.fov_diameter);
  RobustnessReport report =
      run_robustness(seg, load_samples(data, /*require_labels=*/true), opt, popt, make_progress_printer());
  std::cerr << "\n";
  report.protocol = protocol;
  report.protocol.predictions = predictions_label(model, f, seg);
  report.protocol.scale = describe_scale(popt.fov_diameter);
  const std::string title = "Robustness of model " + model.string() + " on " + data.root.string() + " [" + data.split +
                            ", " + std::to_string(report.ids.size()) + " images]";
  write_robustness_report(f.out, report, title);
  std::cout << to_markdown(report, title) << "\nwritten: " << f.out
            << "/robustness.json, robustness.md, robustness.svg\n";
}

void run_evaluate(const EvaluateFlags& f) {
  if (f.threshold <= 0 || f.threshold >= 1)
    throw UserError("--threshold " + std::to_string(f.threshold) + " is not valid (valid: 0 < t < 1)");
  if (f.shifts) return run_shifts(f);
  if (!f.shift_kinds.empty() || f.max_images != 0 || f.seed != 0)
    throw UserError("--shift-kinds, --max-images and --seed belong to --shifts (the robustness benchmark)");
  if (!f.model.empty() && !f.pred.empty())
    throw UserError("give one of --model CKPT (segment and score) or --pred DIR (score saved predictions), not both");
  const DatasetFiles data = find_dataset(f.data, f.split, f.layout);
  EvalProtocol protocol = describe_protocol(data);
  std::vector<EvalItem> items;
  std::string title;
  if (!f.pred.empty()) {
    items = load_predictions(data, f.pred);
    title = "predictions " + f.pred;
    protocol.predictions = "saved predictions " + f.pred;
    protocol.scale = "as saved (the photographs' own pixels)";
  } else {
    const std::filesystem::path model = model_path(f);
    const auto device = setup_compute(f.compute);
    const Segmenter seg = Segmenter::load(model, device);
    PredictOptions popt;
    popt.tta = f.tta;
    popt.image_statistics = f.image_statistics;
    resolve_operating_point(f.operating_point, seg, popt);
    popt.fov_diameter = seg.resolve_fov_diameter(f.fov_diameter);
    std::vector<ScaleInfo> scales;
    items = predict_dataset(seg, data, popt, make_progress_printer(), &scales);
    std::cerr << "\n";
    protocol.predictions = predictions_label(model, f, seg);
    title = protocol.predictions;
    protocol.scale = describe_scale(popt.fov_diameter, scales);
  }
  title += " on " + data.root.string() + " [" + data.split + ", " + std::to_string(items.size()) + " images]";
  EvalOptions eopt;
  eopt.threshold = f.threshold;
  EvalReport report = evaluate(items, eopt);
  report.protocol = protocol;
  write_eval_report(f.out, report, title);
  std::cout << to_markdown(report, title) << "\nwritten: " << f.out << "/metrics.json, metrics.md, roc.svg, pr.svg\n";
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto f = std::make_shared<EvaluateFlags>();
  auto* cmd = app.add_subcommand("evaluate", "Score a model or saved predictions against a data set's labels");
  cmd->add_option("--data", f->data, "data set folder with labels (DRIVE, CHASE_DB1, STARE, HRF as distributed, or "
                                     "images/ + labels/ [+ masks/])")
      ->required();
  cmd->add_option("--split", f->split, "train | test | all")->capture_default_str();
  cmd->add_option("--layout", f->layout, "auto | drive | chase | stare | hrf | folder | photos")->capture_default_str();
  cmd->add_option("--model", f->model, "SA-UNet checkpoint to segment the images with (default: the shipped "
                                       "sa-unet-drive.pt)");
  cmd->add_option("--pred", f->pred, "folder of saved probability maps or binary masks, matched by id");
  cmd->add_option("--out", f->out,
                  "report folder (metrics.json, metrics.md, roc.svg, pr.svg; with --shifts robustness.json, .md, .svg)")
      ->capture_default_str();
  cmd->add_option("--threshold", f->threshold, "probability threshold")->capture_default_str();
  cmd->add_flag("--tta", f->tta, "with --model: flip test-time augmentation");
  cmd->add_flag("--image-statistics", f->image_statistics,
                "normalise each photograph by its own activation statistics (prediction-time batch norm)");
  add_operating_point_flags(*cmd, f->operating_point);
  cmd->add_option("--fov-diameter", f->fov_diameter,
                  "with --model: resize photographs so their FOV is this many px across (-1: the model's training "
                  "scale when it records one, else native; 0: native resolution)")
      ->capture_default_str();
  cmd->add_flag("--shifts", f->shifts,
                "robustness benchmark: score the model on the clean photographs and under controlled acquisition "
                "shifts (scale, gamma, contrast, blur, jpeg, illumination, colour, noise, dark); writes "
                "robustness.json, robustness.md, robustness.svg");
  cmd->add_option("--shift-kinds", f->shift_kinds, "with --shifts: the kinds to run, comma separated (default: all)")
      ->delimiter(',');
  cmd->add_option("--max-images", f->max_images, "with --shifts: score the first N images only (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "with --shifts: seed of the noise shift (image i uses seed + i)")
      ->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_evaluate(*f); });
}

}  // namespace vg::cli
