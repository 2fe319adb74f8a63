#include "vesselgan/data/preprocess.h"

#include <torch/torch.h>

#include "test_support.h"

namespace vg {

TEST(PadCenter, DriveSizePadsFourTopAndThirteenLeftAndCropsBackExactly) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({3, 584, 565}) + 0.1;  // strictly positive: padding is the only zeros
  PadInfo info;
  const torch::Tensor p = pad_center(x, 592, 592, &info);
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({3, 592, 592}));
  EXPECT_EQ(info.top, 4);
  EXPECT_EQ(info.left, 13);  // 27 columns: 13 left, 14 right
  EXPECT_EQ(info.height, 584);
  EXPECT_EQ(info.width, 565);
  // Borders are black, exactly as wide as documented.
  EXPECT_EQ(p.narrow(1, 0, 4).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(p.narrow(1, 588, 4).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(p.narrow(2, 0, 13).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(p.narrow(2, 578, 14).abs().sum().item<double>(), 0.0);
  EXPECT_GT(p.select(1, 4).select(1, 13).min().item<double>(), 0.0);  // first image pixel
  EXPECT_TRUE(torch::equal(crop_back(p, info), x));
}

TEST(PadCenter, WorksOnBatchesAndIntegerTensorsAndRejectsShrinking) {
  const torch::Tensor x = torch::ones({2, 1, 3, 4}, torch::kUInt8);
  PadInfo info;
  const torch::Tensor p = pad_center(x, 6, 7, &info);
  EXPECT_EQ(p.sizes(), torch::IntArrayRef({2, 1, 6, 7}));
  EXPECT_EQ(p.scalar_type(), torch::kUInt8);
  EXPECT_EQ(info.top, 1);
  EXPECT_EQ(info.left, 1);
  EXPECT_EQ(p.sum().item<int64_t>(), 2 * 3 * 4);
  EXPECT_TRUE(torch::equal(crop_back(p, info), x));
  EXPECT_THROW(pad_center(x, 2, 7), c10::Error);
}

TEST(CropBack, RejectsAWindowOutsideTheInput) {
  const torch::Tensor x = torch::zeros({1, 8, 8});
  EXPECT_THROW(crop_back(x, PadInfo{4, 0, 5, 8}), c10::Error);
}

TEST(RoundUp, RoundsToTheNextMultiple) {
  EXPECT_EQ(round_up(0, 16), 0);
  EXPECT_EQ(round_up(565, 16), 576);
  EXPECT_EQ(round_up(576, 16), 576);
  EXPECT_EQ(round_up(577, 16), 592);
  EXPECT_THROW(round_up(5, 0), c10::Error);
}

TEST(ResizeTo, BilinearUpsamplingOfAConstantStaysConstantAndKeepsRank) {
  const torch::Tensor x = torch::full({3, 5, 7}, 0.25);
  const torch::Tensor y = resize_to(x, 11, 13);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({3, 11, 13}));
  EXPECT_NEAR((y - 0.25).abs().max().item<double>(), 0.0, 1e-6);
  EXPECT_TRUE(resize_to(x, 5, 7).is_same(x));
}

TEST(ResizeTo, ShrinkingIsAntialiased) {
  // Halving with the antialiased (triangle, Pillow-like) filter: output pixel j covers source pixels
  // 2j-1 .. 2j+2 with weights (1, 3, 3, 1) / 8. For the period-4 pattern 0,0,1,1 the interior outputs are
  // (0+3+3+0)/8 = 0.75 and (1+0+0+1)/8 = 0.25; plain bilinear would give the pair means 1 and 0.
  const torch::Tensor row = torch::tensor({0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f});
  const torch::Tensor x = row.view({1, 1, 1, 12}).expand({1, 1, 3, 12}).contiguous();
  const torch::Tensor y = resize_to(x, 3, 6);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 1, 3, 6}));
  const double expected[] = {0.75, 0.25, 0.75, 0.25};
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 1; j <= 4; ++j)
      EXPECT_NEAR(y[0][0][i][j].item<double>(), expected[j - 1], 1e-5) << "row " << i << " column " << j;
}

TEST(ResizeTo, NearestKeepsLabelValuesAndUsesHalfPixelCenters) {
  const torch::Tensor x = torch::arange(4, torch::kFloat).view({1, 1, 1, 4});
  const torch::Tensor up = resize_to(x, 1, 8, /*nearest=*/true);
  EXPECT_TRUE(torch::equal(up.flatten(), torch::tensor({0.f, 0.f, 1.f, 1.f, 2.f, 2.f, 3.f, 3.f})));
  const torch::Tensor down = resize_to(torch::arange(8, torch::kFloat).view({1, 1, 1, 8}), 1, 4, true);
  EXPECT_TRUE(torch::equal(down.flatten(), torch::tensor({1.f, 3.f, 5.f, 7.f})));  // floor((j + 0.5) * 2)
}

TEST(ResizeTo, RejectsIntegerInput) {
  EXPECT_THROW(resize_to(torch::zeros({1, 4, 4}, torch::kUInt8), 2, 2), c10::Error);
}

}  // namespace vg
