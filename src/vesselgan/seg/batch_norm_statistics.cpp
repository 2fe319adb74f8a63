#include "vesselgan/seg/batch_norm_statistics.h"

#include <algorithm>
#include <cmath>

#include "vesselgan/core/error.h"

namespace vg {

std::vector<torch::nn::BatchNorm2dImpl*> batch_norm_layers(torch::nn::Module& net) {
  std::vector<torch::nn::BatchNorm2dImpl*> out;
  for (const auto& module : net.modules(/*include_self=*/false))
    if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) out.push_back(bn);
  return out;
}

BatchNormStatistics running_statistics(torch::nn::Module& net) {
  BatchNormStatistics s;
  for (auto* bn : batch_norm_layers(net)) {
    s.mean.push_back(bn->running_mean.detach().clone());
    s.var.push_back(bn->running_var.detach().clone());
  }
  return s;
}

namespace {

// Puts the running statistics, momentum and mode of the layers back when it goes out of scope.
class LayerStateGuard {
 public:
  explicit LayerStateGuard(std::vector<torch::nn::BatchNorm2dImpl*> layers) : layers_(std::move(layers)) {
    for (auto* bn : layers_)
      saved_.push_back({bn->running_mean.detach().clone(), bn->running_var.detach().clone(),
                        bn->options.momentum(), bn->is_training()});
  }
  ~LayerStateGuard() {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < layers_.size(); ++i) {
      layers_[i]->running_mean.copy_(saved_[i].mean);
      layers_[i]->running_var.copy_(saved_[i].var);
      layers_[i]->options.momentum(saved_[i].momentum);
      layers_[i]->train(saved_[i].training);
    }
  }
  LayerStateGuard(const LayerStateGuard&) = delete;
  LayerStateGuard& operator=(const LayerStateGuard&) = delete;

 private:
  struct Saved {
    torch::Tensor mean, var;
    c10::optional<double> momentum;
    bool training;
  };
  std::vector<torch::nn::BatchNorm2dImpl*> layers_;
  std::vector<Saved> saved_;
};

}  // namespace

BatchNormStatistics input_statistics(torch::nn::Module& net, const std::function<void()>& forward) {
  const auto layers = batch_norm_layers(net);
  const LayerStateGuard guard(layers);
  // Training mode with momentum 1: each layer normalises with its input's statistics and stores them as its
  // running statistics (the variance unbiased), which are read here and restored by the guard.
  for (auto* bn : layers) {
    bn->options.momentum(1.0);
    bn->train(true);
  }
  forward();
  BatchNormStatistics s;
  for (auto* bn : layers) {
    s.mean.push_back(bn->running_mean.detach().clone());
    s.var.push_back(bn->running_var.detach().clone());
  }
  return s;
}

double statistics_distance(const BatchNormStatistics& a, const BatchNormStatistics& b) {
  TORCH_CHECK(a.mean.size() == b.mean.size() && a.var.size() == b.var.size() && a.mean.size() == a.var.size(),
              "statistics_distance: ", a.mean.size(), " and ", b.mean.size(), " layers (need the same network's)");
  TORCH_CHECK(!a.mean.empty(), "statistics_distance: the network has no BatchNorm layer");
  constexpr double eps = 1e-5;  // BatchNorm's own
  double sum = 0;
  for (size_t i = 0; i < a.mean.size(); ++i) {
    TORCH_CHECK(a.mean[i].sizes() == b.mean[i].sizes(), "statistics_distance: layer ", i, " has ",
                a.mean[i].sizes(), " and ", b.mean[i].sizes(), " channels");
    const auto va = a.var[i].to(torch::kDouble) + eps, vb = b.var[i].to(torch::kDouble) + eps;
    const auto dm2 = (a.mean[i].to(torch::kDouble) - b.mean[i].to(torch::kDouble)).pow(2);
    const auto kl = 0.5 * (va / vb + vb / va - 2) + 0.5 * dm2 * (1 / va + 1 / vb);
    sum += kl.mean().item<double>();
  }
  return sum / static_cast<double>(a.mean.size());
}

void to_json(nlohmann::json& j, const StatisticsRange& r) { j = {{"low", r.low}, {"high", r.high}}; }

void from_json(const nlohmann::json& j, StatisticsRange& r) {
  j.at("low").get_to(r.low);
  j.at("high").get_to(r.high);
}

void validate(const StatisticsRange& r, const std::string& what) {
  if (!std::isfinite(r.low) || !std::isfinite(r.high) || r.low < 0 || r.high < r.low)
    throw UserError(what + " has low " + std::to_string(r.low) + " and high " + std::to_string(r.high) +
                    " (valid: finite, 0 <= low <= high)");
}

double image_statistics_weight(double d, const StatisticsRange& r) {
  if (d <= r.low) return 0;
  if (d >= r.high) return 1;
  return (d - r.low) / (r.high - r.low);
}

MixedStatisticsScope::MixedStatisticsScope(torch::nn::Module& net, const BatchNormStatistics& image, double w)
    : layers_(batch_norm_layers(net)) {
  TORCH_CHECK(image.mean.size() == layers_.size() && image.var.size() == layers_.size(),
              "MixedStatisticsScope: statistics of ", image.mean.size(), " layers for a network of ", layers_.size());
  TORCH_CHECK(w >= 0 && w <= 1, "MixedStatisticsScope: weight ", w, " is not in [0, 1]");
  running_ = running_statistics(net);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->running_mean.copy_(w * image.mean[i] + (1 - w) * running_.mean[i]);
    layers_[i]->running_var.copy_(w * image.var[i] + (1 - w) * running_.var[i]);
  }
}

MixedStatisticsScope::~MixedStatisticsScope() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->running_mean.copy_(running_.mean[i]);
    layers_[i]->running_var.copy_(running_.var[i]);
  }
}

}  // namespace vg
