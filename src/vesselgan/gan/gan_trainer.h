// StyleGAN2-ADA training (Karras et al. 2020 "Analyzing and improving the image quality of StyleGAN" and
// "Training generative adversarial networks with limited data"): non-saturating logistic loss, lazy R1 and
// path-length regularization with the Adam corrections for lazy terms, style mixing, generator EMA with
// ramp-up, and adaptive discriminator augmentation on every image D sees.
//
// Run folder:
//   config.json                        resolved GanTrainOptions (+ data set ids)
//   stats.jsonl                        one row per tick: losses, R1, path length, p, r_t, s/kimg, memory
//   curves.svg                         the losses and logits, and ADA's p and r_t, per tick (gan_curves.h)
//   reals.png                          grid of real training images (as D sees them before augmentation)
//   fakes-<kimg>.png                   G_ema on a fixed latent grid at every snapshot (+ -labels.png, joint)
//   snapshots/snapshot-<kimg>.pt       full training state at every snapshot (generate and resume read it)
//   checkpoints/last.pt                the latest snapshot (resume continues from it bit for bit)
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/dist/collective.h"
#include "vesselgan/gan/gan_options.h"

namespace vg {

struct GanTrainResult {
  std::filesystem::path last;                   // checkpoints/last.pt
  std::vector<std::filesystem::path> snapshots;  // written by this process
  double kimg_done = 0;                         // images shown to D, thousands, at the end
  int64_t steps_done = 0;
  double seconds = 0;                           // wall time of this process
  double sec_per_kimg = 0;                      // this process's training speed
  bool finished = false;                        // reached options.kimg
};

// Where to start: fresh (resume_from empty: an existing checkpoints/last.pt in run_dir is a UserError), or from
// a checkpoint file or a run folder (its last.pt); a run folder whose last.pt is missing starts fresh.
struct GanRunControl {
  std::filesystem::path resume_from;
  // Transfer learning: a fresh run (ignored on resume) starts from the networks of this run checkpoint or
  // generator file (gan_models.h load_init_networks); the options must come from with_networks_of(init, ...).
  std::filesystem::path init_from;
  // With init_from: init is a lower-resolution run of the same family, and the options are the run's own
  // (gan/grow_networks.h): the blocks both networks have are copied, the new top blocks start fresh.
  bool grow = false;
  int64_t stop_after_steps = -1;  // stop (after saving a snapshot) once this many steps are done; -1 = run to the end
};

// Data-parallel over `world` (docs/distributed.md): every rank is called with the same data, options and
// control; options.batch is the global batch (each rank computes batch / ranks of every phase, a UserError
// when it does not divide); rank 0 alone writes the run folder.
GanTrainResult train_gan(const std::vector<Sample>& data, const GanTrainOptions& options,
                         const std::filesystem::path& run_dir, const torch::Device& device,
                         const GanRunControl& control = {}, const ProgressFn& progress = {},
                         const Collective& world = Collective());

// The recipe train_gan will run with these options and control in run_dir: the checkpoint's when it resumes (only
// its length may grow, to options.kimg), the given options for a fresh run. UserError as train_gan's for a
// resume_from that names nothing, or a fresh run in a folder that holds one.
GanTrainOptions gan_recipe_to_run(const GanTrainOptions& options, const std::filesystem::path& run_dir,
                                  const GanRunControl& control);

// "snapshot-000004.000.pt" style names: kimg with three decimals, so fractional runs sort and stay unique.
std::string kimg_label(double kimg);

}  // namespace vg
