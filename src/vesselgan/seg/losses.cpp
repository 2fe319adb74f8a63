#include "vesselgan/seg/losses.h"

#include <cmath>
#include <sstream>

#include "vesselgan/core/error.h"
#include "vesselgan/dist/batch_shard.h"

namespace vg {

namespace {

void check_shapes(const char* what, const torch::Tensor& logits, const torch::Tensor& target,
                  const torch::Tensor& weight) {
  TORCH_CHECK(logits.dim() == 4 && logits.size(1) == 1, what, ": logits must be [N, 1, H, W], got ",
              logits.sizes());
  TORCH_CHECK(target.sizes() == logits.sizes(), what, ": target ", target.sizes(), " must match logits ",
              logits.sizes());
  TORCH_CHECK(!weight.defined() || weight.sizes() == logits.sizes(), what, ": weight ", weight.sizes(),
              " must match logits ", logits.sizes());
}

// Reads j[key] into out when present; a wrong type is a UserError naming the field and what it expects.
template <typename T>
void read_loss_field(const nlohmann::json& j, const char* key, T& out, const char* expected) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    throw UserError(std::string("LossOptions.") + key + ": invalid value " + it->dump() + " (expected " + expected +
                    ")");
  }
}

}  // namespace

void to_json(nlohmann::json& j, const LossOptions& o) {
  j = nlohmann::json{{"kind", o.kind}, {"pos_weight", o.pos_weight}};
  if (o.cldice_weight > 0) {
    j["cldice_weight"] = o.cldice_weight;
    j["cldice_iterations"] = o.cldice_iterations;
  }
  if (o.thin_weight != 1) j["thin_weight"] = o.thin_weight;
}

void from_json(const nlohmann::json& j, LossOptions& o) {
  if (!j.is_object()) throw UserError("LossOptions: expected a JSON object, got " + j.dump());
  for (const auto& item : j.items()) {
    if (item.key() != "kind" && item.key() != "pos_weight" && item.key() != "cldice_weight" &&
        item.key() != "cldice_iterations" && item.key() != "thin_weight")
      throw UserError("LossOptions: unknown key '" + item.key() +
                      "'; valid keys: kind, pos_weight, cldice_weight, cldice_iterations, thin_weight");
  }
  read_loss_field(j, "kind", o.kind, "a string");
  read_loss_field(j, "pos_weight", o.pos_weight, "a number");
  read_loss_field(j, "cldice_weight", o.cldice_weight, "a number");
  read_loss_field(j, "cldice_iterations", o.cldice_iterations, "an integer");
  read_loss_field(j, "thin_weight", o.thin_weight, "a number");
}

void validate(const LossOptions& o) {
  if (o.kind != "bce" && o.kind != "dice" && o.kind != "bce+dice")
    throw UserError("LossOptions.kind = '" + o.kind + "' is invalid; valid: bce, dice or bce+dice");
  if (!(o.pos_weight > 0.0) || !std::isfinite(o.pos_weight)) {
    std::ostringstream v;
    v << o.pos_weight;
    throw UserError("LossOptions.pos_weight = " + v.str() + " is invalid; valid: a finite number > 0");
  }
  if (!(o.cldice_weight >= 0.0 && o.cldice_weight < 1.0)) {
    std::ostringstream v;
    v << o.cldice_weight;
    throw UserError("LossOptions.cldice_weight = " + v.str() + " is invalid; valid: a number in [0, 1)");
  }
  if (o.cldice_iterations < 1 || o.cldice_iterations > 50)
    throw UserError("LossOptions.cldice_iterations = " + std::to_string(o.cldice_iterations) +
                    " is invalid; valid: an integer in 1..50");
  if (!(o.thin_weight >= 1.0 && o.thin_weight <= 100.0)) {
    std::ostringstream v;
    v << o.thin_weight;
    throw UserError("LossOptions.thin_weight = " + v.str() + " is invalid; valid: a number in [1, 100] (1 = off)");
  }
}

torch::Tensor bce_loss(const torch::Tensor& logits, const torch::Tensor& target, double pos_weight,
                       const torch::Tensor& weight, const torch::Tensor& emphasis) {
  check_shapes("bce_loss", logits, target, weight);
  check_shapes("bce_loss (emphasis)", logits, target, emphasis);
  namespace F = torch::nn::functional;
  // Computed in float32 even under bf16 autocast: the loss is a large reduction.
  const torch::Tensor z = logits.to(torch::kFloat), t = target.to(z.options());
  auto opts = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum);
  if (pos_weight != 1.0) opts = opts.pos_weight(torch::full({1}, pos_weight, z.options()));
  // Data-parallel (batch_shard.h): a mean over this rank's rows, weighted so that the ranks' mean is the global one.
  if (!weight.defined()) {
    if (emphasis.defined()) opts = opts.weight(emphasis.to(z.options()));
    return F::binary_cross_entropy_with_logits(z, t, opts) * (shard_share() / static_cast<double>(z.numel()));
  }
  TORCH_CHECK(active_batch_shard() == nullptr, "bce_loss: pixel weights are not supported across data-parallel ranks");
  const torch::Tensor w = weight.to(z.options());
  const torch::Tensor factor = emphasis.defined() ? w * emphasis.to(z.options()) : w;
  return F::binary_cross_entropy_with_logits(z, t, opts.weight(factor)) / w.sum().clamp_min(1.0);
}

torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& target,
                        const torch::Tensor& weight) {
  check_shapes("dice_loss", logits, target, weight);
  const torch::Tensor p = torch::sigmoid(logits.to(torch::kFloat));
  torch::Tensor t = target.to(p.options());
  torch::Tensor pw = p;
  if (weight.defined()) {
    const torch::Tensor w = weight.to(p.options());
    pw = p * w;
    t = t * w;
  }
  // Smoothed soft Dice over the batch (kDiceSmooth = 1 in numerator and denominator, as the peer).
  // Data-parallel (batch_shard.h): the sums are the global batch's.
  const torch::Tensor intersection = sum_over_shards((pw * t).sum());
  return 1.0 - (2.0 * intersection + kDiceSmooth) / (sum_over_shards(pw.sum() + t.sum()) + kDiceSmooth);
}

namespace {

// Soft morphology on [N, 1, H, W] maps in [0, 1]: erosion by the 3x3 cross (the minimum of a vertical and a
// horizontal 3-pixel minimum), dilation by the 3x3 square.
torch::Tensor soft_erode(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  const torch::Tensor v = -F::max_pool2d(-x, F::MaxPool2dFuncOptions({3, 1}).stride(1).padding({1, 0}));
  const torch::Tensor h = -F::max_pool2d(-x, F::MaxPool2dFuncOptions({1, 3}).stride(1).padding({0, 1}));
  return torch::min(v, h);
}

torch::Tensor soft_dilate(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(1).padding(1));
}

torch::Tensor soft_open(const torch::Tensor& x) { return soft_dilate(soft_erode(x)); }

torch::Tensor base_loss(const torch::Tensor& logits, const torch::Tensor& target, const LossOptions& opt,
                        const torch::Tensor& weight) {
  if (opt.kind == "dice") return dice_loss(logits, target, weight);
  const torch::Tensor emphasis =
      opt.thin_weight != 1 ? 1.0 + (opt.thin_weight - 1.0) * thin_vessel_pixels(target) : torch::Tensor();
  if (opt.kind == "bce") return bce_loss(logits, target, opt.pos_weight, weight, emphasis);
  TORCH_CHECK(opt.kind == "bce+dice", "segmentation_loss: unknown kind '", opt.kind,
              "' (validate the LossOptions first)");
  return 0.5 * bce_loss(logits, target, opt.pos_weight, weight, emphasis) + 0.5 * dice_loss(logits, target, weight);
}

}  // namespace

torch::Tensor thin_vessel_pixels(const torch::Tensor& target) {
  TORCH_CHECK(target.dim() == 4 && target.size(1) == 1, "thin_vessel_pixels: target must be [N, 1, H, W], got ",
              target.sizes());
  namespace F = torch::nn::functional;
  const torch::Tensor v = target.to(torch::kFloat).ge(0.5).to(torch::kFloat);
  const auto square = F::MaxPool2dFuncOptions(3).stride(1).padding(1);
  const torch::Tensor opened = F::max_pool2d(-F::max_pool2d(-v, square), square);
  return (v - opened).clamp_min(0);
}

torch::Tensor soft_skeleton(const torch::Tensor& x, int64_t iterations) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 1, "soft_skeleton: x must be [N, 1, H, W], got ", x.sizes());
  TORCH_CHECK(iterations >= 1, "soft_skeleton: iterations must be >= 1, got ", iterations);
  torch::Tensor img = x;
  torch::Tensor skel = torch::relu(img - soft_open(img));
  for (int64_t k = 0; k < iterations; ++k) {
    img = soft_erode(img);
    const torch::Tensor delta = torch::relu(img - soft_open(img));
    skel = skel + torch::relu(delta - skel * delta);  // add what is new, as a soft union
  }
  return skel;
}

torch::Tensor cldice_loss(const torch::Tensor& logits, const torch::Tensor& target, int64_t iterations,
                          const torch::Tensor& weight) {
  check_shapes("cldice_loss", logits, target, weight);
  torch::Tensor p = torch::sigmoid(logits.to(torch::kFloat));
  torch::Tensor t = target.to(p.options());
  if (weight.defined()) {
    const torch::Tensor w = weight.to(p.options());
    p = p * w;
    t = t * w;
  }
  const torch::Tensor sp = soft_skeleton(p, iterations), st = soft_skeleton(t, iterations);
  // Data-parallel (batch_shard.h): the sums are the global batch's.
  const torch::Tensor tprec = (sum_over_shards((sp * t).sum()) + kDiceSmooth) / (sum_over_shards(sp.sum()) + kDiceSmooth);
  const torch::Tensor tsens = (sum_over_shards((st * p).sum()) + kDiceSmooth) / (sum_over_shards(st.sum()) + kDiceSmooth);
  return 1.0 - 2.0 * tprec * tsens / (tprec + tsens);
}

torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& target,
                                const LossOptions& opt, const torch::Tensor& weight) {
  const torch::Tensor base = base_loss(logits, target, opt, weight);
  if (opt.cldice_weight <= 0) return base;
  return (1.0 - opt.cldice_weight) * base +
         opt.cldice_weight * cldice_loss(logits, target, opt.cldice_iterations, weight);
}

}  // namespace vg
