// A photograph's own batch-norm statistics, how far they lie from a network's running statistics, and
// normalization with a mix of the two (adaptive prediction-time batch normalization).
//
// Prediction-time batch normalization (Nado et al. 2020; Schneider et al. 2020) normalises every BatchNorm
// layer with the statistics of the photograph being segmented instead of the training set's running ones.
// It undoes blur, exposure and contrast shifts, but it also moves the prediction on photographs the network
// already handles. The adaptive form uses the photograph's statistics only as far as they lie outside what
// the training photographs show:
//
//   d  = statistics_distance(photograph's, running): per layer, the symmetric KL divergence between the
//        Gaussians N(mean, var) of the two, averaged over channels; then averaged over the layers
//   w  = image_statistics_weight(d, range): 0 up to range.low (the largest d among the training photographs),
//        rising linearly to 1 at range.high
//   each layer normalises with  w * photograph's + (1 - w) * running  mean and variance.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vg {

// Per BatchNorm2d layer of a network, in module order: the mean and (unbiased) variance of its input, [C].
struct BatchNormStatistics {
  std::vector<torch::Tensor> mean, var;
};

// The BatchNorm2d layers of `net`, in module order.
std::vector<torch::nn::BatchNorm2dImpl*> batch_norm_layers(torch::nn::Module& net);

// The running statistics of `net`'s BatchNorm layers (copies).
BatchNormStatistics running_statistics(torch::nn::Module& net);

// The statistics of `net`'s BatchNorm layers on input x (what training mode would normalise x with: each layer's
// with every earlier layer normalised by x's own statistics), from one forward pass of `forward`. The network's
// running statistics, momentum and training flags are as before afterwards, also when `forward` throws. Other
// modules stay in their mode (DropBlock and dropout stay off in evaluation mode).
BatchNormStatistics input_statistics(torch::nn::Module& net, const std::function<void()>& forward);

// The mean over layers of the mean over channels of the symmetric KL divergence between N(a.mean, a.var) and
// N(b.mean, b.var); 0 for identical statistics. a and b must come from the same network.
double statistics_distance(const BatchNormStatistics& a, const BatchNormStatistics& b);

// The distances of one network within which a photograph is normalised with the running statistics alone.
struct StatisticsRange {
  double low = 0;   // w = 0 up to here (the largest distance among the training photographs)
  double high = 0;  // w = 1 from here; high == low: a switch
};
// Keys: low, high. validate: 0 <= low <= high, both finite (UserError naming `what`).
void to_json(nlohmann::json& j, const StatisticsRange& r);
void from_json(const nlohmann::json& j, StatisticsRange& r);
void validate(const StatisticsRange& r, const std::string& what);

// The photograph's share w in [0, 1] of the statistics at distance d.
double image_statistics_weight(double d, const StatisticsRange& r);

// For its lifetime, `net`'s BatchNorm layers hold w * image + (1 - w) * running as their running mean and
// variance, which they normalise with in evaluation mode; the running statistics are restored afterwards.
class MixedStatisticsScope {
 public:
  MixedStatisticsScope(torch::nn::Module& net, const BatchNormStatistics& image, double w);
  ~MixedStatisticsScope();
  MixedStatisticsScope(const MixedStatisticsScope&) = delete;
  MixedStatisticsScope& operator=(const MixedStatisticsScope&) = delete;

 private:
  std::vector<torch::nn::BatchNorm2dImpl*> layers_;
  BatchNormStatistics running_;
};

}  // namespace vg
