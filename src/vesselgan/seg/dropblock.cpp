#include "vesselgan/seg/dropblock.h"

#include <algorithm>
#include <cmath>

#include "vesselgan/dist/batch_shard.h"

namespace vg {

double dropblock_gamma(double keep_prob, int64_t block_size, int64_t height, int64_t width) {
  TORCH_CHECK(block_size >= 1 && block_size <= height && block_size <= width, "dropblock_gamma: block ",
              block_size, " does not fit a ", height, "x", width, " map");
  // Ghiasi 2018, eq. 1: seeds fall only where a whole block fits, so the seed rate is raised by the ratio of
  // the map area to the valid seed area.
  const double bs2 = static_cast<double>(block_size * block_size);
  const double valid = static_cast<double>((height - block_size + 1) * (width - block_size + 1));
  return (1.0 - keep_prob) / bs2 * static_cast<double>(height * width) / valid;
}

torch::Tensor block_mask_from_seeds(const torch::Tensor& seeds, int64_t block_size) {
  // seeds: [N, C, H - bs + 1, W - bs + 1] in {0, 1}
  TORCH_CHECK(seeds.dim() == 4, "block_mask_from_seeds: seeds must be [N, C, Hs, Ws], got ", seeds.sizes());
  TORCH_CHECK(block_size >= 1, "block_mask_from_seeds: block_size must be >= 1, got ", block_size);
  const int64_t p = block_size - 1;
  // Zero padding of bs - 1 on every side, then a valid bs x bs max pool, puts at pixel (r, c) the max over
  // the seeds (i, j) with r - bs < i <= r and c - bs < j <= c: exactly the peer's pad(bs / 2) followed by
  // its pool(bs, padding bs / 2). The bs x bs max is separable: max over rows of the max over columns.
  const torch::Tensor padded = torch::constant_pad_nd(seeds, {p, p, p, p}, 0);
  const torch::Tensor rows = torch::max_pool2d(padded, {1, block_size}, {1, 1});
  return torch::max_pool2d(rows, {block_size, 1}, {1, 1});
}

torch::Tensor paint_blocks(const torch::Tensor& seed_index, torch::IntArrayRef shape, int64_t block_size,
                           const torch::TensorOptions& options, torch::MemoryFormat format) {
  TORCH_CHECK(shape.size() == 4, "paint_blocks: shape must be [N, C, H, W], got ", shape);
  TORCH_CHECK(format == torch::MemoryFormat::Contiguous || format == torch::MemoryFormat::ChannelsLast,
              "paint_blocks: format must be Contiguous or ChannelsLast, got ", format);
  const int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
  TORCH_CHECK(block_size >= 1 && block_size <= h && block_size <= w, "paint_blocks: block ", block_size,
              " does not fit a ", h, "x", w, " map");
  TORCH_CHECK(seed_index.dim() == 1 && seed_index.scalar_type() == torch::kLong,
              "paint_blocks: seed_index must be int64 [K], got ", seed_index.scalar_type(), " ",
              seed_index.sizes());
  const bool channels_last = format == torch::MemoryFormat::ChannelsLast;
  const auto plain = options.memory_format(torch::MemoryFormat::Contiguous);
  // The keep map in its storage order: [N, C, H, W] or, for channels-last, [N, H, W, C].
  torch::Tensor keep = channels_last ? torch::ones({n, h, w, c}, plain) : torch::ones({n, c, h, w}, plain);
  if (seed_index.numel() > 0) {
    const int64_t hs = h - block_size + 1, ws = w - block_size + 1;
    // Seed (plane, i, j) of the [N*C, hs, ws] grid -> storage offset of its block's top-left pixel.
    const torch::Tensor plane = torch::div(seed_index, hs * ws, "trunc");
    const torch::Tensor rest = seed_index - plane * (hs * ws);
    const torch::Tensor row = torch::div(rest, ws, "trunc");
    const torch::Tensor pixel = row * w + (rest - row * ws);  // i * W + j
    const torch::Tensor r = torch::arange(block_size, seed_index.options());
    torch::Tensor corner, offsets;  // offsets of the bs x bs block's pixels from its top-left pixel
    if (channels_last) {
      const torch::Tensor image = torch::div(plane, c, "trunc");
      corner = image * (h * w * c) + pixel * c + (plane - image * c);
      offsets = (r.unsqueeze(1) * w + r.unsqueeze(0)) * c;
    } else {
      corner = plane * (h * w) + pixel;
      offsets = r.unsqueeze(1) * w + r.unsqueeze(0);
    }
    keep.view({-1}).index_fill_(0, (corner.unsqueeze(1) + offsets.reshape({1, -1})).reshape({-1}), 0);
  }
  return channels_last ? keep.permute({0, 3, 1, 2}) : keep;
}

torch::Tensor sample_bernoulli_indices(int64_t count, double gamma, const torch::Device& device) {
  TORCH_CHECK(gamma > 0.0 && gamma < 1.0, "sample_bernoulli_indices: gamma must be in (0, 1), got ", gamma);
  const auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  if (count <= 0) return torch::empty({0}, opts);
  // The gaps between successes of iid Bernoulli(gamma) trials are iid Geometric(gamma) (support 1, 2, ...),
  // so the cumulative sums of geometric draws are the (1-based) success positions. Draw the expected
  // number of successes plus six standard deviations; in the rare case that falls short, draw more.
  const double mean = static_cast<double>(count) * gamma;
  const auto chunk = static_cast<int64_t>(std::ceil(mean + 6.0 * std::sqrt(mean * (1.0 - gamma)) + 16.0));
  std::vector<torch::Tensor> parts{torch::empty({chunk}, opts).geometric_(gamma).cumsum(0)};
  int64_t last = parts.back()[-1].item<int64_t>();
  while (last < count) {
    parts.push_back(torch::empty({chunk}, opts).geometric_(gamma).cumsum(0).add_(last));
    last = parts.back()[-1].item<int64_t>();
  }
  const torch::Tensor positions = parts.size() == 1 ? parts[0] : torch::cat(parts);
  const int64_t inside = (positions <= count).sum().item<int64_t>();
  return positions.slice(0, 0, inside).sub_(1);
}

torch::Tensor dropblock_keep_mask(torch::IntArrayRef shape, int64_t block_size, double keep_prob,
                                  const torch::TensorOptions& options, DropBlockSampler sampler,
                                  torch::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(shape.size() == 4, "dropblock_keep_mask: shape must be [N, C, H, W], got ", shape);
  TORCH_CHECK(block_size >= 1, "dropblock_keep_mask: block_size must be >= 1, got ", block_size);
  TORCH_CHECK(keep_prob > 0.0, "dropblock_keep_mask: keep_prob must be in (0, 1], got ", keep_prob);
  const auto laid_out = options.memory_format(format);
  if (keep_prob >= 1.0) return torch::ones(shape, laid_out);
  const int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
  TORCH_CHECK(h >= 1 && w >= 1, "dropblock_keep_mask: empty map ", shape);
  const int64_t bs = std::min({block_size, h, w});  // a map smaller than the block gets one that fits
  const double gamma = dropblock_gamma(keep_prob, bs, h, w);
  const int64_t hs = h - bs + 1, ws = w - bs + 1;
  if (sampler == DropBlockSampler::kAuto) {
    sampler = options.device().is_cpu() ? DropBlockSampler::kSparse : DropBlockSampler::kDense;
  }
  if (sampler == DropBlockSampler::kSparse) {
    const torch::Tensor seeds = sample_bernoulli_indices(n * c * hs * ws, gamma, options.device());
    return paint_blocks(seeds, shape, bs, options, format);
  }
  const torch::Tensor u = torch::rand({n, c, hs, ws}, laid_out.dtype(torch::kFloat));
  const torch::Tensor seeds = (u < gamma).to(options.dtype().toScalarType());
  return block_mask_from_seeds(seeds, bs).neg_().add_(1).contiguous(format);
}

DropBlockImpl::DropBlockImpl(const DropBlockOptions& options) : options_(options) {
  TORCH_CHECK(options_.block_size >= 1, "DropBlock: block_size must be >= 1, got ", options_.block_size);
  TORCH_CHECK(options_.keep_prob > 0.0 && options_.keep_prob <= 1.0,
              "DropBlock: keep_prob must be in (0, 1], got ", options_.keep_prob);
}

torch::Tensor DropBlockImpl::forward(const torch::Tensor& x) {
  // x: [N, C, H, W] float
  if (!is_training() || options_.keep_prob >= 1.0) return x;
  TORCH_CHECK(x.dim() == 4, "DropBlock: x must be [N, C, H, W], got ", x.sizes());
  torch::Tensor mask;
  {
    torch::NoGradGuard no_grad;
    // The mask takes the activations' layout so that the multiply streams both alike.
    const torch::MemoryFormat format = x.suggest_memory_format() == torch::MemoryFormat::ChannelsLast
                                           ? torch::MemoryFormat::ChannelsLast
                                           : torch::MemoryFormat::Contiguous;
    // One rank of a data-parallel job draws the mask of the whole global batch and keeps its rows, so the
    // random stream and the masks are those of one process (batch_shard.h).
    std::vector<int64_t> shape = x.sizes().vec();
    if (const BatchShard* shard = active_batch_shard()) {
      TORCH_CHECK(x.size(0) == shard->count, "DropBlock: x has ", x.size(0), " rows, the batch shard ", shard->count);
      shape[0] = shard->total;
    }
    mask = dropblock_keep_mask(shape, options_.block_size, options_.keep_prob, x.options(),
                               DropBlockSampler::kAuto, format);
    // Ghiasi 2018, Algorithm 1, line 7: renormalise by count / count_ones. The scale stays a device tensor
    // (no host synchronisation on CUDA); the sum is in float so that bf16 masks count exactly.
    const torch::Tensor kept = mask.sum(torch::kFloat).clamp_min(1.0);
    mask.mul_(static_cast<double>(mask.numel()) / kept);
    mask = shard_rows(mask);
  }
  return options_.inplace ? x.mul_(mask) : x * mask;
}

}  // namespace vg
