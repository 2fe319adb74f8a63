// The pipeline's report: report.md and a self-contained report.html (images inlined) in the report folder,
// plus results.json with every number. A table in the shape of the original paper's Table 2 (Se, Sp, Acc,
// AUC, F1, Precision, plus MCC and clDice), FOV pooled and whole image, one row per method with mean +- std
// over seeds; each method's F1 difference to the baseline with a paired per-image bootstrap interval and
// sign-flip p-value; ROC curves; a grid of synthetic images and their labels; the GAN's Frechet distance and
// KID (feature network named); wall time per stage; the exact config.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/eval/evaluator.h"
#include "vesselgan/pipeline/stage_runner.h"

namespace vg {

// One model (or ensemble, or a human observer) scored on the evaluation split.
struct ScoredModel {
  std::string row;  // the report row it belongs to: "2nd observer", "baseline (model A)", a variant cell, ...
  std::string kind;  // "observer", "baseline", "variant" or "ensemble"
  uint64_t seed = 0;
  std::string model;  // checkpoint path(s) or the prediction folder
  EvalReport report;
};

struct PipelineReport {
  std::string title;
  nlohmann::json config;  // the exact resolved config
  std::string protocol;   // data set, split, annotation, FOV, scale (one paragraph)
  std::string machine;    // where it ran ("cpu, 2 threads" ...)
  std::vector<ScoredModel> scored;
  std::vector<StageRecord> stages;
  std::vector<nlohmann::json> gan_metrics;  // gan/gan_metrics.h GanMetrics as JSON
  std::filesystem::path synthetic_grid;     // PNG of synthetic images with their labels ("" = none)
  std::string synthetic_caption;            // what its rows show
  std::filesystem::path whole_grid;         // PNG of whole synthetic photographs above their labels ("" = none)
  std::string whole_caption;                // what whole_grid shows
  std::filesystem::path comparison_grid;    // PNG of evaluation photographs beside two models' errors ("" = none)
  std::string comparison_caption;           // what comparison_grid shows, colours included
  std::string notes;                        // e.g. pseudo-labelling acceptance counts
  // The evaluation photographs are phantoms (data/phantom.h), drawn by the process that also grows the
  // generator's procedural vessel trees: the report opens by saying that a gain here is circular.
  bool phantom_data = false;
};

// Mean and sample std over the seeds of a row; the paired comparison of its per-image FOV F1 (averaged over
// seeds) with the baseline row's. Pure: used by write_pipeline_report and the tests.
struct ReportRow {
  std::string row, kind;
  int64_t seeds = 0;
  MetricSet fov_mean, fov_std, whole_mean, whole_std;
  bool compared = false;  // has a baseline comparison (not the baseline itself, not the observer)
  double f1_diff = 0, ci_low = 0, ci_high = 0, p_value = 1;
};
std::vector<ReportRow> summarize(const std::vector<ScoredModel>& scored);

// Writes report.md, report.html, results.json, roc.svg and pr.svg into dir (each atomically). Returns
// report.md's text.
std::string write_pipeline_report(const std::filesystem::path& dir, const PipelineReport& r);

// RFC 4648 base64 (for inlining PNG images into the HTML report).
std::string base64(const std::string& bytes);

}  // namespace vg
