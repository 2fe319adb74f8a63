// Everything that defines a synthetic-data pipeline run (docs/pipeline.md): the data, model A's recipe, the
// GAN, generation, pseudo-labelling, the retraining grid (curriculum order x synthetic augmentation x N x
// seed), ensembling and evaluation. One plain struct that round-trips through JSON (the run's config.json);
// presets give the starting point and a config file overrides any field.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/gan/gan_options.h"
#include "vesselgan/seg/ensemble.h"
#include "vesselgan/seg/pseudo_label.h"
#include "vesselgan/seg/train_options.h"

namespace vg {

// One retraining run of the grid.
struct RetrainVariant {
  std::string order;    // "synthetic-then-real", "real-then-synthetic" or "mixed"
  bool augment = true;  // online augmentation of the synthetic images
  int64_t n_synthetic = 0;
  uint64_t seed = 0;
  std::string name() const;  // "syn-real_aug_n50_s0": a folder name and a report row
  std::string cell() const;  // the same without the seed: the rows averaged over seeds
};

struct PipelineConfig {
  // Data. "" = a phantom data set written into the run folder (data/phantom.h), so the pipeline needs
  // nothing.
  std::string data;
  std::string layout = "auto";
  int64_t phantom_train = 16, phantom_test = 8, phantom_size = 64;
  std::string eval_split = "test";

  // Model A (the baseline, trained on the real images) and the recipe of every retraining phase. Its
  // val_count images are held out of the training split (seeded) for every choice: epochs, ensemble weights.
  TrainOptions seg;
  int64_t synthetic_epochs =
      0;  // epochs of a synthetic phase (0 = the recipe's total); mixed runs use the recipe
  double mixed_real_fraction = 0.5;  // mixed: the share of real images in an epoch (real images are repeated)
  std::string init = "scratch";      // retraining starts from "scratch" or from "model-a"

  GanTrainOptions gan;
  // A trained generator to sample instead of training `gan`: a generator file or GAN run folder, or "shipped"
  // (models/generator-drive.pt, which draws its labels). "" = train `gan` in the "gan" stage.
  std::string gan_model;
  double truncation = 0.7;
  uint64_t generate_seed = 0;
  // Labels of the synthetic images: "model" = pseudo-labels by model A, "gan" = the generator's own vessel
  // maps (gan.mode joint or joint-patch, or a gan_model that draws labels).
  std::string labels = "model";
  PseudoLabelOptions pseudo_label;

  // The grid: every combination is a retraining run; model A is trained once per seed (the baseline rows).
  std::vector<std::string> orders{"synthetic-then-real"};
  std::vector<bool> augment{true};
  std::vector<int64_t> n_synthetic{50};
  std::vector<uint64_t> seeds{0, 1, 2};
  int64_t iterations =
      1;  // > 1: regenerate labels with the newest model and retrain again (the "iterate" stage)

  EnsembleOptions ensemble;    // ensemble of model A and each retrained model (same seed)
  bool choose_weights = true;  // "weighted": weights chosen on the validation images
};

void to_json(nlohmann::json& j, const PipelineConfig& c);
void from_json(const nlohmann::json& j, PipelineConfig& c);  // absent keys keep their current values
void validate(const PipelineConfig& c);

// Every retraining run of the grid, seed innermost.
std::vector<RetrainVariant> expand_grid(const PipelineConfig& c);
int64_t max_synthetic(const PipelineConfig& c);

// "quick": phantoms, a toy GAN and short schedules, every stage, minutes on 2 CPU cores.
// "drive-cpu": DRIVE at reduced resolution and epochs for a 2-core machine (hours).
// "drive-gpu": the original method's settings (full 512 GAN, 1000 images, the 150-epoch recipe).
PipelineConfig pipeline_preset(const std::string& name);
std::vector<std::string> pipeline_preset_names();

}  // namespace vg
