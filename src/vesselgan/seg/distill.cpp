#include "vesselgan/seg/distill.h"

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

namespace {

const auto kDistillFields = [](auto& o, auto&& field) {
  field("teacher", o.teacher);
  field("weight", o.weight, rule([](double w) { return w > 0 && w <= 1; }, "0 < weight <= 1"));
  field("tta", o.tta);
};

}  // namespace

void to_json(nlohmann::json& j, const DistillOptions& o) { j = fields_to_json(o, kDistillFields); }
void from_json(const nlohmann::json& j, DistillOptions& o) { fields_from_json(j, "train.distill", o, kDistillFields); }
void validate(const DistillOptions& o) { validate_fields("train.distill", o, kDistillFields); }

std::vector<Sample> with_teacher_targets(const std::vector<Sample>& samples, const DistillOptions& o,
                                         const torch::Device& device) {
  if (!std::filesystem::exists(o.teacher))
    throw UserError("train.distill.teacher: " + o.teacher +
                    " does not exist (give an SA-UNet or ensemble checkpoint, or \"\" for no teacher)");
  const Segmenter teacher = Segmenter::load(o.teacher, device);
  PredictOptions po;
  po.tta = o.tta;
  std::vector<Sample> out = samples;
  for (auto& s : out) {
    TORCH_CHECK(s.label.defined(), "distillation: training sample ", s.id, " has no label");
    TORCH_CHECK(s.image.dim() == 3 && s.image.size(0) == 3, "distillation: sample ", s.id,
                " image must be [3, H, W], got ", s.image.sizes());
    const torch::Tensor p = teacher.probability(s.image, s.mask, po).to(s.label.dtype());
    TORCH_CHECK(p.sizes() == s.label.sizes(), "distillation: teacher map ", p.sizes(), " vs label ",
                s.label.sizes(), " for sample ", s.id);
    s.label = ((1 - o.weight) * s.label + o.weight * p).mul(s.mask).clamp(0, 1);
  }
  return out;
}

}  // namespace vg
