// Scores a set of probability maps against labels under the protocol of docs/protocol.md: FOV pooled
// (the headline), whole image pooled, and per image (inside the FOV) with mean and sample std.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vesselgan/eval/calibration.h"
#include "vesselgan/eval/ranking_metrics.h"

namespace vg {

struct MetricSet {
  double se = 0, sp = 0, acc = 0, precision = 0, f1 = 0, iou = 0, mcc = 0, auc_roc = 0, auc_pr = 0,
         cldice = 0;
};
// Keys exactly: se, sp, acc, precision, f1, iou, mcc, auc_roc, auc_pr, cldice.
void to_json(nlohmann::json& j, const MetricSet& m);
void from_json(const nlohmann::json& j, MetricSet& m);

struct EvalItem {
  std::string id;  // unique within one evaluate() call, e.g. "01"
  // prob: [H, W] or [1, H, W] float in [0, 1]; label: same size, {0, 1} (float / bool / uint8);
  // mask: same size FOV mask (> 0.5 counts), or undefined for "the whole image is the FOV". CPU tensors.
  torch::Tensor prob, label, mask;
};

struct EvalOptions {
  double threshold = 0.5;       // predicted positive iff prob >= threshold; in [0, 1]
  int64_t curve_points = 1000;  // ROC / PR curves are thinned to at most this many points; 0 keeps all
  void validate() const;        // throws UserError naming the field and its valid range
};
void to_json(nlohmann::json& j, const EvalOptions& o);
void from_json(const nlohmann::json& j, EvalOptions& o);  // missing keys keep their defaults

// How an evaluation was run, stated in its report (docs/protocol.md): which photographs, which annotation is
// the ground truth, where the FOV masks came from, at what scale the model saw the photographs. Filled by
// the caller (evaluate() only scores); empty fields are left out of the Markdown.
struct EvalProtocol {
  std::string data;        // data set folder and layout: "/data/CHASE_DB1 (chase layout)"
  std::string split;       // which images: "test (CHASE_DB1 standard split: ...)"
  std::string annotation;  // ground truth: "1stHO (first human observer)"
  std::string fov;         // "given (mask files)", "estimated from the photographs (data/fov.h)", "whole image"
  std::string scale;       // "native resolution" or "FOV diameter normalized to 540 px (...)"
  std::string predictions; // what was scored: "model M" or "saved predictions DIR"
  bool empty() const {
    return data.empty() && split.empty() && annotation.empty() && fov.empty() && scale.empty() && predictions.empty();
  }
};
// Keys exactly: data, split, annotation, fov, scale, predictions.
void to_json(nlohmann::json& j, const EvalProtocol& p);

struct EvalReport {
  EvalProtocol protocol;  // set by the caller
  double threshold = 0.5;
  MetricSet fov_pooled;                     // one confusion matrix / one AUC / one clDice over all FOV pixels
  MetricSet whole_image_pooled;             // the same over every pixel (skeletons of the whole images)
  MetricSet per_image_mean, per_image_std;  // over per_image; std with ddof = 1 (0 for 1 image)
  std::vector<std::pair<std::string, MetricSet>> per_image;  // inside the FOV, in input order
  Curve roc_fov, pr_fov;                                     // pooled over FOV pixels
  Calibration calibration_fov;                               // pooled over FOV pixels, 15 bins
  int64_t fov_pixels = 0, total_pixels = 0;
};

// Pure function of its inputs. Throws UserError for an empty item list or a repeated id, c10::Error
// (TORCH_CHECK) for malformed tensors (shape mismatch, prob outside [0, 1]).
EvalReport evaluate(const std::vector<EvalItem>& items, const EvalOptions& opt = {});

// Keys: protocol, threshold, fov_pixels, total_pixels, fov_pooled, whole_image_pooled, per_image_mean,
// per_image_std, per_image (object: id -> MetricSet), calibration_fov (ECE, MCE and the reliability bins).
nlohmann::json to_json(const EvalReport& r);
void to_json(nlohmann::json& j, const EvalReport& r);

// Markdown: a "Protocol" list (when the report has one), a table with rows "FOV pooled", "Whole image pooled",
// "Per-image mean ± std" and columns Se Sp Acc Precision F1 IoU MCC AUC PR-AUC clDice (4 decimals), then a
// line with the FOV-pooled calibration error, then a per-image table.
std::string to_markdown(const EvalReport& r, const std::string& title);

// Writes metrics.json, metrics.md, roc.svg and pr.svg into `dir` (created if missing), each atomically.
void write_eval_report(const std::filesystem::path& dir, const EvalReport& r, const std::string& title);

}  // namespace vg
