// Data-parallel training over a Collective (Li et al. 2020, "PyTorch Distributed", for the design facts):
// every rank holds the whole model, starts from rank 0's weights, computes gradients on its share of the
// global batch, and applies the same averaged gradients, so the models never diverge.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"
#include "vesselgan/dist/collective.h"

namespace vg {

// Every parameter and buffer of `module` becomes rank 0's (initial weights, running statistics).
void broadcast_module(const Collective& world, torch::nn::Module& module);

// One all-reduce over a flat buffer: each parameter's gradient becomes the mean of every rank's (a missing
// gradient counts as zeros; a parameter no rank has a gradient for keeps none), and each of `scalars` (e.g. the step's loss) the mean of every rank's value.
void average_gradients(const Collective& world, const std::vector<torch::Tensor>& params,
                       std::vector<double>* scalars = nullptr);

// The mean over ranks of one value per rank (scalars a decision is taken from).
std::vector<double> mean_over_ranks(const Collective& world, std::vector<double> values);

// UserError on every rank unless `text` (e.g. the resolved config and the data's fingerprint) is the same on
// all ranks; `what` names it in the message.
void check_same_on_all_ranks(const Collective& world, const std::string& what, const std::string& text);

// What a job needs before anything is written: the same recipe (`config`), the same training data (`data`, e.g.
// samples_fingerprint) and the same resume state on every rank; a UserError on every rank naming which differs.
void check_same_job(const Collective& world, const nlohmann::json& config, const std::string& data,
                    const nlohmann::json& resume_state);

// Rank 0's `text` on every rank (two broadcasts: its length, then its bytes); `text` itself alone.
std::string broadcast_text(const Collective& world, const std::string& text);

// A 64-bit fingerprint of a tensor's values (FNV-1a over its bytes, contiguous CPU copy): cheap data checks.
uint64_t tensor_fingerprint(const torch::Tensor& t);

// What check_same_on_all_ranks compares for a training set: each sample's id and the fingerprints of its
// image, label and mask (0 where one is absent).
std::string samples_fingerprint(const std::vector<Sample>& samples);

}  // namespace vg
