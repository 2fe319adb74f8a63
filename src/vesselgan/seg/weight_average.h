// Stochastic weight averaging (Izmailov et al. 2018): the running mean of the weights a run passes through at a
// high learning rate, and the batch-norm statistics the averaged network needs. The running statistics of the
// epochs' networks do not fit their average, so they are measured again on the training photographs.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace vg {

// Folds `model`'s parameters into `average`, which holds the mean of `count` earlier ones:
// average += (model - average) / (count + 1); count 0 copies them. Buffers are left alone. Both must be the
// same network (c10::Error naming the first parameter that differs otherwise).
void fold_into_average(torch::nn::Module& average, const torch::nn::Module& model, int64_t count);

// Sets every BatchNorm layer's running mean and variance to the mean, over `batches` forward passes, of the
// statistics each pass gives the layer (input_statistics: training-mode normalisation for the BatchNorm layers
// alone, so DropBlock and dropout stay off in evaluation mode). forward(i) runs the network on batch i.
// Each layer's num_batches_tracked becomes `batches`.
void measure_running_statistics(torch::nn::Module& net, int64_t batches, const std::function<void(int64_t)>& forward);

// The parameters of `average` as a checkpoint's extra tensors, named "swa/<parameter>" (copies), and back:
// read_average_tensors copies every "swa/<parameter>" of `extra` into `average` (c10::Error when one is missing).
// io/checkpoint.h's module_extra_tensors, without buffers (the average's are measured, not averaged).
std::map<std::string, torch::Tensor> average_tensors(const torch::nn::Module& average);
std::map<std::string, torch::Tensor> average_tensor_slots(const torch::nn::Module& average);  // keys, undefined
void read_average_tensors(const std::map<std::string, torch::Tensor>& extra, torch::nn::Module& average);

}  // namespace vg
