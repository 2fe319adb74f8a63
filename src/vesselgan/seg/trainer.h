// SA-UNet training: Adam over a stage schedule, online augmentation on the training device, validation on
// images held out of the training set, best and last checkpoints, stats.jsonl, and exact resume.
//
// Run folder:
//   config.json              resolved TrainOptions (+ data set and split)
//   stats.jsonl              one row per epoch: loss, lr, validation F1/AUC/loss, seconds
//   checkpoints/last.pt      after every epoch: model, optimizer, RNG state, epoch (atomic)
//   checkpoints/best.pt      best validation score so far (by TrainOptions::select)
//   checkpoints/swa.pt       with TrainOptions::swa_start: the weight average so far, batch-norm statistics measured
//                            on the training photographs (last.pt holds the average too, for resume)
//   curves.svg               training curves
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/dist/collective.h"
#include "vesselgan/seg/train_options.h"

namespace vg {

struct TrainResult {
  std::filesystem::path best, last;
  double best_score = 0;     // validation score of `best` (higher is better; -loss for select=loss)
  int64_t best_epoch = -1;   // 1-based
  int64_t epochs_done = 0;
  double seconds = 0;        // wall time of this process's epochs
};

// Trains on `train` and validates on `val` (may be empty: then the last epoch is also "best").
// With resume = true and a last.pt in run_dir, continues exactly where it stopped (options are taken
// from the checkpoint); without resume, an existing last.pt is a UserError (never overwrites a run).
//
// Data-parallel over `world` (docs/distributed.md): every rank is called with the same data and options;
// each draws the same global batch and computes its rows (batch_size / ranks; a UserError when that does
// not divide), BatchNorm and the losses see the global batch, gradients are averaged, rank 0 validates and
// alone writes run_dir and reports progress. The parameters after k steps equal one process's with the same
// batch (to rounding), and the checkpoint holds the global state, so a run resumes with any number of ranks
// (run_dir must then be readable by every rank).
TrainResult train_sa_unet(const std::vector<Sample>& train, const std::vector<Sample>& val,
                          const TrainOptions& options, const std::filesystem::path& run_dir,
                          const torch::Device& device, bool resume, const ProgressFn& progress = {},
                          const Collective& world = Collective());

// The checkpoint "kind" of SA-UNet models.
constexpr const char* kSegCheckpointKind = "sa-unet";

}  // namespace vg
