// The synthetic-data pipeline end to end (docs/pipeline.md): stages, each cached and resumable
// (pipeline/stage_runner.h), in the run folder:
//   data/                   the phantom data set (when the config names no data)
//   seg-real/s<seed>/       model A per seed: SA-UNet on the real training images (the baseline)
//   gan/                    StyleGAN2-ADA on the real training images
//   generate/               max(n_synthetic) synthetic images (+ FOV masks, + labels in joint mode)
//   pseudo-label/           the synthetic images labelled by model A (seed 0) with the configured filters
//   retrain/<variant>/      SA-UNet retrained on real + synthetic with the variant's curriculum
//   iterate-<k>/...         (iterations > 1) pseudo-label + retrain again, labelled by the best model so far
//   predict/<model>/        each model's probabilities on the validation and evaluation images (16-bit PNG)
//   ensemble/<variant>/     model A + the retrained model of the same seed, weights chosen on validation
//   gan-metrics/            Frechet distance and KID of the synthetic images against the real training images
//   report/                 report.md, report.html, results.json, roc.svg, synthetic.png
//
// Data-parallel (docs/distributed.md): started as the ranks of a job, every training stage (model A, the GAN
// or painter, each retraining) trains data-parallel over `world`, and the other stages run on rank 0 while the
// rest wait (stage_runner.h); rank 0 alone writes the run folder. The ranks need the run folder at one path.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/pipeline/pipeline_config.h"
#include "vesselgan/pipeline/stage_runner.h"

namespace vg {

struct PipelineRunOptions {
  std::string from_stage;  // force this stage (or every "<prefix>/...") and all later ones to run again
  std::string stop_after;  // stop once this stage finished (for tests and for splitting a long run)
};

struct PipelineResult {
  bool finished = false;  // false when stopped by stop_after
  std::filesystem::path report_dir;
  std::string report_markdown;
  std::vector<StageRecord> stages;
};

// Runs (or resumes) the pipeline in run_dir. Throws UserError for an invalid config or data; progress gets
// stage "pipeline" messages ("<stage>: cached" / "<stage>: running") and every stage's own progress.
PipelineResult run_pipeline(const PipelineConfig& config, const std::filesystem::path& run_dir,
                            const torch::Device& device, const PipelineRunOptions& run = {},
                            const ProgressFn& progress = {}, const Collective& world = Collective());

}  // namespace vg
