#include "vesselgan/seg/spatial_attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace vg {
namespace {

TEST(SpatialAttention, MultipliesBySigmoidOfConvOverChannelMeanAndMax) {
  torch::manual_seed(0);
  SpatialAttention att;
  ASSERT_EQ(att->conv->weight.sizes(), torch::IntArrayRef({1, 2, 7, 7}));
  EXPECT_FALSE(att->conv->bias.defined());
  {
    torch::NoGradGuard no_grad;
    att->conv->weight.zero_();
    att->conv->weight[0][0][3][3] = 1.0;   // channel mean at the pixel
    att->conv->weight[0][1][3][3] = -0.5;  // channel max at the pixel
    att->conv->weight[0][0][3][4] = 0.25;  // channel mean one column to the right (zero outside the map)
  }
  const torch::Tensor x = torch::randn({2, 3, 5, 6});
  const torch::Tensor y = att->forward(x);
  ASSERT_EQ(y.sizes(), x.sizes());
  auto a = x.accessor<float, 4>();
  auto b = y.accessor<float, 4>();
  auto mean_at = [&](int64_t n, int64_t r, int64_t c) {
    return (a[n][0][r][c] + a[n][1][r][c] + a[n][2][r][c]) / 3.0;
  };
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t r = 0; r < 5; ++r)
      for (int64_t c = 0; c < 6; ++c) {
        const double mx = std::max({a[n][0][r][c], a[n][1][r][c], a[n][2][r][c]});
        const double right = c + 1 < 6 ? mean_at(n, r, c + 1) : 0.0;
        const double logit = mean_at(n, r, c) - 0.5 * mx + 0.25 * right;
        const double m = 1.0 / (1.0 + std::exp(-logit));
        for (int64_t ch = 0; ch < 3; ++ch)
          EXPECT_NEAR(b[n][ch][r][c], a[n][ch][r][c] * m, 1e-5) << n << "," << ch << "," << r << "," << c;
      }
}

TEST(SpatialAttention, MapIsOneChannelInUnitInterval) {
  torch::manual_seed(1);
  SpatialAttention att;
  const torch::Tensor m = att->attention_map(torch::randn({2, 8, 9, 7}));
  ASSERT_EQ(m.sizes(), torch::IntArrayRef({2, 1, 9, 7}));
  EXPECT_GT(m.min().item<double>(), 0.0);
  EXPECT_LT(m.max().item<double>(), 1.0);
}

TEST(SpatialAttention, HasNinetyEightParameters) {
  SpatialAttention att;
  int64_t n = 0;
  for (const auto& p : att->parameters()) n += p.numel();
  EXPECT_EQ(n, 2 * 7 * 7);  // 2 -> 1 channel 7x7 kernel, no bias
}

}  // namespace
}  // namespace vg
