// Retraining SA-UNet on real + synthetic images in a chosen order (a curriculum):
//   synthetic-then-real  phase 1 on the synthetic images, phase 2 on the real ones starting from phase 1's
//                        best weights (the original method's recommended order: real data last);
//   real-then-synthetic  the reverse;
//   mixed                one run on the union, the real images repeated so they are `mixed_real_fraction` of
//                        an epoch (in patch training the epoch keeps the recipe's crop count, so the real
//                        images get fewer crops than in model A);
//   mixed-added          the same union, with the synthetic images on top of model A's real schedule: patch
//                        training draws per_epoch / mixed_real_fraction crops (as many real crops as model
//                        A, the rest synthetic); whole-image training repeats nothing (each real image once
//                        per epoch, as in model A, plus every synthetic one);
//   synthetic-only       one synthetic phase and no real image (does synthetic data alone teach the task?).
// Every phase selects its best epoch on the same validation images (held out of the real training split).
// The synthetic phase runs `synthetic_epochs` at the recipe's first learning rate, with online augmentation
// on or off (RetrainVariant::augment); real phases use the recipe as it is. In mixed runs the augment switch
// applies to the whole mixed set. Phase 1 starts from scratch, from model A, or from the network model A
// started from (PipelineConfig::init).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/dist/collective.h"
#include "vesselgan/pipeline/pipeline_config.h"

namespace vg {

struct CurriculumResult {
  std::filesystem::path best;  // the final phase's best checkpoint
  double best_score = 0;       // its validation score
  std::vector<std::filesystem::path> phases;
};

// Model A's recipe for one seed: the pipeline's, from scratch unless init is "given".
TrainOptions baseline_options(const PipelineConfig& c, uint64_t seed);

// The checkpoint phase 1 of a retrained model starts from (empty: from scratch).
std::filesystem::path first_phase_init(const PipelineConfig& c, const std::filesystem::path& model_a);

// The recipe of one phase ("real", "synthetic" or "mixed") of variant v.
TrainOptions phase_options(const PipelineConfig& c, const RetrainVariant& v, const std::string& phase);

// The training set of a mixed phase (orders "mixed" and "mixed-added"): the synthetic images, then the real
// ones, repeated as the order says.
std::vector<Sample> mixed_set(const PipelineConfig& c, const RetrainVariant& v, const std::vector<Sample>& real,
                              const std::vector<Sample>& synthetic);

// Trains variant v in `dir` (phase folders dir/1-<phase>, dir/2-<phase>), resuming whatever a killed run
// left. synthetic: at least v.n_synthetic labelled images; the first n (in order) are used.
CurriculumResult train_curriculum(const PipelineConfig& c, const RetrainVariant& v,
                                  const std::vector<Sample>& real, const std::vector<Sample>& val,
                                  const std::vector<Sample>& synthetic, const std::filesystem::path& model_a,
                                  const std::filesystem::path& dir, const torch::Device& device,
                                  const ProgressFn& progress = {}, const Collective& world = Collective());

}  // namespace vg
