#include "vesselgan/eval/cldice.h"

#include <gtest/gtest.h>

namespace vg {
namespace {

torch::Tensor vessels() {
  torch::Tensor m = torch::zeros({32, 32});
  m.slice(0, 4, 8).slice(1, 2, 30).fill_(1);
  m.slice(0, 8, 28).slice(1, 14, 17).fill_(1);
  return m;
}

TEST(ClDice, IsOneForIdenticalMasks) {
  EXPECT_DOUBLE_EQ(cldice(vessels(), vessels(), torch::ones({32, 32})), 1.0);
  EXPECT_DOUBLE_EQ(cldice(vessels(), vessels(), {}), 1.0);
}

TEST(ClDice, HandCheckableHalfLine) {
  // Label: 1-px line of 10 pixels; prediction: its first 5 pixels. Thin lines are their own skeletons:
  // Tprec = 5/5, Tsens = 5/10, clDice = 2 * 1 * 0.5 / 1.5 = 2/3.
  torch::Tensor label = torch::zeros({9, 12}), pred = torch::zeros({9, 12});
  label[4].slice(0, 1, 11).fill_(1);
  pred[4].slice(0, 1, 6).fill_(1);
  const ClDiceCounts c = cldice_counts(pred, label, {});
  EXPECT_EQ(c.pred_skeleton, 5);
  EXPECT_EQ(c.pred_skeleton_in_label, 5);
  EXPECT_EQ(c.label_skeleton, 10);
  EXPECT_EQ(c.label_skeleton_in_pred, 5);
  EXPECT_DOUBLE_EQ(topology_precision(c), 1.0);
  EXPECT_DOUBLE_EQ(topology_sensitivity(c), 0.5);
  EXPECT_DOUBLE_EQ(cldice(c), 2.0 / 3);
  // A mask that hides the missed half makes the prediction perfect.
  torch::Tensor fov = torch::ones({9, 12});
  fov.slice(1, 6, 12).fill_(0);
  EXPECT_DOUBLE_EQ(cldice(pred, label, fov), 1.0);
}

TEST(ClDice, PoolsFromSummedCounts) {
  ClDiceCounts a{5, 5, 10, 5}, b{10, 0, 10, 0};
  a += b;
  // Tprec = 5/15, Tsens = 5/20.
  EXPECT_DOUBLE_EQ(cldice(a), 2 * (1.0 / 3) * 0.25 / (1.0 / 3 + 0.25));
}

TEST(ClDice, EmptyCasesAreDefined) {
  const torch::Tensor z = torch::zeros({8, 8});
  EXPECT_EQ(cldice(z, z, {}), 1.0);
  EXPECT_EQ(cldice(z, vessels().slice(0, 0, 8).slice(1, 0, 8), {}), 0.0);
  EXPECT_EQ(cldice(vessels(), vessels(), torch::zeros({32, 32})), 1.0);  // nothing inside the mask
}

}  // namespace
}  // namespace vg
