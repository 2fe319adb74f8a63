// Everything that defines a synthetic-data pipeline run (docs/pipeline.md): the data, model A's recipe, the
// GAN, generation, pseudo-labelling, the retraining grid (curriculum order x synthetic augmentation x N x
// seed), ensembling and evaluation. One plain struct that round-trips through JSON (the run's config.json);
// presets give the starting point and a config file overrides any field.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/gan/appearance.h"
#include "vesselgan/gan/gan_options.h"
#include "vesselgan/gan/painter.h"
#include "vesselgan/gan/procedural_maps.h"
#include "vesselgan/seg/ensemble.h"
#include "vesselgan/seg/pseudo_label.h"
#include "vesselgan/seg/train_options.h"

namespace vg {

// One retraining run of the grid.
struct RetrainVariant {
  // "synthetic-then-real", "real-then-synthetic", "mixed", "mixed-added" (mixed, with the synthetic images
  // on top of model A's real schedule), or "synthetic-only" (no real image trains; the real validation
  // images still choose the epoch)
  std::string order;
  bool augment = true;  // online augmentation of the synthetic images
  int64_t n_synthetic = 0;
  uint64_t seed = 0;
  std::string labels = "model";  // "model" (pseudo-labels), "gan" (the generator's own) or "self"
  // "syn-real_aug_n50_s0" ("..._n50_gan_s0" for gan labels, "mixed_aug_self_s0" for self-training, whose
  // n_synthetic is 0: every unlabelled photograph): a folder name and a report row
  std::string name() const;
  std::string cell() const;  // the same without the seed: the rows averaged over seeds
};

struct PipelineConfig {
  // Data. "" = a phantom data set written into the run folder (data/phantom.h), so the pipeline needs
  // nothing.
  std::string data;
  std::string layout = "auto";
  int64_t phantom_train = 16, phantom_test = 8, phantom_size = 64;
  std::string eval_split = "test";
  // The few-label regime: this many training photographs (chosen seeded, after validation is held out) keep
  // their labels; model A and the generator learn from them alone, and the others are unlabelled photographs
  // for the "self" label route. 0 = every training photograph is labelled.
  int64_t labelled = 0;

  // Model A (the baseline, trained on the real images) and the recipe of every retraining phase. Its
  // val_count images are held out of the training split (seeded) for every choice: epochs, ensemble weights.
  TrainOptions seg;
  int64_t synthetic_epochs =
      0;  // epochs of a synthetic phase (0 = the recipe's total); mixed runs use the recipe
  double mixed_real_fraction = 0.5;  // mixed: the share of real images in an epoch (real images are repeated)
  // Where training starts: "scratch"; "model-a" (retraining starts from model A, model A from scratch); or
  // "given" (model A and retraining both start from seg.init_from: a warm restart of one trained network, so
  // the arms differ only in what they train on after it).
  std::string init = "scratch";

  // How the "gan" stage makes the generator (when gan_model is ""): "stylegan2" trains `gan`; "painter" is
  // the label-first route: a painter (gan/painter.h) trained on the real images with `painter` paints
  // procedural vessel maps (`maps`, gan/procedural_maps.h) of painter.resolution px, so every synthetic
  // image comes with the vessel map it depicts.
  std::string gan_route = "stylegan2";
  GanTrainOptions gan;
  PainterOptions painter;
  ProceduralMapOptions maps;
  // A trained generator to sample instead of training `gan`: a generator file or GAN run folder, or "shipped"
  // (models/generator-drive.pt, which draws its labels). "" = train `gan` in the "gan" stage.
  std::string gan_model;
  // A generator file or GAN run checkpoint whose networks start `gan` (transfer learning, fine-tuning): its
  // mode, resolution and architecture replace gan's (gan_models.h with_networks_of). "" = from nothing.
  // Ignored when gan_model is given.
  std::string gan_init;
  double truncation = 0.7;
  uint64_t generate_seed = 0;
  // What the generator makes: "patches" (its own resolution), or "whole" photographs of the first real training
  // photograph's size (gan/whole_photograph.h: a procedural whole tree painted by a label-first generator's
  // painter, with its exact label and FOV), so the curricula train on whole synthetic photographs.
  std::string synthetic = "patches";
  AppearanceOptions appearance;  // whole photographs: appearance.wide varies each one (gan/appearance.h)
  // Labels of the synthetic images, a grid axis: "model" = pseudo-labels by model A, "gan" = the generator's
  // own vessel maps (gan.mode joint or joint-patch, gan_route painter, or a gan_model that draws labels),
  // "self" = no synthetic image: the unlabelled real photographs (labelled > 0) pseudo-labelled by model A,
  // the self-training control. JSON: one route as a string ("gan") or several as a list (["model", "gan"]).
  std::vector<std::string> labels{"model"};
  PseudoLabelOptions pseudo_label;
  // The guard against degenerate synthetic sets (pipeline/synthetic_guard.h), checked before retraining:
  // the synthetic labels' mean vessel fraction must lie in the real labels' range (unless this is false),
  // and labels drawn by the generator must agree with model A's reading of their images to this F1 (0 = off).
  bool guard_vessel_fraction = true;
  double min_label_f1 = 0.5;

  // The grid: every combination is a retraining run; model A is trained once per seed (the baseline rows).
  std::vector<std::string> orders{"synthetic-then-real"};
  std::vector<bool> augment{true};
  std::vector<int64_t> n_synthetic{50};
  std::vector<uint64_t> seeds{0, 1, 2};
  // Cells of the grid to leave out (RetrainVariant::cell names, e.g. "syn-only_aug_n1000"), when the full
  // product holds cells a question does not need.
  std::vector<std::string> exclude;
  int64_t iterations =
      1;  // > 1: regenerate labels with the newest model and retrain again (the "iterate" stage)

  EnsembleOptions ensemble;    // ensemble of model A and each retrained model (same seed)
  bool choose_weights = true;  // "weighted": weights chosen on the validation images
};

void to_json(nlohmann::json& j, const PipelineConfig& c);
void from_json(const nlohmann::json& j, PipelineConfig& c);  // absent keys keep their current values
void validate(const PipelineConfig& c);

bool has_labels(const PipelineConfig& c, const std::string& route);  // route is one of c.labels

// Every retraining run of the grid (labels outermost), seed innermost.
std::vector<RetrainVariant> expand_grid(const PipelineConfig& c);
int64_t max_synthetic(const PipelineConfig& c);

// "quick": phantoms, a painter on procedural vessel maps (the label-first route) and short schedules, every
// stage, minutes on 2 CPU cores.
// "drive-cpu": DRIVE at reduced resolution and epochs for a 2-core machine (hours).
// "drive-gpu": the original method's settings (full 512 GAN, 1000 images, the 150-epoch recipe).
PipelineConfig pipeline_preset(const std::string& name);
std::vector<std::string> pipeline_preset_names();

}  // namespace vg
