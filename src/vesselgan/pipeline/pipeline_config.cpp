#include "vesselgan/pipeline/pipeline_config.h"

#include <algorithm>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/phantom.h"

namespace vg {

namespace {

const char* short_order(const std::string& order) {
  if (order == "synthetic-then-real") return "syn-real";
  if (order == "real-then-synthetic") return "real-syn";
  if (order == "synthetic-only") return "syn-only";
  if (order == "mixed-added") return "mixadd";
  return "mixed";
}

}  // namespace

std::string RetrainVariant::cell() const {
  const std::string base = std::string(short_order(order)) + (augment ? "_aug" : "_noaug");
  if (labels == "self") return base + "_self";
  return base + "_n" + std::to_string(n_synthetic) + (labels == "gan" ? "_gan" : "");
}

bool has_labels(const PipelineConfig& c, const std::string& route) {
  return std::find(c.labels.begin(), c.labels.end(), route) != c.labels.end();
}

std::string RetrainVariant::name() const { return cell() + "_s" + std::to_string(seed); }

namespace {

const auto kPipelineFields = [](auto& c, auto&& field) {
  field("data", c.data);
  field("layout", c.layout);
  field("phantom_train", c.phantom_train, within(3, 10000, "3..10000"));
  field("phantom_test", c.phantom_test, within(1, 10000, "1..10000"));
  field("phantom_size", c.phantom_size, within(32, 4096, "32..4096"));
  field("eval_split", c.eval_split, one_of({"test", "train"}));
  field("labelled", c.labelled, within(0, 100000, "0 (all) or a count of photographs"));
  field("seg", c.seg, section);
  field("synthetic_epochs", c.synthetic_epochs, within(0, 100000, "0 (the recipe's) .. 100000"));
  field("mixed_real_fraction", c.mixed_real_fraction, rule([](double f) { return f > 0 && f < 1; }, "0 < f < 1"));
  field("init", c.init, one_of({"scratch", "model-a", "given"}));
  field("gan_route", c.gan_route, one_of({"stylegan2", "painter"}));
  field("gan", c.gan, section);
  field("painter", c.painter, section);
  field("maps", c.maps, section);
  field("gan_model", c.gan_model);
  field("gan_init", c.gan_init);
  field("truncation", c.truncation, within(0, 2, "0..2"));
  field("generate_seed", c.generate_seed);
  field("synthetic", c.synthetic, one_of({"patches", "whole"}));
  field("appearance", c.appearance, section);
  field("labels", c.labels);  // a single string is read as a list of one (from_json); checked in validate
  field("pseudo_label", c.pseudo_label, section);
  field("guard_vessel_fraction", c.guard_vessel_fraction);
  field("min_label_f1", c.min_label_f1, within(0, 1, "0 (off) .. 1"));
  field("orders", c.orders);  // the lists are checked element by element in validate
  field("augment", c.augment);
  field("n_synthetic", c.n_synthetic);
  field("seeds", c.seeds);
  field("exclude", c.exclude);
  field("iterations", c.iterations, within(1, 10, "1..10"));
  field("ensemble", c.ensemble, section_checked_apart);  // validated with the weights chosen at run time
  field("choose_weights", c.choose_weights);
};

}  // namespace

void to_json(nlohmann::json& j, const PipelineConfig& c) { j = fields_to_json(c, kPipelineFields); }

void from_json(const nlohmann::json& j, PipelineConfig& c) {
  auto it = j.is_object() ? j.find("labels") : j.end();
  if (it == j.end()) return fields_from_json(j, "pipeline", c, kPipelineFields);
  // Older configs name one route as a string.
  const nlohmann::json labels = it->is_string() ? nlohmann::json::array({*it}) : *it;
  if (!labels.is_array() || !std::all_of(labels.begin(), labels.end(), [](const auto& v) { return v.is_string(); }))
    throw UserError("pipeline.labels = " + it->dump() + " is not valid (valid: \"model\", \"gan\", or a list of them)");
  nlohmann::json patched = j;
  patched["labels"] = labels;
  fields_from_json(patched, "pipeline", c, kPipelineFields);
}

void validate(const PipelineConfig& c) {
  const std::string w = "pipeline.";
  validate_fields("pipeline", c, kPipelineFields);
  check_field(c.seg.val_count >= 1, w + "seg.val_count", c.seg.val_count,
              ">= 1 (validation images choose epochs and ensemble weights)");
  check_field(c.init != "given" || !c.seg.init_from.empty(), w + "init", c.init,
              "\"scratch\" or \"model-a\" (\"given\" needs seg.init_from: the network both arms start from)");
  check_field(!c.labels.empty(), w + "labels", c.labels, "one or more of model, gan");
  for (const auto& l : c.labels) {
    check_field(l == "model" || l == "gan" || l == "self", w + "labels", l, "model, gan, self");
    check_field(l != "self" || c.labelled > 0, w + "labels", l,
                "model, gan (\"self\" needs labelled > 0: unlabelled photographs to self-train on)");
    check_field(std::count(c.labels.begin(), c.labels.end(), l) == 1, w + "labels", c.labels, "each route once");
  }
  check_field(!has_labels(c, "gan") || is_joint_mode(c.gan) || c.gan_route == "painter" || !c.gan_model.empty() ||
                  !c.gan_init.empty(),
              w + "labels", c.labels,
              "\"gan\" only with gan.mode joint or joint-patch, gan_route painter, or a gan_model that draws "
              "vessel maps");
  check_field(!c.appearance.wide || c.synthetic == "whole", w + "appearance.wide", c.appearance.wide,
              "false unless synthetic is \"whole\" (it varies whole photographs)");
  check_field(c.synthetic != "whole" || c.gan_route == "painter" || !c.gan_model.empty(), w + "synthetic",
              c.synthetic, "\"patches\", or \"whole\" with gan_route painter or a label-first gan_model (whole "
              "photographs need a painter)");
  check_field(!c.orders.empty(), w + "orders", c.orders,
              "one or more of synthetic-then-real, real-then-synthetic, mixed, mixed-added, synthetic-only");
  for (const auto& o : c.orders)
    check_field(o == "synthetic-then-real" || o == "real-then-synthetic" || o == "mixed" || o == "mixed-added" ||
                    o == "synthetic-only",
                w + "orders", o, "synthetic-then-real, real-then-synthetic, mixed, mixed-added, synthetic-only");
  check_field(!c.augment.empty(), w + "augment", c.augment, "one or more of true, false");
  check_field(!c.n_synthetic.empty(), w + "n_synthetic", c.n_synthetic, "one or more counts >= 1");
  for (auto n : c.n_synthetic) check_field(n >= 1 && n <= 1000000, w + "n_synthetic", n, "1..1000000");
  check_field(!c.seeds.empty(), w + "seeds", c.seeds, "one or more seeds (3 or more for mean +- std)");
  if (!c.exclude.empty()) {
    PipelineConfig full = c;
    full.exclude.clear();
    std::string cells;
    std::vector<std::string> names;
    for (const auto& v : expand_grid(full))
      if (std::find(names.begin(), names.end(), v.cell()) == names.end()) {
        names.push_back(v.cell());
        cells += (cells.empty() ? "" : ", ") + v.cell();
      }
    for (const auto& x : c.exclude)
      check_field(std::find(names.begin(), names.end(), x) != names.end(), w + "exclude", x, "cells of the grid: " + cells);
    check_field(!expand_grid(c).empty(), w + "exclude", c.exclude, "leaving at least one cell of the grid");
  }
  check_field(!has_labels(c, "gan") || c.iterations == 1, w + "iterations", c.iterations,
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
  for (const auto& labels : c.labels)
    for (const auto& order : c.orders)
      for (bool aug : c.augment)
        for (auto n : labels == "self" ? std::vector<int64_t>{0} : c.n_synthetic)  // self: every photograph
          for (auto seed : c.seeds) {
            RetrainVariant v{order, aug, n, seed, labels};
            if (std::find(c.exclude.begin(), c.exclude.end(), v.cell()) == c.exclude.end()) out.push_back(v);
          }
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
    // The label-first route: a toy StyleGAN2 at the phantoms' 64 px draws no vessels in the minutes this
    // preset has (its pseudo-labels held 0.9% vessel against the real 4.6 to 6.3%), a painter does.
    c.gan_route = "painter";
    c.painter.resolution = 32;
    c.painter.steps = 1500;  // label consistency F1 0.63 with model A; 600 steps gave 0.46
    c.painter.snapshot_every = 500;
    c.painter.log_every = 50;
    c.maps.photo_size = c.phantom_size;  // the phantoms' trees, at the phantoms' scale
    c.maps.vessel_fraction = PhantomOptions{}.vessel_fraction;
    c.pseudo_label.tta = false;
    // The generator's own labels: model A (validation F1 ~0.78) finds about half of the painted vessels, so
    // its pseudo-labels (vessel fraction 0.046) fall below the real range (0.061..0.093) and the guard stops.
    c.labels = {"gan"};
    c.n_synthetic = {24};
    // One curriculum and two seeds: the least that still shows model A, a retrained model, A + it, and the
    // A + A control (issue 31: the main job, build included, within 15 minutes on 2 cores).
    c.orders = {"mixed"};
    c.seeds = {0, 1};
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
