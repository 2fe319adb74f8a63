#include "vesselgan/seg/train_options.h"

#include "vesselgan/core/json_fields.h"

namespace vg {

void to_json(nlohmann::json& j, const ScheduleStage& s) { j = {{"epochs", s.epochs}, {"lr", s.lr}}; }

void from_json(const nlohmann::json& j, ScheduleStage& s) {
  JsonFields(j, "train.schedule[]").get("epochs", s.epochs).get("lr", s.lr).finish();
}

void to_json(nlohmann::json& j, const TrainOptions& o) {
  j = {{"model", o.model},
       {"loss", o.loss},
       {"augment", o.augment},
       {"input", o.input},
       {"patch", o.patch},
       {"schedule", o.schedule},
       {"batch_size", o.batch_size},
       {"val_count", o.val_count},
       {"select", o.select},
       {"weight_decay", o.weight_decay},
       {"seed", o.seed},
       {"split_seed", o.split_seed},
       {"bf16", o.bf16},
       {"channels_last", o.channels_last},
       {"init_from", o.init_from}};
}

void from_json(const nlohmann::json& j, TrainOptions& o) {
  merge_section(j, "model", o.model);
  merge_section(j, "loss", o.loss);
  merge_section(j, "augment", o.augment);
  merge_section(j, "input", o.input);
  merge_section(j, "patch", o.patch);
  nlohmann::json model, loss, augment, input, patch;  // consumed above; declared so finish() accepts the keys
  JsonFields(j, "train")
      .get("model", model)
      .get("loss", loss)
      .get("augment", augment)
      .get("input", input)
      .get("patch", patch)
      .get("schedule", o.schedule)
      .get("batch_size", o.batch_size)
      .get("val_count", o.val_count)
      .get("select", o.select)
      .get("weight_decay", o.weight_decay)
      .get("seed", o.seed)
      .get("split_seed", o.split_seed)
      .get("bf16", o.bf16)
      .get("channels_last", o.channels_last)
      .get("init_from", o.init_from)
      .finish();
}

void validate(const TrainOptions& o) {
  validate(o.model);
  validate(o.loss);
  validate(o.augment);
  validate(o.input);
  validate(o.patch);
  const int64_t multiple = int64_t{1} << o.model.depth;
  check_field(o.patch.size % multiple == 0, "train.patch.size", o.patch.size,
              "0 or a multiple of 2^model.depth = " + std::to_string(multiple));
  check_field(!o.schedule.empty(), "train.schedule", o.schedule.size(), "at least one {epochs, lr} stage");
  for (const auto& s : o.schedule) {
    check_field(s.epochs >= 1, "train.schedule[].epochs", s.epochs, ">= 1");
    check_field(s.lr > 0 && s.lr < 10, "train.schedule[].lr", s.lr, "0 < lr < 10");
  }
  check_field(o.batch_size >= 1 && o.batch_size <= 4096, "train.batch_size", o.batch_size, "1..4096");
  check_field(o.val_count >= 0, "train.val_count", o.val_count, ">= 0");
  check_field(o.select == "f1" || o.select == "auc" || o.select == "loss", "train.select", o.select, "f1, auc, loss");
  check_field(o.weight_decay >= 0, "train.weight_decay", o.weight_decay, ">= 0");
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
    if (epoch < s.epochs) return s.lr;
    epoch -= s.epochs;
  }
  return o.schedule.back().lr;
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
