#include "vesselgan/dist/sync_batch_norm.h"

#include "vesselgan/dist/batch_shard.h"

namespace vg {

torch::Tensor batch_norm_over_shards(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
  const BatchShard* shard = active_batch_shard();
  if (shard == nullptr || !bn.is_training()) return bn.forward(x);
  TORCH_CHECK(x.dim() == 4 && x.size(0) == shard->count, "batch_norm_over_shards: x must be [", shard->count,
              ", C, H, W] (this rank's rows), got ", x.sizes());
  const auto& o = bn.options;
  const int64_t C = x.size(1);
  TORCH_CHECK(C == o.num_features(), "batch_norm_over_shards: ", C, " channels, the layer has ", o.num_features());
  // Per-channel sums of x and x^2 over the global batch, in double: E[x^2] - E[x]^2 keeps float's precision.
  const torch::Tensor xd = x.to(torch::kDouble);
  const torch::Tensor sums = sum_over_shards(torch::cat({xd.sum({0, 2, 3}), xd.square().sum({0, 2, 3})}));
  const double m = static_cast<double>(shard->total * x.size(2) * x.size(3));
  const torch::Tensor mean = sums.slice(0, 0, C) / m;
  const torch::Tensor var = (sums.slice(0, C, 2 * C) / m - mean.square()).clamp_min(0.0);  // biased
  const torch::Tensor scale = (var + o.eps()).rsqrt();
  const auto view = [&](const torch::Tensor& t) { return t.to(x.scalar_type()).view({1, C, 1, 1}); };
  torch::Tensor y = (x - view(mean)) * view(scale);
  if (o.affine()) y = y * bn.weight.view({1, C, 1, 1}) + bn.bias.view({1, C, 1, 1});
  if (o.track_running_stats()) {
    torch::NoGradGuard no_grad;
    bn.num_batches_tracked.add_(1);
    // momentum unset: the cumulative average, as BatchNorm does.
    const double f = o.momentum() ? *o.momentum() : 1.0 / bn.num_batches_tracked.item<double>();
    const double unbias = m > 1 ? m / (m - 1) : 1.0;
    bn.running_mean.mul_(1 - f).add_(mean.to(bn.running_mean.dtype()), f);
    bn.running_var.mul_(1 - f).add_((var * unbias).to(bn.running_var.dtype()), f);
  }
  return y;
}

}  // namespace vg
