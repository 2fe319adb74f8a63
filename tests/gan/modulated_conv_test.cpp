#include "vesselgan/gan/modulated_conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vesselgan/gan/fir_filter.h"

namespace vg {
namespace {

namespace F = torch::nn::functional;

// Per-sample reference written from the definitions (Karras 2020, eqs. 1 and 3) with plain conv2d:
// up = 1: correlation with the sample's weight, padding k / 2.
// up = 2: zero insertion, a full true convolution with the weight (= stylegan2-ada-pytorch's transposed
// convolution), then the FIR [1,3,3,1] filter with gain 4 and one sample of padding on every side.
torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& styles,
                        bool demodulate, int64_t up) {
  const int64_t k = weight.size(2);
  std::vector<torch::Tensor> outs;
  for (int64_t n = 0; n < x.size(0); ++n) {
    auto w = weight * styles[n].view({1, -1, 1, 1});
    if (demodulate) w = w / (w.square().sum({1, 2, 3}, /*keepdim=*/true) + 1e-8).sqrt();
    auto xn = x.slice(0, n, n + 1);
    if (up == 1) {
      outs.push_back(F::conv2d(xn, w, F::Conv2dFuncOptions().padding(k / 2)));
      continue;
    }
    auto u = torch::zeros({1, x.size(1), 2 * x.size(2) - 1, 2 * x.size(3) - 1});
    u.slice(2, 0, u.size(2), 2).slice(3, 0, u.size(3), 2).copy_(xn);
    auto y = F::conv2d(u, w.flip({2, 3}), F::Conv2dFuncOptions().padding(k - 1));  // [1, O, 2H + k - 2, ..]
    auto f = (fir_kernel() * 4).view({1, 1, 4, 4}).repeat({y.size(1), 1, 1, 1});
    y = F::conv2d(F::pad(y, F::PadFuncOptions({1, 1, 1, 1})), f, F::Conv2dFuncOptions().groups(y.size(1)));
    outs.push_back(y);
  }
  return torch::cat(outs, 0);
}

TEST(ModulatedConv2d, EqualsPerSampleConvolutionWithScaledWeights) {
  torch::manual_seed(0);
  const auto x = torch::randn({3, 4, 6, 6});
  const auto weight = torch::randn({5, 4, 3, 3});
  const auto styles = torch::randn({3, 4});
  for (int64_t up : {1, 2}) {
    for (bool demod : {true, false}) {
      const auto want = reference(x, weight, styles, demod, up);
      ASSERT_EQ(want.sizes(), torch::IntArrayRef({3, 5, 6 * up, 6 * up}));
      for (bool fused : {true, false}) {
        const auto got = modulated_conv2d(x, weight, styles, demod, up, fir_kernel(), fused);
        ASSERT_EQ(got.sizes(), want.sizes());
        EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5))
            << "up " << up << " demod " << demod << " fused " << fused << " max diff "
            << (got - want).abs().max().item<double>();
      }
    }
  }
}

TEST(ModulatedConv2d, OneByOneWithoutDemodulationIsAPerSampleMatrixProduct) {
  torch::manual_seed(1);
  const auto x = torch::randn({2, 3, 4, 4});
  const auto weight = torch::randn({2, 3, 1, 1});
  const auto styles = torch::randn({2, 3});
  const auto y = modulated_conv2d(x, weight, styles, /*demodulate=*/false);
  // y[n, o, p] = sum_i weight[o, i] * styles[n, i] * x[n, i, p]
  const auto want = torch::einsum("oi,ni,nihw->nohw", {weight.view({2, 3}), styles, x});
  EXPECT_TRUE(torch::allclose(y, want, 1e-5, 1e-6));
}

TEST(ModulatedConv2d, DemodulationKeepsUnitVarianceForUnitVarianceInput) {
  // Karras 2020, eq. 2: with iid unit-variance input the output variance is sum w''^2 = 1 for every sample
  // and channel, whatever the style scale. Interior pixels only (the zero padding lowers the border).
  torch::manual_seed(2);
  const auto x = torch::randn({4, 256, 12, 12});
  const auto weight = torch::randn({32, 256, 3, 3});
  const auto styles = torch::randn({4, 256}) * 5.0 + 3.0;
  for (bool fused : {true, false}) {
    const auto y = modulated_conv2d(x, weight, styles, true, 1, {}, fused).slice(2, 1, 11).slice(3, 1, 11);
    const double var = y.square().mean().item<double>();
    EXPECT_NEAR(var, 1.0, 0.1) << "fused " << fused;
    // Without demodulation the scale follows the styles: far from 1.
    const auto raw = modulated_conv2d(x, weight, styles, false, 1, {}, fused);
    EXPECT_GT(raw.square().mean().item<double>(), 100.0);
  }
}

TEST(ModulatedConv2d, GradientsAgreeBetweenFusedAndUnfused) {
  torch::manual_seed(3);
  auto x = torch::randn({2, 3, 5, 5}, torch::requires_grad());
  auto weight = torch::randn({4, 3, 3, 3}, torch::requires_grad());
  auto styles = torch::randn({2, 3}, torch::requires_grad());
  const auto probe = torch::randn({2, 4, 10, 10});
  std::vector<torch::Tensor> grads[2];
  for (int fused = 0; fused < 2; ++fused) {
    const auto y = modulated_conv2d(x, weight, styles, true, 2, fir_kernel(), fused == 1);
    grads[fused] = torch::autograd::grad({(y * probe).sum()}, {x, weight, styles});
  }
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-4, 1e-5)) << i;
}

}  // namespace
}  // namespace vg
