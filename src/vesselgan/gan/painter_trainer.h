// Training the painter of the label-first route (gan/painter.h) on real (vessel map, photograph) crops:
// native-scale crops wholly inside the FOV, drawn toward vessels, x-flipped at random; the binary label
// conditions the painter and the critic, the crop's mean colour is its appearance code.
//
// Run folder:
//   config.json            {"painter": PainterOptions, "data_ids": [...]}
//   stats.jsonl            a row every log_every steps: l1, adversarial and critic losses, logits, s/step
//   samples-<step>.png     at every snapshot: rows of real maps, their painting and the real photograph
//   checkpoints/last.pt    painter, critic, both optimizers, RNG state (resume continues bit for bit)
//
// Data-parallel (dist/): every rank draws the same global batch and noise, paints and criticises its own rows,
// and applies the gradients averaged over ranks, so N ranks train what one process trains with the same
// batch; rank 0 alone writes the run folder, and a run resumes with any number of ranks.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/dist/collective.h"
#include "vesselgan/gan/painter.h"

namespace vg {

struct PainterRunControl {
  bool resume = false;            // continue run_dir's checkpoints/last.pt (a fresh run refuses a folder holding one)
  int64_t stop_after_steps = -1;  // stop (after a checkpoint) once this many steps are done; -1 = to the end
};

struct PainterTrainResult {
  std::filesystem::path last;  // checkpoints/last.pt
  int64_t steps_done = 0;
  double seconds = 0, sec_per_step = 0;  // this process
  double l1 = 0;                         // mean L1 over the last logged interval
  bool finished = false;
};

// UserError when a sample has no label, no crop fits the FOV, the run folder holds a run and resume is off, or
// (in a job) the batch does not split over the ranks or the ranks disagree on the recipe, data or checkpoint.
PainterTrainResult train_painter(const std::vector<Sample>& data, const PainterOptions& options,
                                 const std::filesystem::path& run_dir, const torch::Device& device,
                                 const PainterRunControl& control = {}, const ProgressFn& progress = {},
                                 const Collective& world = Collective());

// The painter of a painter run (its folder, or a checkpoint), in eval mode on `device`.
Painter load_painter(const std::filesystem::path& path, const torch::Device& device);

}  // namespace vg
