#include "vesselgan/seg/weight_average.h"

#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/batch_norm_statistics.h"

namespace vg {

namespace {
const std::string kPrefix = "swa/";
}  // namespace

void fold_into_average(torch::nn::Module& average, const torch::nn::Module& model, int64_t count) {
  TORCH_CHECK(count >= 0, "fold_into_average: count ", count, " < 0");
  torch::NoGradGuard no_grad;
  const auto from = model.named_parameters();
  auto into = average.named_parameters();
  TORCH_CHECK(from.size() == into.size(), "fold_into_average: ", from.size(), " and ", into.size(),
              " parameters (need the same network)");
  for (const auto& p : from) {
    torch::Tensor* a = into.find(p.key());
    TORCH_CHECK(a != nullptr && a->sizes() == p.value().sizes(), "fold_into_average: parameter ", p.key(),
                " differs between the networks");
    if (count == 0)
      a->copy_(p.value());
    else
      a->add_(p.value() - *a, 1.0 / static_cast<double>(count + 1));
  }
}

void measure_running_statistics(torch::nn::Module& net, int64_t batches, const std::function<void(int64_t)>& forward) {
  TORCH_CHECK(batches > 0, "measure_running_statistics: no batch to measure on");
  BatchNormStatistics sum;
  for (int64_t i = 0; i < batches; ++i) {
    const BatchNormStatistics s = input_statistics(net, [&] { forward(i); });
    if (i == 0) {
      sum = s;
      continue;
    }
    for (size_t l = 0; l < s.mean.size(); ++l) {
      sum.mean[l].add_(s.mean[l]);
      sum.var[l].add_(s.var[l]);
    }
  }
  torch::NoGradGuard no_grad;
  const auto layers = batch_norm_layers(net);
  for (size_t l = 0; l < layers.size(); ++l) {
    layers[l]->running_mean.copy_(sum.mean[l] / static_cast<double>(batches));
    layers[l]->running_var.copy_(sum.var[l] / static_cast<double>(batches));
    layers[l]->num_batches_tracked.fill_(batches);  // as a cumulative average over these batches would count
  }
}

std::map<std::string, torch::Tensor> average_tensors(const torch::nn::Module& average) {
  return module_extra_tensors(average, kPrefix, /*buffers=*/false);
}

std::map<std::string, torch::Tensor> average_tensor_slots(const torch::nn::Module& average) {
  return module_extra_slots(average, kPrefix, /*buffers=*/false);
}

void read_average_tensors(const std::map<std::string, torch::Tensor>& extra, torch::nn::Module& average) {
  read_module_extra_tensors(extra, kPrefix, average, /*buffers=*/false);
}

}  // namespace vg
