// Distillation from a teacher model: each training photograph's target becomes a blend of its annotation and
// the teacher's vessel probability on the clean photograph, computed once before training. A student trained
// on degraded copies (augment.degrade) then learns to find in a blurred, dark or noisy photograph what the
// teacher finds in the clean one, and a student fine-tuned from one member of an ensemble teacher is pulled
// toward the ensemble's answer rather than away from it.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"

namespace vg {

struct DistillOptions {
  std::string teacher;  // an "sa-unet" or ensemble checkpoint; "" = no distillation
  double weight = 0.5;  // the teacher's share of the target: (1 - weight) * label + weight * teacher
  bool tta = true;      // the teacher averages flipped copies
};
void to_json(nlohmann::json& j, const DistillOptions& o);
void from_json(const nlohmann::json& j, DistillOptions& o);  // absent keys keep their values
void validate(const DistillOptions& o);                     // UserError naming "train.distill.<key>"

// The samples with their labels replaced by the blended targets, soft in [0, 1] and 0 outside each FOV.
// Every sample must have a label. Throws UserError when the teacher checkpoint is missing or not a segmenter.
std::vector<Sample> with_teacher_targets(const std::vector<Sample>& samples, const DistillOptions& o,
                                         const torch::Device& device);

}  // namespace vg
