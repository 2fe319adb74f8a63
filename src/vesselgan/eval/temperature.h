// Temperature scaling of a vessel-probability map (Guo et al. 2017, "On calibration of modern neural
// networks"): p_T = sigmoid(logit(p) / T). One number, fitted by minimising the binary negative
// log-likelihood on held-out pixels (the validation images' FOV), so it must never be fitted on a test set.
// T > 1 pulls probabilities toward 0.5 (an overconfident model), T < 1 pushes them out. logit(p) = 0 stays 0,
// so the map thresholded at 0.5 and every ranking metric (AUC) are unchanged: only the probabilities'
// meaning (reliability, ECE) moves.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>

namespace vg {

struct TemperatureFit {
  double temperature = 1;
  double nll_before = 0, nll_after = 0;  // mean binary NLL per pixel at T = 1 and at the fitted T
  int64_t pixels = 0;
};
void to_json(nlohmann::json& j, const TemperatureFit& f);

// prob: probabilities in [0, 1], truth: {0, 1} (or bool), same number of elements, any shape, CPU. Golden-
// section search on log T over [0.05, 20] (the NLL is convex in 1/T). UserError when there are no pixels or
// only one class (nothing to calibrate against).
TemperatureFit fit_temperature(const torch::Tensor& prob, const torch::Tensor& truth);

// p_T = sigmoid(logit(p) / T), with p clamped to [1e-7, 1 - 1e-7] first. T = 1 returns prob unchanged.
torch::Tensor apply_temperature(const torch::Tensor& prob, double temperature);

}  // namespace vg
