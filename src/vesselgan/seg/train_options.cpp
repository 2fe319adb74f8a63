#include "vesselgan/seg/train_options.h"

#include <cmath>

#include "vesselgan/core/option_fields.h"

namespace vg {

namespace {

const auto kStageFields = [](auto& s, auto&& field) {
  field("epochs", s.epochs, at_least(1, ">= 1"));
  field("lr", s.lr, rule([](double lr) { return lr > 0 && lr < 10; }, "0 < lr < 10"));
  field("end_lr", s.end_lr, at_least(0.0, ">= 0 (0 = constant lr)"));
};

const auto kTrainFields = [](auto& o, auto&& field) {
  field("model", o.model, section);
  field("loss", o.loss, section);
  field("augment", o.augment, section);
  field("input", o.input, section);
  field("patch", o.patch, section);
  field("schedule", o.schedule);  // each stage checked in validate
  field("batch_size", o.batch_size, within(1, 4096, "1..4096"));
  field("val_count", o.val_count, at_least(0, ">= 0"));
  field("select", o.select, one_of({"f1", "auc", "loss"}));
  field("weight_decay", o.weight_decay, at_least(0, ">= 0"));
  field("seed", o.seed);
  field("split_seed", o.split_seed);
  field("bf16", o.bf16);
  field("channels_last", o.channels_last);
  field("init_from", o.init_from);
  field("distill", o.distill, section);
  field("swa_start", o.swa_start, at_least(0, ">= 0 (0 = off)"));
  field("contrast", o.contrast, section);
};

}  // namespace

// A constant stage is written as before end_lr existed, so recipes (and the pipeline's stage keys) keep their keys.
void to_json(nlohmann::json& j, const ScheduleStage& s) {
  j = fields_to_json(s, kStageFields);
  if (s.end_lr == 0) j.erase("end_lr");
}
void from_json(const nlohmann::json& j, ScheduleStage& s) { fields_from_json(j, "train.schedule[]", s, kStageFields); }

// Without a teacher or weight averaging the recipe is written as before they existed, so the pipeline's stage keys
// (which hold the recipe) of earlier runs still match and their trained models are reused.
void to_json(nlohmann::json& j, const TrainOptions& o) {
  j = fields_to_json(o, kTrainFields);
  if (o.distill.teacher.empty()) j.erase("distill");
  if (o.swa_start == 0) j.erase("swa_start");
  if (!active(o.contrast)) j.erase("contrast");
}
void from_json(const nlohmann::json& j, TrainOptions& o) { fields_from_json(j, "train", o, kTrainFields); }

void validate(const TrainOptions& o) {
  validate_fields("train", o, kTrainFields);
  const int64_t multiple = int64_t{1} << o.model.depth;
  check_field(o.patch.size % multiple == 0, "train.patch.size", o.patch.size,
              "0 or a multiple of 2^model.depth = " + std::to_string(multiple));
  check_field(o.patch.size == 0 || !degrades_before_enhancing(o),
              "train.augment.degrade.p", o.augment.degrade.p,
              "0 when input.enhance is on and patch.size > 0 (the degradations reach the photograph before its "
              "enhancement, which whole-photograph training alone does)");
  const EnhanceJitterOptions& jitter = o.augment.enhance_jitter;
  check_field(!active(jitter) || o.input.enhance != "none", "train.input.enhance", o.input.enhance,
              "an enhancement (\"green-clahe\") when augment.enhance_jitter is on: it draws that enhancement's clip "
              "limit and gamma");
  check_field(!active(jitter) || o.patch.size == 0, "train.patch.size", o.patch.size,
              "0 when augment.enhance_jitter is on (patches are cut from photographs enhanced once)");
  check_field(!o.schedule.empty(), "train.schedule", o.schedule.size(), "at least one {epochs, lr} stage");
  for (const auto& s : o.schedule) {
    validate_fields("train.schedule[]", s, kStageFields);
    check_field(s.end_lr < s.lr, "train.schedule[].end_lr", s.end_lr,
                "0 (constant lr) or below the stage's lr");
  }
  check_field(!active(o.contrast) || o.model.refiner_channels == 0, "train.contrast.weight", o.contrast.weight,
              "0 for a cascade (model.refiner_channels > 0): the term reads one network's last features");
  check_field(o.swa_start <= total_epochs(o), "train.swa_start", o.swa_start,
              "0 (off) or an epoch of the schedule, 1.." + std::to_string(total_epochs(o)));
}

namespace {

// Augmentation on and an enhanced input: where the steps before the enhancement can act at all.
bool augments_an_enhanced_input(const TrainOptions& o) { return o.augment.enabled && o.input.enhance != "none"; }

}  // namespace

bool degrades_before_enhancing(const TrainOptions& o) {
  return augments_an_enhanced_input(o) && active(o.augment.degrade);
}

bool enhances_per_batch(const TrainOptions& o) {
  return augments_an_enhanced_input(o) && (active(o.augment.degrade) || active(o.augment.enhance_jitter));
}

int64_t total_epochs(const TrainOptions& o) {
  int64_t n = 0;
  for (const auto& s : o.schedule) n += s.epochs;
  return n;
}

uint64_t effective_split_seed(const TrainOptions& o) {
  return o.split_seed < 0 ? o.seed : static_cast<uint64_t>(o.split_seed);
}

double lr_at_epoch(const TrainOptions& o, int64_t epoch) {
  for (const auto& s : o.schedule) {
    if (epoch < s.epochs) {
      if (s.end_lr == 0) return s.lr;
      const double progress = static_cast<double>(epoch) / static_cast<double>(s.epochs);
      return s.end_lr + (s.lr - s.end_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    epoch -= s.epochs;
  }
  return o.schedule.back().lr;
}

void scale_schedule(TrainOptions& o, double first_lr) {
  const double factor = first_lr / o.schedule.front().lr;
  for (auto& s : o.schedule) {
    s.lr *= factor;
    s.end_lr *= factor;
  }
}

TrainOptions train_preset(const std::string& name) {
  TrainOptions o;
  if (name == "drive") {
    o.input.pad_to = 592;  // DRIVE 565x584 -> 592x592, as the reference
    return o;
  }
  if (name == "quick") {  // phantom demo on a CPU: small images, short schedule
    o.schedule = {{12, 3e-3}, {4, 1e-3}};
    o.batch_size = 4;
    o.val_count = 3;
    o.model.keep_prob = 0.9;  // small images: drop less
    o.model.block_size = 5;
    return o;
  }
  std::string valid;
  for (const auto& n : train_preset_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw UserError("unknown training preset '" + name + "' (valid: " + valid + ")");
}

std::vector<std::string> train_preset_names() { return {"drive", "quick"}; }

}  // namespace vg
