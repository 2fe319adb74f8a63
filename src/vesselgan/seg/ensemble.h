// Ensembles of segmentation models: combining their per-image vessel probability maps into one map, and
// choosing the weights of a weighted ensemble on held-out VALIDATION images (never the test images,
// docs/protocol.md) by a grid search over the simplex.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/eval/evaluator.h"

namespace vg {

struct EnsembleOptions {
  // "mean": the average of the maps; "weighted": sum_i w_i p_i with the weights normalized to sum 1;
  // "max": the pixelwise maximum; "vote": the fraction of models whose map is >= threshold at the pixel.
  // The vote fraction is still a probability-like map: thresholded at 0.5 (the evaluation default) it is
  // the majority vote, and a tie (exactly half of an even number of models) counts as vessel, since the
  // fraction 1/2 >= 0.5.
  std::string method = "mean";
  std::vector<double> weights;  // one per model, >= 0, sum > 0; only (and required) for "weighted"
  double threshold = 0.5;       // each model's binarization for "vote" (p >= threshold), in (0, 1)
};
// Keys exactly: method, weights, threshold.
void to_json(nlohmann::json& j, const EnsembleOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, EnsembleOptions& o);
// Throws UserError naming the first bad field ("ensemble.method") and its valid values.
void validate(const EnsembleOptions& o);

// probs: one map per model, all the same shape, [1, H, W] or [H, W], floating, in [0, 1], same device.
// Returns the combined map: the same shape, float32, in [0, 1], on that device. Throws UserError when the
// options are invalid or the number of weights differs from the number of models; c10::Error (TORCH_CHECK)
// for an empty list or malformed maps.
torch::Tensor combine(const std::vector<torch::Tensor>& probs, const EnsembleOptions& opt);

// The weights divided by their sum; the sum must be positive (as validate() guarantees for "weighted").
std::vector<double> normalized_weights(const std::vector<double>& w);

struct WeightSearchOptions {
  double step = 0.1;          // grid spacing on the simplex; 1 / step must be a whole number (1..100)
  std::string metric = "f1";  // "f1": FOV-pooled F1 at `threshold`; "auc": FOV-pooled ROC AUC
  double threshold = 0.5;     // the evaluation threshold for "f1", in (0, 1)
};
void to_json(nlohmann::json& j, const WeightSearchOptions& o);
void from_json(const nlohmann::json& j, WeightSearchOptions& o);
void validate(const WeightSearchOptions& o);

// Weights for a "weighted" ensemble, chosen on VALIDATION images: every point of the simplex grid
// {w : w_i = k_i * step, k_i >= 0 whole, sum w_i = 1} is scored by the FOV-pooled metric of the combined
// maps, and the best is returned (summing to 1). Ties (scores within 1e-12) go to the point closest to
// equal weights (Euclidean distance), then to the first in enumeration order (model 0's weight largest
// first), so the result is deterministic.
// per_model_val_items[m]: model m's EvalItems for the same images (same ids in the same order, labels and
// masks as eval/evaluator.h). `best_score`, when given, receives the winning score.
// Throws UserError for fewer than one model or no images, or invalid search options; c10::Error for
// item lists that do not line up.
std::vector<double> choose_weights(const std::vector<std::vector<EvalItem>>& per_model_val_items,
                                   const WeightSearchOptions& opt = {}, double* best_score = nullptr);

// The simplex grid choose_weights searches, in its enumeration order (exposed for tests and reports):
// all vectors of `models` multiples of 1/divisions summing to 1.
std::vector<std::vector<double>> simplex_grid(int64_t models, int64_t divisions);

}  // namespace vg
