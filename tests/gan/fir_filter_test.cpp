#include "vesselgan/gan/fir_filter.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

namespace vg {
namespace {

// upfirdn2d by its definition, with loops in double precision: zero insertion, pad (negative crops), true
// convolution (out[o] = sum_j padded[o + j] * k[kh - 1 - j]), keep every down-th sample.
torch::Tensor upfirdn2d_by_definition(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up,
                                      int64_t down, std::array<int64_t, 4> pad) {
  const auto xd = x.to(torch::kDouble), kd = kernel.to(torch::kDouble);
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t kh = kernel.size(0), kw = kernel.size(1);
  const int64_t ph = h * up + pad[2] + pad[3], pw = w * up + pad[0] + pad[1];
  const int64_t oh = (ph - kh + 1 + down - 1) / down, ow = (pw - kw + 1 + down - 1) / down;
  auto out = torch::zeros({n, c, oh, ow}, torch::kDouble);
  auto xa = xd.accessor<double, 4>();
  auto ka = kd.accessor<double, 2>();
  auto oa = out.accessor<double, 4>();
  // Value of the padded, zero-inserted signal at (r, s).
  auto padded = [&](int64_t b, int64_t ch, int64_t r, int64_t s) {
    const int64_t ur = r - pad[2], us = s - pad[0];  // position in the upsampled signal
    if (ur < 0 || us < 0 || ur >= h * up || us >= w * up || ur % up != 0 || us % up != 0) return 0.0;
    return xa[b][ch][ur / up][us / up];
  };
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = 0;
          for (int64_t u = 0; u < kh; ++u)
            for (int64_t v = 0; v < kw; ++v)
              acc += padded(b, ch, i * down + u, j * down + v) * ka[kh - 1 - u][kw - 1 - v];
          oa[b][ch][i][j] = acc * static_cast<double>(up * up);
        }
  return out.to(torch::kFloat);
}

// upfirdn2d from plain differentiable LibTorch ops (zero insertion by padding a 6-D view, pad, depthwise
// correlation with the flipped kernel, subsampling), so that LibTorch's own autograd gives the reference
// gradients for upfirdn2d's hand-written backward.
torch::Tensor upfirdn2d_autograd_reference(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up,
                                           int64_t down, std::array<int64_t, 4> pad) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto u = torch::constant_pad_nd(x.view({n, c, h, 1, w, 1}), {0, up - 1, 0, 0, 0, up - 1})
               .view({n, c, h * up, w * up});
  u = torch::constant_pad_nd(u, {pad[0], pad[1], pad[2], pad[3]});
  const auto k =
      (kernel * static_cast<double>(up * up)).flip({0, 1}).view({1, 1, kernel.size(0), kernel.size(1)});
  auto y = torch::nn::functional::conv2d(u, k.repeat({c, 1, 1, 1}),
                                         torch::nn::functional::Conv2dFuncOptions().groups(c));
  return y.slice(2, 0, y.size(2), down).slice(3, 0, y.size(3), down);
}

TEST(FirKernel, IsTheNormalizedOuterProductOfTheTaps) {
  const auto k = fir_kernel();
  ASSERT_EQ(k.sizes(), torch::IntArrayRef({4, 4}));
  EXPECT_NEAR(k.sum().item<double>(), 1.0, 1e-7);
  EXPECT_NEAR(k[0][0].item<double>(), 1.0 / 64, 1e-9);
  EXPECT_NEAR(k[1][2].item<double>(), 9.0 / 64, 1e-9);
  EXPECT_NEAR(k[0][1].item<double>(), 3.0 / 64, 1e-9);
  EXPECT_NEAR(fir_kernel({1, 1})[0][0].item<double>(), 0.25, 1e-9);
}

TEST(Upsample2d, ImpulseGivesTheScaledKernelAtHandComputedPlace) {
  // 1-D: an impulse at i0 upsampled by 2 through [1, 3, 3, 1] / 8 with gain 2 per axis lands on samples
  // 2 i0 - 1 .. 2 i0 + 2 as [0.25, 0.75, 0.75, 0.25]. In 2-D the outer product.
  auto x = torch::zeros({1, 1, 6, 6});
  x[0][0][2][3] = 1.0;
  const auto y = upsample2d(x, fir_kernel());
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 1, 12, 12}));
  const std::vector<double> a = {0.25, 0.75, 0.75, 0.25};
  auto expected = torch::zeros({12, 12});
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) expected[3 + i][5 + j] = a[i] * a[j];
  EXPECT_TRUE(torch::allclose(y[0][0], expected, 1e-6, 1e-7)) << y[0][0];
}

TEST(Downsample2d, ImpulseGivesHandComputedTaps) {
  // 1-D: pad 1, filter, keep even samples: out[o] = f[i0 + 1 - 2 o]. i0 = 4 -> out[1] = 1/8, out[2] = 3/8;
  // i0 = 2 -> out[0] = 1/8, out[1] = 3/8.
  auto x = torch::zeros({1, 1, 8, 8});
  x[0][0][4][2] = 1.0;
  const auto y = downsample2d(x, fir_kernel());
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 1, 4, 4}));
  auto expected = torch::zeros({4, 4});
  expected[1][0] = 1.0 / 64;
  expected[1][1] = 3.0 / 64;
  expected[2][0] = 3.0 / 64;
  expected[2][1] = 9.0 / 64;
  EXPECT_TRUE(torch::allclose(y[0][0], expected, 1e-6, 1e-8)) << y[0][0];
}

TEST(Upfirdn2d, KeepsAConstantImageConstantAwayFromBorders) {
  const auto x = torch::full({2, 3, 8, 8}, 2.5);
  const auto up = upsample2d(x, fir_kernel());
  ASSERT_EQ(up.sizes(), torch::IntArrayRef({2, 3, 16, 16}));
  EXPECT_TRUE(
      torch::allclose(up.slice(2, 2, 14).slice(3, 2, 14), torch::full({2, 3, 12, 12}, 2.5), 1e-6, 1e-6));
  const auto down = downsample2d(x, fir_kernel());
  ASSERT_EQ(down.sizes(), torch::IntArrayRef({2, 3, 4, 4}));
  EXPECT_TRUE(
      torch::allclose(down.slice(2, 1, 3).slice(3, 1, 3), torch::full({2, 3, 2, 2}, 2.5), 1e-6, 1e-6));
  // At a border the zero padding shows: the corner of the downsampled image sees 3x3 of the 4x4 taps.
  EXPECT_NEAR(down[0][0][0][0].item<double>(), 2.5 * 49.0 / 64, 1e-5);
}

TEST(Upfirdn2d, MatchesItsDefinitionForAsymmetricKernelsAndPads) {
  torch::manual_seed(0);
  const auto x = torch::randn({2, 3, 5, 4});
  const auto kernel = torch::randn({3, 2});  // not symmetric, not square: catches flips and transposes
  struct Case {
    int64_t up, down;
    std::array<int64_t, 4> pad;
  };
  for (const Case& c : std::vector<Case>{{1, 1, {1, 0, 2, 1}},
                                         {2, 1, {2, 0, 1, 3}},
                                         {2, 1, {-1, 1, 0, -2}},
                                         {1, 2, {1, 2, 0, 1}},
                                         {2, 2, {1, 1, 1, 1}},
                                         {3, 1, {0, 0, 0, 0}}}) {
    const auto got = upfirdn2d(x, kernel, c.up, c.down, c.pad);
    const auto want = upfirdn2d_by_definition(x, kernel, c.up, c.down, c.pad);
    ASSERT_EQ(got.sizes(), want.sizes()) << "up " << c.up << " down " << c.down;
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << "up " << c.up << " down " << c.down;
  }
}

TEST(Upfirdn2d, FirstAndSecondDerivativesMatchLibTorchAutograd) {
  // The custom backward (the adjoint resampling) against LibTorch's autograd of the plain-ops reference, for
  // gradients (dL/dx) and gradients of a gradient norm (as R1 and path-length regularization need).
  torch::manual_seed(1);
  const auto x0 = torch::randn({2, 3, 6, 5});
  const auto kernel = torch::randn({4, 3});
  struct Case {
    int64_t up, down;
    std::array<int64_t, 4> pad;
  };
  for (const Case& c : std::vector<Case>{
           {2, 1, {2, 1, 2, 1}}, {1, 2, {1, 1, 2, 1}}, {2, 2, {0, 1, -1, 2}}, {1, 1, {3, -1, 0, 2}}}) {
    std::vector<torch::Tensor> first, second;
    for (int ref = 0; ref < 2; ++ref) {
      auto x = x0.clone().requires_grad_(true);
      const auto y = ref ? upfirdn2d_autograd_reference(x, kernel, c.up, c.down, c.pad)
                         : upfirdn2d(x, kernel, c.up, c.down, c.pad);
      const auto probe = torch::linspace(-1, 1, y.numel()).view(y.sizes());
      const auto g = torch::autograd::grad({(y * y * probe).sum()}, {x}, {}, true, /*create_graph=*/true)[0];
      first.push_back(g);
      second.push_back(torch::autograd::grad({g.square().sum()}, {x})[0]);
    }
    const std::string what = "up " + std::to_string(c.up) + " down " + std::to_string(c.down);
    ASSERT_EQ(first[0].sizes(), x0.sizes()) << what;
    EXPECT_TRUE(torch::allclose(first[0], first[1], 1e-4, 1e-5)) << what;
    EXPECT_TRUE(torch::allclose(second[0], second[1], 1e-4, 1e-4)) << what;
    EXPECT_GT(second[0].abs().sum().item<double>(), 0.0) << what;
  }
}

}  // namespace
}  // namespace vg
