#include "vesselgan/dist/batch_shard.h"

#include <atomic>

#include "vesselgan/core/error.h"

namespace vg {

namespace {

// Process-wide, not thread-local: on CUDA the autograd engine runs backward on its own threads.
struct ActiveShard {
  const Collective* world = nullptr;
  BatchShard shard;
};
std::atomic<ActiveShard*> g_active{nullptr};

// Sum over ranks in forward and in backward: every rank's loss depends on every rank's input.
class SumOverRanks : public torch::autograd::Function<SumOverRanks> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& t) {
    torch::Tensor out = t.clone();
    current().world->all_reduce_sum(out);
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    torch::Tensor g = grads[0].clone();
    current().world->all_reduce_sum(g);
    return {g};
  }

 private:
  static const ActiveShard& current() {
    const ActiveShard* a = g_active.load();
    TORCH_CHECK(a != nullptr, "sum_over_shards: the BatchShardScope ended before backward");
    return *a;
  }
};

// All ranks' rows in forward; backward: the sum over ranks of the gradient, this rank's rows of it (through
// SumOverRanks, so that the backward is itself differentiable).
class GatherShards : public torch::autograd::Function<GatherShards> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& t) {
    const ActiveShard* a = g_active.load();
    TORCH_CHECK(a != nullptr, "gather_shards: no BatchShardScope");
    TORCH_CHECK(a->shard.total == a->shard.count * a->shard.ranks, "gather_shards: unequal shards (", a->shard.total,
                " rows over ", a->shard.ranks, " ranks)");
    ctx->saved_data["begin"] = a->shard.begin;
    ctx->saved_data["count"] = a->shard.count;
    return torch::cat(a->world->all_gather(t.contiguous()), 0);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const int64_t begin = ctx->saved_data["begin"].toInt(), count = ctx->saved_data["count"].toInt();
    return {SumOverRanks::apply(grads[0].contiguous()).slice(0, begin, begin + count)};
  }
};

}  // namespace

void check_splits(const Collective& world, int64_t rows, const std::string& what) {
  if (rows % world.size() != 0)
    throw UserError(what + " = " + std::to_string(rows) + " does not split over " + std::to_string(world.size()) +
                    " ranks; valid: a multiple of the number of ranks");
}

BatchShard shard_of(int64_t total, int64_t rank, int64_t ranks) {
  TORCH_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "shard_of: rank ", rank, " of ", ranks);
  if (total < ranks)
    throw UserError("a batch of " + std::to_string(total) + " cannot be split over " + std::to_string(ranks) +
                    " ranks (every rank needs at least one sample; use a batch that is a multiple of the ranks)");
  BatchShard s;
  s.begin = total * rank / ranks;
  s.count = total * (rank + 1) / ranks - s.begin;
  s.total = total;
  s.ranks = ranks;
  return s;
}

BatchShardScope::BatchShardScope(const Collective& world, const BatchShard& shard) {
  TORCH_CHECK(world.size() == shard.ranks, "BatchShardScope: shard for ", shard.ranks, " ranks, world of ",
              world.size());
  auto* a = new ActiveShard{&world, shard};
  ActiveShard* expected = nullptr;
  if (!g_active.compare_exchange_strong(expected, a)) {
    delete a;
    TORCH_CHECK(false, "BatchShardScope: scopes do not nest");
  }
}

BatchShardScope::~BatchShardScope() { delete g_active.exchange(nullptr); }

const BatchShard* active_batch_shard() {
  const ActiveShard* a = g_active.load();
  return a == nullptr ? nullptr : &a->shard;
}

torch::Tensor shard_rows(const torch::Tensor& global) {
  const BatchShard* s = active_batch_shard();
  if (s == nullptr) return global;
  TORCH_CHECK(global.dim() >= 1 && global.size(0) == s->total, "shard_rows: expected ", s->total,
              " rows (the global batch), got ", global.sizes());
  return global.slice(0, s->begin, s->begin + s->count);
}

torch::Tensor sum_over_shards(const torch::Tensor& t) {
  if (g_active.load() == nullptr) return t;
  return SumOverRanks::apply(t);
}

torch::Tensor gather_shards(const torch::Tensor& t) {
  if (g_active.load() == nullptr) return t;
  return GatherShards::apply(t);
}

torch::Tensor draw_rows(int64_t rows, const std::function<torch::Tensor(int64_t)>& draw) {
  const BatchShard* s = active_batch_shard();
  if (s == nullptr || rows != s->count) return draw(rows);
  return draw(s->total).slice(0, s->begin, s->begin + s->count);
}

double shard_share() {
  const BatchShard* s = active_batch_shard();
  if (s == nullptr) return 1.0;
  return static_cast<double>(s->ranks * s->count) / static_cast<double>(s->total);
}

}  // namespace vg
