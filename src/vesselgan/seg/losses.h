// Segmentation losses on logits: binary cross-entropy, soft Dice, and their mean (the seed method's
// choice, as in the Python peer: 0.5 * BCE + 0.5 * Dice); optionally blended with clDice, which scores the
// vessels' centrelines (Shit et al. 2021, "clDice - a novel topology-preserving loss function for tubular
// structure segmentation"), so thin vessels and gaps weigh more than their few pixels do.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vg {

struct LossOptions {
  std::string kind = "bce+dice";  // "bce" | "dice" | "bce+dice" (mean of the two)
  double pos_weight = 1.0;        // BCE weight of positive (vessel) pixels, > 0; Dice ignores it
  // Loss = (1 - cldice_weight) * kind + cldice_weight * clDice; 0 = off. JSON carries the two cldice fields
  // only when it is on, so configs without it read and write as before.
  double cldice_weight = 0;       // in [0, 1)
  int64_t cldice_iterations = 10;  // soft-skeleton erosions: at least the widest vessel's half-width, 1..50
  // BCE weight of the label's thin-vessel pixels (thin_vessel_pixels: vessels under 3 px wide), 1..100; 1 = off.
  // Those pixels are a fifth of DRIVE's vessel pixels and most of the ranking's errors; weighing them 4 times
  // lowered validation AUC and F1 all the same (docs/segmenter.md, lever 14). JSON carries the field only when
  // it is on.
  double thin_weight = 1;
};

void to_json(nlohmann::json& j, const LossOptions& o);
// Reads the keys present in j over the current values of o; unknown keys and wrong types are UserErrors.
void from_json(const nlohmann::json& j, LossOptions& o);
// Throws vg::UserError naming the bad field and its valid range.
void validate(const LossOptions& o);

// Smoothing constant of the soft Dice loss (numerator and denominator), as in the peer.
constexpr double kDiceSmooth = 1.0;

// logits, target: [N, 1, H, W]; target in {0, 1} or soft in [0, 1]; weight: [N, 1, H, W] in {0, 1}
// (undefined = every pixel counts). All three return a 0-dim float tensor.
//
// Mean BCE over the counted pixels:  sum_i w_i l_i / max(sum_i w_i, 1),
//   l_i = -[pos_weight * t_i log sigmoid(z_i) + (1 - t_i) log(1 - sigmoid(z_i))]   (0 when no pixel counts)
// emphasis: [N, 1, H, W] >= 0, a factor on each pixel's l_i that stays out of the normaliser (undefined = 1).
torch::Tensor bce_loss(const torch::Tensor& logits, const torch::Tensor& target, double pos_weight = 1.0,
                       const torch::Tensor& weight = {}, const torch::Tensor& emphasis = {});
// Soft Dice over the whole batch (Milletari et al. 2016, smoothed):
//   1 - (2 sum w p t + s) / (sum w p + sum w t + s),  p = sigmoid(z), s = kDiceSmooth
// (0 when no pixel counts).
torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& target,
                        const torch::Tensor& weight = {});
// The pixels of target ([N, 1, H, W], vessel where >= 0.5) on vessels thinner than 3 pixels: those that an opening
// by the 3x3 square (erosion, then dilation) removes. {0, 1}, float, the shape of target.
torch::Tensor thin_vessel_pixels(const torch::Tensor& target);
// Soft skeleton of a probability map x in [0, 1], [N, 1, H, W] (Shit et al. 2021): what `iterations` soft
// erosions (3x3 cross min-pooling) remove from x that a soft opening (erosion, then 3x3 max-pooling) would
// not restore, accumulated. Differentiable; a hard map gives its morphological skeleton, roughly.
torch::Tensor soft_skeleton(const torch::Tensor& x, int64_t iterations);
// Soft clDice loss: 1 - 2 Tprec Tsens / (Tprec + Tsens), Tprec = |S(p) . t| / |S(p)| (the predicted
// centreline inside the true vessels), Tsens = |S(t) . p| / |S(t)| (the true centreline found), p = sigmoid(z),
// S = soft_skeleton, each ratio smoothed by kDiceSmooth; sums over the batch and the counted pixels.
torch::Tensor cldice_loss(const torch::Tensor& logits, const torch::Tensor& target, int64_t iterations,
                          const torch::Tensor& weight = {});
// The loss selected by opt.kind; "bce+dice" is 0.5 * bce + 0.5 * dice; blended with clDice when
// opt.cldice_weight > 0. With opt.thin_weight > 1 the BCE term weighs each thin-vessel pixel thin_weight times
// (emphasis 1 + (thin_weight - 1) * thin_vessel_pixels(target)).
torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& target,
                                const LossOptions& opt, const torch::Tensor& weight = {});

}  // namespace vg
