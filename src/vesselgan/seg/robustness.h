// The robustness benchmark: a segmenter scored on the same labelled photographs as acquired (clean) and
// under each controlled acquisition shift of data/acquisition_shift.h (other scale, gamma, contrast, blur,
// JPEG, illumination, colour cast, noise, exposure), whose ground truth stays exact. Each condition is scored
// with eval/evaluator.h over all its images, FOV pooled: F1 at the threshold and ROC AUC; the drop of a
// shift is clean - shifted (positive: the shift hurts). `vesselgan evaluate --shifts` runs it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/acquisition_shift.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/eval/evaluator.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

struct RobustnessOptions {
  std::vector<AcquisitionShift> shifts = default_shifts();  // at least one, each valid; scored in this order
  int64_t max_images = 0;  // score the first N samples only; 0 = all
  uint64_t seed = 0;       // image i (0-based) is shifted with seed + i (only "noise" draws from it)
  double threshold = 0.5;  // F1's probability threshold, 0 < t < 1
};
// Keys exactly: shifts (a list of {kind, level}), max_images, seed, threshold.
void to_json(nlohmann::json& j, const RobustnessOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, RobustnessOptions& o);
// Throws UserError naming the first bad field and its valid range.
void validate(const RobustnessOptions& o);

struct ShiftScore {
  AcquisitionShift shift;
  MetricSet fov_pooled;              // the shifted images, pooled over their FOVs
  double f1_drop = 0, auc_drop = 0;  // clean - shifted F1 and ROC AUC
};

struct RobustnessReport {
  EvalProtocol protocol;          // set by the caller, as for evaluate()
  std::vector<std::string> ids;   // the images scored
  uint64_t seed = 0;
  double threshold = 0.5;
  MetricSet clean;                // the unshifted images, pooled over their FOVs
  std::vector<ShiftScore> shifts;  // in the order of RobustnessOptions::shifts
  double mean_f1_drop = 0, mean_auc_drop = 0;  // over all shifts
  ShiftScore worst_f1, worst_auc;              // the shift with the largest F1 (AUC) drop; first on ties
};

// For the clean images and then each shift: shifts every sample (apply_shift; label and FOV mask move with
// the photograph for "scale"), predicts with `seg` under `predict` (the FOV mask, when given or estimated,
// sets the scale as in predict_dataset, so a "scale" shift tests the segmenter's scale normalization unless
// predict.fov_diameter is 0) and scores the condition with evaluate(). Every sample needs a label
// (UserError naming it otherwise); UserError for invalid options or no samples. Progress: stage
// "robustness", one unit per image and condition.
RobustnessReport run_robustness(const Segmenter& seg, const std::vector<Sample>& samples,
                                const RobustnessOptions& opt, const PredictOptions& predict,
                                const ProgressFn& progress = {});

// Fills the drops, their mean and the worst cases from r.clean and each r.shifts[i].fov_pooled.
void summarize(RobustnessReport& r);

// ---- serializations (robustness_report.cpp) ----

// Keys: protocol, images, seed, threshold, clean (MetricSet), shifts (list of {kind, level, f1, auc_roc,
// f1_drop, auc_drop, fov_pooled}), mean_f1_drop, mean_auc_drop, worst_f1 and worst_auc ({kind, level,
// f1_drop, auc_drop}).
nlohmann::json to_json(const RobustnessReport& r);

// Markdown: the protocol, a table with a row for clean and one per shift (F1, F1 drop, AUC, AUC drop; 4
// decimals, drops signed), then the mean and worst-case drops.
std::string to_markdown(const RobustnessReport& r, const std::string& title);

// SVG: one panel per shift kind, F1 and AUC against the level (the clean score drawn at the kind's identity
// level, and as a dashed line), on a common y axis, three panels to a row.
std::string robustness_svg(const RobustnessReport& r);

// Writes robustness.json, robustness.md and robustness.svg into `dir` (created if missing), atomically.
void write_robustness_report(const std::filesystem::path& dir, const RobustnessReport& r, const std::string& title);

}  // namespace vg
