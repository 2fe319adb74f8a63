// One rank's rows of a global batch, and the scope in which the layers that look across the batch
// (DropBlock's mask, BatchNorm's statistics, batch-wide losses) see the global batch instead of the rows.
//
// The recipe: every rank draws the same global batch from the same seeded generator (so the generator's
// state, and with it a checkpoint, is the same on every rank and for any number of ranks), keeps its
// contiguous rows, and runs forward and backward inside a BatchShardScope. Inside it:
//   - random masks are drawn for the global batch and sliced (dropblock.cpp), so they equal one process's;
//   - BatchNorm normalises with the global batch's mean and variance (sync_batch_norm.h);
//   - a loss that sums over the batch sums over the global one (sum_over_shards), and a mean over this
//     rank's rows is weighted by shard_share() so that averaging over ranks gives the global mean.
// With a Collective of one process no scope is needed and nothing changes.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "vesselgan/dist/collective.h"

namespace vg {

struct BatchShard {
  int64_t begin = 0, count = 0;  // this rank's rows [begin, begin + count)
  int64_t total = 0;             // rows of the global batch
  int64_t ranks = 1;
};

// Rank `rank`'s contiguous rows of a global batch of `total` rows split as evenly as possible over `ranks`
// (batch / ranks each when it divides). total >= ranks (every rank gets a row).
BatchShard shard_of(int64_t total, int64_t rank, int64_t ranks);

// For its lifetime (one per process; forward and backward run inside it) the batch-wide layers treat their
// input as the rows `shard` of a global batch spread over `world`.
class BatchShardScope {
 public:
  BatchShardScope(const Collective& world, const BatchShard& shard);
  ~BatchShardScope();
  BatchShardScope(const BatchShardScope&) = delete;
  BatchShardScope& operator=(const BatchShardScope&) = delete;
};

// The active shard, or null outside a scope.
const BatchShard* active_batch_shard();

// UserError unless `rows` (a global batch, named `what`, e.g. "gan.batch") splits evenly over the ranks.
void check_splits(const Collective& world, int64_t rows, const std::string& what);

// This rank's rows of a tensor whose first dimension is the global batch (the tensor itself outside a scope).
torch::Tensor shard_rows(const torch::Tensor& global);

// The sum over ranks of t (differentiable: the gradient of each rank's copy is the sum of every rank's
// gradient of the result). t itself outside a scope.
torch::Tensor sum_over_shards(const torch::Tensor& t);

// Every rank's rows in rank order: the global batch (differentiable: the gradient of this rank's rows is the
// sum over ranks of the gradient of the result, so it can sit inside a double backward, e.g. R1). Needs
// equal shards. t itself outside a scope.
torch::Tensor gather_shards(const torch::Tensor& t);

// A per-sample random draw: inside a scope with `rows` = this rank's rows, draw(total) for the global batch and
// this rank's rows of it, so the generator advances as one process's would and every rank's samples get what
// they would get there; draw(rows) otherwise.
torch::Tensor draw_rows(int64_t rows, const std::function<torch::Tensor(int64_t)>& draw);

// ranks * count / total: the weight of a mean over this rank's rows so that the mean over ranks of the
// weighted means is the global batch's mean (1 outside a scope).
double shard_share();

}  // namespace vg
