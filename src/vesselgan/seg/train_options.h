// Everything that defines an SA-UNet training run, as one plain struct that round-trips through JSON
// (the run folder's config.json). Named presets give the starting point; a config file and flags override.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "vesselgan/data/augment.h"
#include "vesselgan/seg/distill.h"
#include "vesselgan/seg/losses.h"
#include "vesselgan/seg/model_input.h"
#include "vesselgan/seg/patch_sampler.h"
#include "vesselgan/seg/pixel_contrast.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg {

// A stage of the learning-rate schedule: `epochs` epochs at `lr`, or, when end_lr > 0, a cosine annealing from lr
// at the stage's first epoch down to end_lr after its last one (one cycle of a cyclical schedule such as lwnet's,
// Galdran et al. 2022; list the stage again for another cycle). The lr is set once per epoch.
struct ScheduleStage {
  int64_t epochs = 0;
  double lr = 0;
  double end_lr = 0;  // 0 = constant lr; else 0 < end_lr < lr. Absent from the JSON when 0.
};

struct TrainOptions {
  SAUNetOptions model;
  LossOptions loss;
  // With input.enhance on, augment.degrade acts on each photograph before its enhancement, the rest of augment on
  // the enhanced canvas (degrades_before_enhancing below).
  AugmentOptions augment;
  InputOptions input;
  PatchOptions patch;  // size > 0: train on random crops (seg/patch_sampler.h); validation stays whole-image
  // The SA-UNet reference schedule (Guo et al. 2020): Adam, lr 1e-3 for 100 epochs, then 1e-4 for 50.
  std::vector<ScheduleStage> schedule{{100, 1e-3}, {50, 1e-4}};
  int64_t batch_size = 2;
  int64_t val_count = 2;        // images held out of the training set for validation / model selection
  std::string select = "f1";    // best checkpoint by validation "f1", "auc" or "loss"
  double weight_decay = 0;
  uint64_t seed = 42;
  // Seed of the train/validation split; negative = `seed`. Runs that differ in `seed` but share this hold out
  // the same validation images, so their models can be compared and ensembled on them.
  int64_t split_seed = -1;
  bool bf16 = true;             // CUDA only: bf16 autocast for the forward pass
  bool channels_last = true;    // CUDA only
  // A "sa-unet" checkpoint whose weights start the run (fine-tuning, curricula); "" = random initialization.
  // Its model options must equal `model`. Not used when a run resumes (its own last.pt wins).
  std::string init_from;
  // A teacher whose clean-photograph probabilities are blended into the training targets (seg/distill.h).
  DistillOptions distill;
  // Stochastic weight averaging (seg/weight_average.h): from this epoch on (1-based) the run averages the weights
  // of every epoch's end and writes the average, with batch-norm statistics measured on the training photographs,
  // to checkpoints/swa.pt after each epoch; 0 = off.
  int64_t swa_start = 0;
  // A pixel-level contrastive term beside the loss (seg/pixel_contrast.h, after SkelCon); weight 0 = off. Absent from
  // the JSON when off.
  PixelContrastOptions contrast;
};

void to_json(nlohmann::json& j, const ScheduleStage& s);
void from_json(const nlohmann::json& j, ScheduleStage& s);
void to_json(nlohmann::json& j, const TrainOptions& o);
void from_json(const nlohmann::json& j, TrainOptions& o);  // fields absent from j keep their current values
void validate(const TrainOptions& o);

// Whether training degrades each photograph before its enhancement (input.enhance on and augment.degrade
// active), as a camera's noise or JPEG reaches the photograph that the enhancement sees at prediction time
// (CLAHE amplifies both); each epoch then re-makes the batch's canvases from its degraded photographs.
// Whole-photograph training only: validate() refuses it with patches, which are cut from enhanced photographs.
bool degrades_before_enhancing(const TrainOptions& o);
// Whether each batch's canvases are made again from its photographs: they are degraded before their enhancement
// (above), or their enhancement is drawn at random (augment.enhance_jitter, data/enhance_jitter.h, which
// validate() accepts only with input.enhance on and whole photographs).
bool enhances_per_batch(const TrainOptions& o);

int64_t total_epochs(const TrainOptions& o);
uint64_t effective_split_seed(const TrainOptions& o);  // split_seed, or seed when split_seed < 0
double lr_at_epoch(const TrainOptions& o, int64_t epoch);  // epoch counted from 0
// Scales every rate of the schedule (each stage's lr and end_lr) by one factor, so that it starts at first_lr.
void scale_schedule(TrainOptions& o, double first_lr);

// Presets: "drive" (the reference recipe at 592x592), "quick" (phantom demo: small and fast on a CPU).
TrainOptions train_preset(const std::string& name);
std::vector<std::string> train_preset_names();

}  // namespace vg
