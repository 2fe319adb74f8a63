#include "vesselgan/pipeline/error_map.h"

#include <gtest/gtest.h>

namespace vg {

TEST(ErrorMap, ColoursHitsMissesFalseVesselsAndTheOutsideOfTheFov) {
  // Pixels: hit, miss, false vessel, correct background, outside the FOV (a predicted vessel there).
  const auto prob = torch::tensor({0.9f, 0.1f, 0.8f, 0.2f, 0.9f}).reshape({1, 1, 5});
  const auto label = torch::tensor({1.f, 1.f, 0.f, 0.f, 1.f}).reshape({1, 1, 5});
  const auto mask = torch::tensor({1.f, 1.f, 1.f, 1.f, 0.f}).reshape({1, 1, 5});
  const auto m = error_map(prob, label, mask);
  ASSERT_EQ(m.sizes(), torch::IntArrayRef({3, 1, 5}));
  auto rgb = [&](int x) { return std::vector<float>{m[0][0][x].item<float>(), m[1][0][x].item<float>(), m[2][0][x].item<float>()}; };
  EXPECT_EQ(rgb(0), (std::vector<float>{1, 1, 1}));
  EXPECT_LT(rgb(1)[0], rgb(1)[2]);  // missed: blue
  EXPECT_GT(rgb(2)[0], rgb(2)[2]);  // false: red
  EXPECT_EQ(rgb(3), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(rgb(4), (std::vector<float>{0.25f, 0.25f, 0.25f}));
  EXPECT_TRUE(error_map(prob, label, torch::Tensor())[0][0][4].item<float>() == 1);  // no mask: all FOV
}

}  // namespace vg
