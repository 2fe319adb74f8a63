// BatchNorm over the global batch (synchronised BatchNorm): inside a BatchShardScope, a training-mode
// BatchNorm2d normalises each rank's rows with the mean and variance of the whole global batch (one
// all-reduce of per-channel sums; the gradient flows back through it, Ioffe & Szegedy 2015, with the sums
// taken over all ranks) and updates its running statistics with them, exactly as one process with the
// global batch would. Outside a scope, or in eval mode, it is bn->forward(x).
#pragma once
#include <torch/torch.h>

namespace vg {

// x: [n, C, H, W] float, n = the active shard's rows.
torch::Tensor batch_norm_over_shards(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);

}  // namespace vg
