// Where a probability map is cut into vessel and background, per photograph. A threshold that is right on the
// training camera is wrong on another: a photograph the network finds harder (blurred, dark, another camera's
// colours) moves its whole probability map, and a fixed 0.5 then over- or under-segments it. An operating-point
// rule picks each photograph's threshold from its own map, with no label, and the map is remapped so that this
// threshold lands on 0.5; every command that cuts at 0.5 then cuts there.
//
// Rules:
//   "fixed"           the map as it is (cut at 0.5).
//   "expected-count"  the threshold t at which the number of pixels above it equals the map's own expected
//                     number of vessel pixels, the sum of its probabilities (inside the FOV), times a ratio.
//                     With the ratio a network shows on its training camera's photographs (its count above 0.5
//                     over its sum there), t stays at 0.5 on such photographs; a map whose vessels fade under a
//                     shift (a sum above its usual count) gets a lower t, one that lights up the background (a
//                     count above it) a higher one. Ratio 1 takes the sum at its word.
// The remap is monotone (piecewise linear through (0, 0), (t, 0.5), (1, 1)), so the photograph's own ranking
// and its ROC AUC are unchanged.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace vg {

// The rules' names, in the order above.
const std::vector<std::string>& operating_point_rules();
// UserError naming `what` and the valid rules when `rule` is none of them.
void check_operating_point_rule(const std::string& rule, const std::string& what);

// prob: [..] probabilities in [0, 1]; region: the same number of elements, nonzero = inside (undefined: all).
// The "expected-count" threshold: the k-th largest probability inside the region, k = round(ratio * sum of
// them), clamped to [min_t, max_t]; 0.5 when the region is empty or k is 0. ratio > 0.
double expected_count_threshold(const torch::Tensor& prob, const torch::Tensor& region, double ratio = 1,
                                double min_t = 0.02, double max_t = 0.98);

// The ratio "expected-count" needs, measured on photographs of the network's training camera: over all of them
// pooled, the number of pixels above 0.5 inside each region over the summed probability there. probs[i] and
// regions[i] as above (a region may be undefined: all). UserError when no pixel lies at or above 0.5.
double count_ratio_of(const std::vector<torch::Tensor>& probs, const std::vector<torch::Tensor>& regions);

// Remaps prob so that t becomes 0.5: p / (2t) below t, 0.5 + (p - t) / (2(1 - t)) above. 0 < t < 1.
torch::Tensor move_threshold_to_half(const torch::Tensor& prob, double t);

// The rule applied to one photograph's map (region as above; ratio for "expected-count").
torch::Tensor apply_operating_point(const torch::Tensor& prob, const torch::Tensor& region, const std::string& rule,
                                    double ratio = 1);

}  // namespace vg
