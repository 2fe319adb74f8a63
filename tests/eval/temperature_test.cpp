#include "vesselgan/eval/temperature.h"

#include <torch/torch.h>

#include "test_support.h"

namespace vg {

namespace {

// Pixels whose true vessel probability is sigmoid(z), with labels drawn from it, reported by a model whose
// logits are z * k: overconfident for k > 1, so the right temperature is k.
std::pair<torch::Tensor, torch::Tensor> reported(double k, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor z = torch::randn({n}, torch::kDouble) * 2.5;
  const torch::Tensor y = (torch::rand({n}, torch::kDouble) < torch::sigmoid(z)).to(torch::kFloat);
  return {torch::sigmoid(z * k).to(torch::kFloat), y};
}

}  // namespace

TEST(Temperature, RecoversTheTemperatureOfAnOverOrUnderconfidentModel) {
  for (const double k : {0.5, 1.0, 2.0, 4.0}) {
    const auto [p, y] = reported(k, 200000, 3);
    const TemperatureFit f = fit_temperature(p, y);
    EXPECT_NEAR(f.temperature, k, 0.05 * k) << "k " << k;
    EXPECT_LE(f.nll_after, f.nll_before + 1e-12);
    EXPECT_EQ(f.pixels, 200000);
  }
}

TEST(Temperature, KeepsTheHalfPointAndTheOrderOfProbabilities) {
  const torch::Tensor p = torch::tensor({0.01f, 0.2f, 0.5f, 0.7f, 0.999f});
  const torch::Tensor q = apply_temperature(p, 2.5);
  EXPECT_NEAR(q[2].item<float>(), 0.5f, 1e-6);
  EXPECT_TRUE((q.slice(0, 1) > q.slice(0, 0, -1)).all().item<bool>());  // still increasing
  EXPECT_GT(q[0].item<float>(), p[0].item<float>());  // T > 1 pulls toward 0.5
  EXPECT_LT(q[4].item<float>(), p[4].item<float>());
  EXPECT_TRUE(torch::equal(apply_temperature(p, 1.0), p));
}

TEST(Temperature, RefusesPixelsOfOneClassOrNone) {
  EXPECT_NE(test::user_error([] { fit_temperature(torch::rand({10}), torch::zeros({10})); }).find("background"),
            std::string::npos);
  EXPECT_NE(test::user_error([] { fit_temperature(torch::rand({0}), torch::zeros({0})); }).find("none"),
            std::string::npos);
}

}  // namespace vg
