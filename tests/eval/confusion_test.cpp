#include "vesselgan/eval/confusion.h"

#include <gtest/gtest.h>

namespace vg {
namespace {

// 4x4 hand-made case. prob (threshold 0.5), label and mask:
//   prob            label      mask
//   .9 .5 .1 .2     1 1 0 0    1 1 1 1
//   .6 .4 .8 .0     1 1 0 0    1 1 1 1
//   .3 .7 .2 .9     0 0 1 0    1 1 1 0
//   1. .0 .5 .3     1 0 0 1    0 1 1 1
torch::Tensor prob4() {
  return torch::tensor({.9f, .5f, .1f, .2f, .6f, .4f, .8f, .0f, .3f, .7f, .2f, .9f, 1.f, .0f, .5f, .3f})
      .reshape({4, 4});
}
torch::Tensor label4() {
  return torch::tensor({1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1}, torch::kUInt8).reshape({4, 4});
}
torch::Tensor mask4() {
  return torch::tensor({1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f, 1.f})
      .reshape({4, 4});
}

TEST(Confusion, CountsHandMadeCaseWithoutMask) {
  // Predicted positive (>= 0.5): (0,0) (0,1) (1,0) (1,2) (2,1) (2,3) (3,0) (3,2).
  // tp: (0,0) (0,1) (1,0) (3,0) = 4; fp: (1,2) (2,1) (2,3) (3,2) = 4;
  // fn: (1,1) (2,2) (3,3) = 3; tn: 16 - 11 = 5.
  const Confusion c = confusion_at(prob4(), label4(), {});
  EXPECT_EQ(c.tp, 4);
  EXPECT_EQ(c.fp, 4);
  EXPECT_EQ(c.fn, 3);
  EXPECT_EQ(c.tn, 5);
  EXPECT_EQ(c.total(), 16);
}

TEST(Confusion, MaskDropsPixelsOutsideTheFov) {
  // Mask removes (2,3) [fp] and (3,0) [tp].
  const Confusion c = confusion_at(prob4(), label4(), mask4());
  EXPECT_EQ(c.tp, 3);
  EXPECT_EQ(c.fp, 3);
  EXPECT_EQ(c.fn, 3);
  EXPECT_EQ(c.tn, 5);
  EXPECT_EQ(c.total(), 14);
}

TEST(Confusion, ThresholdIsInclusiveAndLabelDtypesAgree) {
  // prob exactly at the threshold is positive: 0.5 counts at 0.5, not at 0.51.
  const Confusion at = confusion_at(prob4(), label4().to(torch::kBool), mask4().unsqueeze(0), 0.5);
  const Confusion above = confusion_at(prob4().unsqueeze(0), label4().to(torch::kFloat), mask4(), 0.51);
  EXPECT_EQ(at.tp + at.fp, 6);
  EXPECT_EQ(above.tp + above.fp, 4);  // (0,1) and (3,2) drop out
  EXPECT_EQ(above.tp, 2);
}

TEST(Confusion, BinaryMapScoresTheSameAtAnyThresholdInZeroOne) {
  const torch::Tensor bin = label4().to(torch::kFloat).flip({1});
  EXPECT_EQ(confusion_at(bin, label4(), mask4(), 0.01), confusion_at(bin, label4(), mask4(), 1.0));
}

TEST(Confusion, PoolsBySumming) {
  Confusion a{1, 2, 3, 4}, b{10, 20, 30, 40};
  a += b;
  EXPECT_EQ(a, (Confusion{11, 22, 33, 44}));
  EXPECT_EQ(a.total(), 110);
}

TEST(Confusion, RejectsMismatchedShapesAndOutOfRangeProb) {
  EXPECT_THROW(confusion_at(torch::zeros({4, 5}), label4(), {}), c10::Error);
  EXPECT_THROW(confusion_at(prob4() * 2, label4(), {}), c10::Error);
  EXPECT_THROW(confusion_at(prob4(), label4(), torch::ones({2, 4, 4})), c10::Error);
}

TEST(Confusion, EmptyMaskGivesZeroCounts) {
  EXPECT_EQ(confusion_at(prob4(), label4(), torch::zeros({4, 4})).total(), 0);
}

}  // namespace
}  // namespace vg
