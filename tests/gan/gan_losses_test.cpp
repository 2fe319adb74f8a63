#include "vesselgan/gan/gan_losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace {

namespace F = torch::nn::functional;
const auto kD = torch::TensorOptions().dtype(torch::kDouble);

double softplus(double x) { return std::log1p(std::exp(x)); }

TEST(GanLosses, GeneratorLossIsMeanSoftplusOfMinusLogits) {
  const torch::Tensor fake = torch::tensor({0.0, 2.0, -1.0}, kD);
  const double expected = (std::log(2.0) + softplus(-2.0) + softplus(1.0)) / 3;
  EXPECT_NEAR(vg::generator_loss(fake).item<double>(), expected, 1e-12);
}

TEST(GanLosses, DiscriminatorLossAddsFakeAndRealTerms) {
  const torch::Tensor real = torch::tensor({1.0, 3.0}, kD);
  const torch::Tensor fake = torch::tensor({-2.0, 0.5, 0.0, 1.0}, kD);
  const double expected = (softplus(-2.0) + softplus(0.5) + std::log(2.0) + softplus(1.0)) / 4 +
                          (softplus(-1.0) + softplus(-3.0)) / 2;
  EXPECT_NEAR(vg::discriminator_loss(real, fake).item<double>(), expected, 1e-12);
  // At logits 0 both terms are log 2.
  EXPECT_NEAR(vg::discriminator_loss(torch::zeros({3}), torch::zeros({3})).item<double>(), 2 * std::log(2.0),
              1e-6);
}

TEST(GanLosses, R1GammaAuto) {
  EXPECT_DOUBLE_EQ(vg::r1_gamma_auto(256, 64), 0.2048);
  EXPECT_DOUBLE_EQ(vg::r1_gamma_auto(1024, 32), 6.5536);
  EXPECT_DOUBLE_EQ(vg::r1_gamma_auto(64, 32), 0.0256);
}

// A fixed tiny discriminator: logits = sum over pixels of tanh(conv(x, w)).
torch::Tensor tiny_d(const torch::Tensor& x, const torch::Tensor& w) {
  return torch::tanh(F::conv2d(x, w, F::Conv2dFuncOptions().padding(1))).sum({1, 2, 3});
}

TEST(GanLosses, R1IsTheSquaredInputGradientPerSample) {
  torch::manual_seed(0);
  const torch::Tensor x0 = torch::randn({3, 2, 5, 5}, kD);
  const torch::Tensor w = torch::randn({2, 2, 3, 3}, kD) * 0.4;
  const torch::Tensor x = x0.clone().requires_grad_(true);
  const torch::Tensor r1 = vg::r1_penalty(tiny_d(x, w), x);
  ASSERT_EQ(r1.sizes(), (std::vector<int64_t>{3}));
  // Finite-difference gradient of sample 1's logit with respect to its pixels, squared and summed.
  const double eps = 1e-6;
  double expected = 0;
  for (int64_t i = 0; i < x0[1].numel(); ++i) {
    torch::Tensor xp = x0.clone(), xm = x0.clone();
    xp[1].view(-1)[i] += eps;
    xm[1].view(-1)[i] -= eps;
    const double g = (tiny_d(xp, w)[1].item<double>() - tiny_d(xm, w)[1].item<double>()) / (2 * eps);
    expected += g * g;
  }
  EXPECT_NEAR(r1[1].item<double>(), expected, 1e-7 * (1 + expected));
  EXPECT_TRUE(r1.requires_grad());  // create_graph: it can be minimized
}

TEST(GanLosses, R1GradientWithRespectToDWeightsMatchesFiniteDifference) {
  torch::manual_seed(1);
  const torch::Tensor x0 = torch::randn({2, 2, 4, 4}, kD);
  const torch::Tensor w0 = torch::randn({2, 2, 3, 3}, kD) * 0.4;
  auto r1_sum = [&](const torch::Tensor& w) {
    const torch::Tensor x = x0.clone().requires_grad_(true);
    return vg::r1_penalty(tiny_d(x, w), x).sum();
  };
  const torch::Tensor w = w0.clone().requires_grad_(true);
  r1_sum(w).backward();
  const double eps = 1e-6;
  for (int64_t flat : {0, 11, 35}) {
    torch::Tensor wp = w0.clone(), wm = w0.clone();
    wp.view(-1)[flat] += eps;
    wm.view(-1)[flat] -= eps;
    const double fd = (r1_sum(wp).item<double>() - r1_sum(wm).item<double>()) / (2 * eps);
    const double a = w.grad().view(-1)[flat].item<double>();
    EXPECT_NEAR(a, fd, 1e-6 * (1 + std::abs(a)));
  }
}

TEST(PathLengthPenalty, LinearMapHasItsJacobianNormOfTheNoise) {
  // images[n] = A^T mean_k ws[n, k] reshaped: J^T y = A y / num_ws for every w row, so the length is
  // sqrt(mean_k ||A y / num_ws||^2) = ||A y|| / num_ws, with y the noise the penalty draws.
  torch::manual_seed(2);
  const int64_t N = 3, num_ws = 2, w_dim = 5, H = 4, W = 4;
  const torch::Tensor A = torch::randn({w_dim, H * W}).requires_grad_(true);  // stands in for G's weights
  const torch::Tensor ws = torch::randn({N, num_ws, w_dim}).requires_grad_(true);
  const torch::Tensor images = torch::matmul(ws.mean(1), A).view({N, 1, H, W});

  vg::PathLengthPenalty pl;  // decay 0.01
  torch::manual_seed(3);
  const torch::Tensor pen = pl(images, ws);
  torch::manual_seed(3);
  const torch::Tensor y = torch::randn({N, 1, H, W}) / 4.0;  // the same draw: randn_like(images) / sqrt(16)
  const torch::Tensor At = A.detach().t();
  const torch::Tensor lengths = torch::matmul(y.view({N, H * W}), At).norm(2, 1) / num_ws;
  const double a = 0.01 * lengths.mean().item<double>();  // from a = 0
  EXPECT_NEAR(pl.pl_mean().item<double>(), a, 1e-6);
  EXPECT_TRUE(torch::allclose(pen, (lengths - a).square(), 1e-5, 1e-6));
  EXPECT_TRUE(pen.requires_grad());  // create_graph: differentiable with respect to A

  // Second call: the running mean moves 1% of the way to the new batch mean.
  torch::manual_seed(4);
  pl(images, ws);
  torch::manual_seed(4);
  const torch::Tensor y2 = torch::randn({N, 1, H, W}) / 4.0;
  const double m2 = (torch::matmul(y2.view({N, H * W}), At).norm(2, 1) / num_ws).mean().item<double>();
  EXPECT_NEAR(pl.pl_mean().item<double>(), a + 0.01 * (m2 - a), 1e-6);
}

TEST(PathLengthPenalty, ScaledIdentityHasLengthNearTheScale) {
  // A = s I on H*W = w_dim pixels: ||J^T y|| = s ||y|| with E||y||^2 = 1, so lengths concentrate at s.
  torch::manual_seed(5);
  const int64_t N = 64, side = 16;
  const double s = 3.0;
  const torch::Tensor ws = torch::randn({N, 1, side * side}).requires_grad_(true);
  const torch::Tensor images = (ws.select(1, 0) * s).view({N, 1, side, side});
  vg::PathLengthPenalty pl(1.0);  // decay 1: a = this batch's mean length
  pl(images, ws);
  EXPECT_NEAR(pl.pl_mean().item<double>(), s, 0.05 * s);
}

TEST(PathLengthPenalty, PlMeanRestores) {
  vg::PathLengthPenalty pl;
  pl.set_pl_mean(torch::tensor(1.5));
  EXPECT_FLOAT_EQ(pl.pl_mean().item<float>(), 1.5f);
  EXPECT_THROW(pl.set_pl_mean(torch::ones({2})), c10::Error);
}

}  // namespace
