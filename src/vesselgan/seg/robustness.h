// The robustness benchmark: a segmenter scored on the same labelled photographs as acquired (clean) and
// under each controlled acquisition shift of data/acquisition_shift.h (other scale, gamma, contrast, blur,
// JPEG, illumination, colour cast, noise, exposure), whose ground truth stays exact. Each condition is scored
// with eval/evaluator.h over all its images, FOV pooled: F1 at the threshold and ROC AUC; the drop of a
// shift is clean - shifted (positive: the shift hurts). `vesselgan evaluate --shifts` runs it.
//
// Every condition is scored in the original photograph's pixels, against its untouched label and FOV mask,
// so all conditions score the same pixels (fov_pixels) and no label is ever resampled:
//
//   condition     segmenter is given                              probability scored as
//   clean         image x, FOV mask m (H x W)                     p(x, m)
//   photometric   shifted image x' (H x W), m                     p(x', m)
//   scale s       x and m resized to round(sH) x round(sW)        p(x_s, m_s) resized back to H x W (bilinear,
//                 (apply_shift: bilinear / nearest)               not antialiased; clamped to [0, 1])
//
// So a scale drop measures the segmenter (with its FOV-diameter normalization, which sees the resized FOV),
// the detail the resized photograph lost or had to invent, and the probability map's way back, but no label
// resampling: a perfect segmenter that commutes with resizing loses 0.005 F1 at 1.25 on 256 px phantoms
// (0.053 when each scale was scored in its own pixels against labels resized nearest; seg/robustness_test.cpp).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
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
  MetricSet fov_pooled;              // the shifted images, pooled over the original FOVs
  int64_t fov_pixels = 0;            // the pixels scored: the original FOVs' (as clean)
  double f1_drop = 0, auc_drop = 0;  // clean - shifted F1 and ROC AUC
};

struct RobustnessReport {
  EvalProtocol protocol;          // set by the caller, as for evaluate()
  std::vector<std::string> ids;   // the images scored
  uint64_t seed = 0;
  double threshold = 0.5;
  MetricSet clean;                // the unshifted images, pooled over their FOVs
  int64_t fov_pixels = 0;         // the FOV pixels scored in every condition
  std::vector<ShiftScore> shifts;  // in the order of RobustnessOptions::shifts
  double mean_f1_drop = 0, mean_auc_drop = 0;  // over all shifts
  ShiftScore worst_f1, worst_auc;              // the shift with the largest F1 (AUC) drop; first on ties
};

// A segmenter under test: image [3, H, W] float in [0, 1], fov [1, H, W] {0, 1} or undefined (estimate it if
// needed) -> vessel probability [1, H, W] float in [0, 1] on the CPU.
using ProbabilityFn = std::function<torch::Tensor(const torch::Tensor& image, const torch::Tensor& fov)>;

// For the clean images and then each shift: shifts every sample (apply_shift; for "scale" the FOV mask given
// to the segmenter is resized with the photograph), predicts with `predict` (given the FOV mask when it came
// from a file or was estimated) and scores the condition with evaluate() in the original pixels, as in the
// table above. Every sample needs a label (UserError naming it otherwise); UserError for invalid options or
// no samples. Progress: stage "robustness", one unit per image and condition.
RobustnessReport run_robustness(const ProbabilityFn& predict, const std::vector<Sample>& samples,
                                const RobustnessOptions& opt, const ProgressFn& progress = {});
// The same for `seg` under `predict`: the FOV mask sets the scale as in predict_dataset, so a "scale" shift
// tests the segmenter's scale normalization unless predict.fov_diameter is 0.
RobustnessReport run_robustness(const Segmenter& seg, const std::vector<Sample>& samples,
                                const RobustnessOptions& opt, const PredictOptions& predict,
                                const ProgressFn& progress = {});

// Fills the drops, their mean and the worst cases from r.clean and each r.shifts[i].fov_pooled.
void summarize(RobustnessReport& r);

// ---- serializations (robustness_report.cpp) ----

// Keys: protocol, images, seed, threshold, fov_pixels, clean (MetricSet), shifts (list of {kind, level, f1,
// auc_roc, f1_drop, auc_drop, fov_pixels, fov_pooled}), mean_f1_drop, mean_auc_drop, worst_f1 and worst_auc
// ({kind, level, f1_drop, auc_drop}).
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
