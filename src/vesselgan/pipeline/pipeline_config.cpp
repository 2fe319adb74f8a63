#include "vesselgan/pipeline/pipeline_config.h"

#include <algorithm>

#include "vesselgan/core/json_fields.h"

namespace vg {

namespace {

const char* short_order(const std::string& order) {
  if (order == "synthetic-then-real") return "syn-real";
  if (order == "real-then-synthetic") return "real-syn";
  return "mixed";
}

}  // namespace

std::string RetrainVariant::cell() const {
  return std::string(short_order(order)) + (augment ? "_aug" : "_noaug") + "_n" + std::to_string(n_synthetic);
}

std::string RetrainVariant::name() const { return cell() + "_s" + std::to_string(seed); }

void to_json(nlohmann::json& j, const PipelineConfig& c) {
  j = {{"data", c.data},
       {"layout", c.layout},
       {"phantom_train", c.phantom_train},
       {"phantom_test", c.phantom_test},
       {"phantom_size", c.phantom_size},
       {"eval_split", c.eval_split},
       {"seg", c.seg},
       {"synthetic_epochs", c.synthetic_epochs},
       {"mixed_real_fraction", c.mixed_real_fraction},
       {"init", c.init},
       {"gan", c.gan},
       {"gan_model", c.gan_model},
       {"truncation", c.truncation},
       {"generate_seed", c.generate_seed},
       {"labels", c.labels},
       {"pseudo_label", c.pseudo_label},
       {"orders", c.orders},
       {"augment", c.augment},
       {"n_synthetic", c.n_synthetic},
       {"seeds", c.seeds},
       {"iterations", c.iterations},
       {"ensemble", c.ensemble},
       {"choose_weights", c.choose_weights}};
}

void from_json(const nlohmann::json& j, PipelineConfig& c) {
  merge_section(j, "seg", c.seg);
  merge_section(j, "gan", c.gan);
  merge_section(j, "pseudo_label", c.pseudo_label);
  merge_section(j, "ensemble", c.ensemble);
  nlohmann::json seg, gan, pl, ens;  // consumed above; declared so finish() accepts the keys
  JsonFields(j, "pipeline")
      .get("data", c.data)
      .get("layout", c.layout)
      .get("phantom_train", c.phantom_train)
      .get("phantom_test", c.phantom_test)
      .get("phantom_size", c.phantom_size)
      .get("eval_split", c.eval_split)
      .get("seg", seg)
      .get("synthetic_epochs", c.synthetic_epochs)
      .get("mixed_real_fraction", c.mixed_real_fraction)
      .get("init", c.init)
      .get("gan", gan)
      .get("gan_model", c.gan_model)
      .get("truncation", c.truncation)
      .get("generate_seed", c.generate_seed)
      .get("labels", c.labels)
      .get("pseudo_label", pl)
      .get("orders", c.orders)
      .get("augment", c.augment)
      .get("n_synthetic", c.n_synthetic)
      .get("seeds", c.seeds)
      .get("iterations", c.iterations)
      .get("ensemble", ens)
      .get("choose_weights", c.choose_weights)
      .finish();
}

void validate(const PipelineConfig& c) {
  const std::string w = "pipeline.";
  check_field(c.phantom_train >= 3 && c.phantom_train <= 10000, w + "phantom_train", c.phantom_train,
              "3..10000");
  check_field(c.phantom_test >= 1 && c.phantom_test <= 10000, w + "phantom_test", c.phantom_test, "1..10000");
  check_field(c.phantom_size >= 32 && c.phantom_size <= 4096, w + "phantom_size", c.phantom_size, "32..4096");
  check_field(c.eval_split == "test" || c.eval_split == "train", w + "eval_split", c.eval_split,
              "test, train");
  validate(c.seg);
  check_field(c.seg.val_count >= 1, w + "seg.val_count", c.seg.val_count,
              ">= 1 (validation images choose epochs and ensemble weights)");
  check_field(c.synthetic_epochs >= 0 && c.synthetic_epochs <= 100000, w + "synthetic_epochs",
              c.synthetic_epochs, "0 (the recipe's) .. 100000");
  check_field(c.mixed_real_fraction > 0 && c.mixed_real_fraction < 1, w + "mixed_real_fraction",
              c.mixed_real_fraction, "0 < f < 1");
  check_field(c.init == "scratch" || c.init == "model-a", w + "init", c.init, "scratch, model-a");
  validate(c.gan);
  check_field(c.truncation >= 0 && c.truncation <= 2, w + "truncation", c.truncation, "0..2");
  check_field(c.labels == "model" || c.labels == "gan", w + "labels", c.labels, "model, gan");
  check_field(c.labels != "gan" || is_joint_mode(c.gan) || !c.gan_model.empty(), w + "labels", c.labels,
              "\"gan\" only with gan.mode joint or joint-patch, or a gan_model that draws vessel maps");
  validate(c.pseudo_label);
  check_field(!c.orders.empty(), w + "orders", c.orders,
              "one or more of synthetic-then-real, real-then-synthetic, mixed");
  for (const auto& o : c.orders)
    check_field(o == "synthetic-then-real" || o == "real-then-synthetic" || o == "mixed", w + "orders", o,
                "synthetic-then-real, real-then-synthetic, mixed");
  check_field(!c.augment.empty(), w + "augment", c.augment, "one or more of true, false");
  check_field(!c.n_synthetic.empty(), w + "n_synthetic", c.n_synthetic, "one or more counts >= 1");
  for (auto n : c.n_synthetic) check_field(n >= 1 && n <= 1000000, w + "n_synthetic", n, "1..1000000");
  check_field(!c.seeds.empty(), w + "seeds", c.seeds, "one or more seeds (3 or more for mean +- std)");
  check_field(c.iterations >= 1 && c.iterations <= 10, w + "iterations", c.iterations, "1..10");
  check_field(c.labels == "model" || c.iterations == 1, w + "iterations", c.iterations,
              "1 with labels \"gan\" (iterating relabels with the newest model)");
  EnsembleOptions ens = c.ensemble;  // weights chosen on validation are filled in at run time
  if (ens.method == "weighted" && c.choose_weights) ens.weights = {0.5, 0.5};
  validate(ens);
  check_field(c.ensemble.method != "weighted" || c.choose_weights || c.ensemble.weights.size() == 2,
              w + "ensemble.weights", c.ensemble.weights,
              "two weights (model A, retrained) for method weighted, or choose_weights true");
}

std::vector<RetrainVariant> expand_grid(const PipelineConfig& c) {
  std::vector<RetrainVariant> out;
  for (const auto& order : c.orders)
    for (bool aug : c.augment)
      for (auto n : c.n_synthetic)
        for (auto seed : c.seeds) out.push_back(RetrainVariant{order, aug, n, seed});
  return out;
}

int64_t max_synthetic(const PipelineConfig& c) {
  return *std::max_element(c.n_synthetic.begin(), c.n_synthetic.end());
}

PipelineConfig pipeline_preset(const std::string& name) {
  PipelineConfig c;
  c.ensemble.method = "weighted";
  c.choose_weights = true;
  if (name == "quick") {
    c.phantom_train = 16;
    c.phantom_test = 6;
    c.phantom_size = 64;
    c.seg = train_preset("quick");
    c.seg.schedule = {{24, 3e-3}, {6, 1e-3}};  // validation F1 ~0.7 on these phantoms
    c.seg.val_count = 3;
    c.synthetic_epochs = 8;
    c.gan = gan_preset("toy64");  // the phantoms' size: synthetic vessels at the real scale
    c.gan.kimg = 1;
    c.gan.tick_kimg = 0.25;
    c.gan.snapshot_kimg = 0.5;
    c.gan.grid_size = 4;
    c.pseudo_label.tta = false;
    c.n_synthetic = {24};
    c.orders = {"synthetic-then-real", "mixed"};
    c.seeds = {0, 1, 2};
  } else if (name == "drive-cpu") {
    c.data = "";  // --data ../shared/data/DRIVE
    c.seg = train_preset("drive");
    // Half resolution, ~4x cheaper per epoch. The drive recipe's 592 canvas would undo the saving; 288 is
    // already a multiple of 16.
    c.seg.input.resize = 288;
    c.seg.input.pad_to = 0;
    c.seg.schedule = {{40, 1e-3}, {10, 1e-4}};
    c.synthetic_epochs = 10;
    c.gan = gan_preset("toy64");
    c.gan.kimg = 40;
    c.n_synthetic = {50, 200};
    c.orders = {"synthetic-then-real", "real-then-synthetic", "mixed"};
    c.augment = {true, false};
  } else if (name == "drive-gpu") {
    c.seg = train_preset("drive");
    c.synthetic_epochs = 50;
    c.gan = gan_preset("full512");
    c.gan.kimg = 2000;
    c.n_synthetic = {50, 200, 500, 1000};
    c.orders = {"synthetic-then-real", "real-then-synthetic", "mixed"};
    c.augment = {true, false};
  } else {
    std::string valid;
    for (const auto& n : pipeline_preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw UserError("unknown pipeline preset '" + name + "' (valid: " + valid + ")");
  }
  return c;
}

std::vector<std::string> pipeline_preset_names() { return {"quick", "drive-cpu", "drive-gpu"}; }

}  // namespace vg
