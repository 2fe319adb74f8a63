#include "vesselgan/seg/dropblock.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace vg {
namespace {

namespace F = torch::nn::functional;

// The peer's block mask (sa_unet_reference.py): pad the seeds by bs/2, then a bs x bs max pool with
// padding bs/2. Returns the dropped map [N, C, H, W] in {0, 1}.
torch::Tensor peer_block_mask(const torch::Tensor& seeds, int64_t bs) {
  const torch::Tensor padded = F::pad(seeds, F::PadFuncOptions({bs / 2, bs / 2, bs / 2, bs / 2}));
  return torch::max_pool2d(padded, {bs, bs}, {1, 1}, {bs / 2, bs / 2});
}

// Exact expected dropped fraction of one DropBlock draw on an h x w map: pixel (r, c) is covered by
// n(r) * n(c) possible seeds, each present with probability gamma, independently.
double expected_drop_fraction(int64_t h, int64_t w, int64_t bs, double gamma) {
  auto covering = [bs](int64_t r, int64_t side) {
    const int64_t seeds = side - bs + 1;  // seed rows i in [0, seeds) cover rows i .. i + bs - 1
    return std::min(r, seeds - 1) - std::max<int64_t>(0, r - bs + 1) + 1;
  };
  double sum = 0.0;
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c)
      sum += 1.0 - std::pow(1.0 - gamma, static_cast<double>(covering(r, h) * covering(c, w)));
  return sum / static_cast<double>(h * w);
}

TEST(DropBlock, IsIdentityInEval) {
  torch::manual_seed(0);
  DropBlock drop(DropBlockOptions{7, 0.5});
  drop->eval();
  const torch::Tensor x = torch::rand({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(drop->forward(x), x));
}

TEST(DropBlock, IsIdentityAtKeepProbOne) {
  torch::manual_seed(0);
  DropBlock drop(DropBlockOptions{7, 1.0});
  drop->train();
  const torch::Tensor x = torch::rand({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(drop->forward(x), x));
}

TEST(DropBlock, GammaFollowsGhiasiEquationOne) {
  // (1 - 0.82) / 49 * (64 * 48) / (58 * 42)
  EXPECT_NEAR(dropblock_gamma(0.82, 7, 64, 48), 0.18 / 49.0 * 3072.0 / 2436.0, 1e-15);
  EXPECT_NEAR(dropblock_gamma(0.9, 1, 10, 10), 0.1, 1e-15);  // block 1 = dropout
}

TEST(DropBlock, SeparablePoolingEqualsTwoDimensionalPool) {
  torch::manual_seed(1);
  for (int64_t bs : {1, 3, 7}) {
    const torch::Tensor seeds = (torch::rand({2, 3, 40 - bs + 1, 33 - bs + 1}) < 0.05).to(torch::kFloat);
    const torch::Tensor separable = block_mask_from_seeds(seeds, bs);
    ASSERT_EQ(separable.sizes(), torch::IntArrayRef({2, 3, 40, 33}));
    EXPECT_TRUE(torch::equal(separable, peer_block_mask(seeds, bs))) << "block " << bs;
  }
}

TEST(DropBlock, PaintedBlocksEqualPooledSeeds) {
  torch::manual_seed(2);
  const int64_t bs = 7;
  const torch::Tensor seeds = (torch::rand({2, 4, 50 - bs + 1, 37 - bs + 1}) < 0.01).to(torch::kFloat);
  const torch::Tensor index = torch::nonzero(seeds.reshape({-1})).reshape({-1});
  ASSERT_GT(index.numel(), 10);
  const torch::Tensor keep = paint_blocks(index, {2, 4, 50, 37}, bs, torch::kFloat);
  EXPECT_TRUE(torch::equal(keep, 1 - peer_block_mask(seeds, bs)));
}

TEST(DropBlock, PaintsChannelsLastMasksLikeContiguousOnes) {
  torch::manual_seed(10);
  const int64_t bs = 5;
  const torch::Tensor seeds = (torch::rand({2, 3, 30 - bs + 1, 21 - bs + 1}) < 0.02).to(torch::kFloat);
  const torch::Tensor index = torch::nonzero(seeds.reshape({-1})).reshape({-1});
  const torch::Tensor plain = paint_blocks(index, {2, 3, 30, 21}, bs, torch::kFloat);
  const torch::Tensor last =
      paint_blocks(index, {2, 3, 30, 21}, bs, torch::kFloat, torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(plain.is_contiguous());
  EXPECT_TRUE(last.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(plain, last));
}

TEST(DropBlock, SparseSamplerHasBernoulliRate) {
  torch::manual_seed(3);
  const int64_t count = 2000000;
  const double gamma = 0.004;
  const torch::Tensor index = sample_bernoulli_indices(count, gamma, torch::kCPU);
  // Mean count * gamma = 8000, standard deviation ~ 89: allow 5 sigma.
  EXPECT_NEAR(static_cast<double>(index.numel()), count * gamma, 450.0);
  EXPECT_GE(index.min().item<int64_t>(), 0);
  EXPECT_LT(index.max().item<int64_t>(), count);
  EXPECT_TRUE(torch::all(index.slice(0, 1) > index.slice(0, 0, -1)).item<bool>()) << "strictly ascending";
  // Uniform over the range: the two halves get about the same number of successes.
  const double lower = (index < count / 2).sum().item<double>();
  EXPECT_NEAR(lower / static_cast<double>(index.numel()), 0.5, 0.03);
}

TEST(DropBlock, DropsTheExpectedFractionWithBothSamplers) {
  const int64_t h = 96, w = 80, bs = 7;
  const double keep_prob = 0.82;
  const double expected = expected_drop_fraction(h, w, bs, dropblock_gamma(keep_prob, bs, h, w));
  // Overlapping blocks make the exact fraction a little smaller than 1 - keep_prob.
  EXPECT_NEAR(expected, 1.0 - keep_prob, 0.03);
  for (auto sampler : {DropBlockSampler::kSparse, DropBlockSampler::kDense}) {
    torch::manual_seed(4);
    const torch::Tensor keep = dropblock_keep_mask({8, 16, h, w}, bs, keep_prob, torch::kFloat, sampler);
    ASSERT_EQ(keep.sizes(), torch::IntArrayRef({8, 16, h, w}));
    const double dropped = 1.0 - keep.mean().item<double>();
    // 983,040 pixels in blocks of ~49: the fraction's standard deviation is ~0.002.
    EXPECT_NEAR(dropped, expected, 0.008) << "sampler " << static_cast<int>(sampler);
  }
}

TEST(DropBlock, DroppedPixelsFormWholeBlocks) {
  torch::manual_seed(5);
  const int64_t bs = 7;
  DropBlock drop(DropBlockOptions{bs, 0.82});
  drop->train();
  const torch::Tensor x = torch::rand({2, 4, 64, 48}) + 0.5;  // no zeros of its own
  const torch::Tensor zero = (drop->forward(x) == 0).to(torch::kFloat);
  ASSERT_GT(zero.sum().item<double>(), 0.0);
  // Windows of bs x bs that lie inside the map and are entirely zero (a min pool without padding) ...
  const torch::Tensor full_windows = -torch::max_pool2d(-zero, {bs, bs}, {1, 1});
  // ... spread back over their pixels must cover every zero pixel.
  const torch::Tensor covered = block_mask_from_seeds(full_windows, bs);
  EXPECT_TRUE(torch::equal(covered, zero));
}

TEST(DropBlock, DropsWholeBlocksOfChannelsLastMapsInTheirLayout) {
  torch::manual_seed(11);
  const int64_t bs = 7;
  for (auto sampler : {DropBlockSampler::kSparse, DropBlockSampler::kDense}) {
    const torch::Tensor keep = dropblock_keep_mask({2, 8, 40, 36}, bs, 0.8, torch::kFloat, sampler,
                                                   torch::MemoryFormat::ChannelsLast);
    EXPECT_TRUE(keep.is_contiguous(torch::MemoryFormat::ChannelsLast));
    const torch::Tensor zero = 1 - keep;
    const torch::Tensor full_windows = -torch::max_pool2d(-zero, {bs, bs}, {1, 1});
    EXPECT_TRUE(torch::equal(block_mask_from_seeds(full_windows, bs), zero));
  }
  DropBlock drop(DropBlockOptions{bs, 0.82});
  drop->train();
  const torch::Tensor x = (torch::rand({2, 8, 40, 36}) + 0.5).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(drop->forward(x).is_contiguous(torch::MemoryFormat::ChannelsLast));
}

TEST(DropBlock, PreservesTheMean) {
  torch::manual_seed(6);
  DropBlock drop(DropBlockOptions{7, 0.82});
  drop->train();
  // Constant input: the renormalisation numel / kept makes the mean exact.
  const torch::Tensor c = torch::full({2, 8, 64, 64}, 0.75);
  EXPECT_NEAR(drop->forward(c).mean().item<double>(), 0.75, 1e-5);
  // Random input: equal in expectation.
  const torch::Tensor x = torch::rand({4, 16, 128, 128});
  EXPECT_NEAR(drop->forward(x).mean().item<double>(), x.mean().item<double>(), 0.005);
}

TEST(DropBlock, ScalesKeptPixelsAndGradientsAlike) {
  torch::manual_seed(7);
  DropBlock drop(DropBlockOptions{5, 0.7});
  drop->train();
  const torch::Tensor x = (torch::rand({2, 3, 40, 40}) + 0.5).requires_grad_(true);
  const torch::Tensor y = drop->forward(x);
  y.sum().backward();
  const torch::Tensor kept = y != 0;
  const double scale = static_cast<double>(y.numel()) / kept.sum().item<double>();
  EXPECT_TRUE(torch::allclose(y.detach(), x.detach() * kept * scale, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(x.grad(), kept.to(torch::kFloat) * scale, 1e-6, 1e-6));
}

TEST(DropBlock, InPlaceMatchesOutOfPlace) {
  const torch::Tensor x = torch::rand({2, 3, 32, 32}) + 0.5;
  DropBlock out_of_place(DropBlockOptions{7, 0.8, false});
  DropBlock in_place(DropBlockOptions{7, 0.8, true});
  torch::manual_seed(8);
  const torch::Tensor a = out_of_place->forward(x);
  torch::manual_seed(8);
  torch::Tensor b = x.clone();
  in_place->forward(b);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(DropBlock, UsesAFittingBlockOnMapsSmallerThanTheBlock) {
  torch::manual_seed(9);
  DropBlock drop(DropBlockOptions{7, 0.5});
  drop->train();
  const torch::Tensor x = torch::ones({64, 8, 4, 5});
  const torch::Tensor y = drop->forward(x);
  // Block 4 x 4 on a 4 x 5 map: each plane is whole, or loses columns 0-3 or 1-4 (or both).
  const torch::Tensor col_zero = (y == 0).to(torch::kFloat).amin(2);  // [64, 8, 5]: column fully zero
  EXPECT_TRUE(torch::equal((y == 0).to(torch::kFloat), col_zero.unsqueeze(2).expand_as(y)));
  EXPECT_GT(col_zero.sum().item<double>(), 0.0);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 1e-5);
}

}  // namespace
}  // namespace vg
