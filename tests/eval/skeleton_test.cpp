#include "vesselgan/eval/skeleton.h"

#include <gtest/gtest.h>

namespace vg {
namespace {

// Number of 8-connected components of a [H, W] bool tensor.
int components(const torch::Tensor& b) {
  const int64_t h = b.size(0), w = b.size(1);
  auto a = b.accessor<bool, 2>();
  std::vector<int> seen(h * w, 0);
  int n = 0;
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) {
      if (!a[r][c] || seen[r * w + c]) continue;
      ++n;
      std::vector<std::pair<int64_t, int64_t>> st{{r, c}};
      seen[r * w + c] = 1;
      while (!st.empty()) {
        auto [y, x] = st.back();
        st.pop_back();
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int64_t yy = y + dy, xx = x + dx;
            if (yy < 0 || xx < 0 || yy >= h || xx >= w || !a[yy][xx] || seen[yy * w + xx]) continue;
            seen[yy * w + xx] = 1;
            st.push_back({yy, xx});
          }
      }
    }
  return n;
}

TEST(Skeleton, FivePixelWideBarBecomesOnePixelWideLineSpanningIt) {
  torch::Tensor bar = torch::zeros({15, 40}, torch::kBool);
  bar.slice(0, 5, 10).slice(1, 5, 35).fill_(true);  // rows 5..9, columns 5..34
  const torch::Tensor s = skeletonize(bar);
  ASSERT_EQ(s.sizes(), bar.sizes());
  EXPECT_TRUE(s.logical_and(bar.logical_not()).sum().item<int64_t>() == 0) << "skeleton leaves the bar";
  const torch::Tensor per_column = s.sum(0);
  EXPECT_LE(per_column.max().item<int64_t>(), 1) << "more than one pixel wide";
  const torch::Tensor cols = per_column.nonzero().flatten();
  ASSERT_GT(cols.numel(), 0);
  EXPECT_LE(cols.min().item<int64_t>(), 8);
  EXPECT_GE(cols.max().item<int64_t>(), 31);
  EXPECT_EQ(cols.numel(), cols.max().item<int64_t>() - cols.min().item<int64_t>() + 1) << "gaps in the line";
  EXPECT_EQ(components(s), 1);
  // The same for the transposed (vertical) bar.
  const torch::Tensor sv = skeletonize(bar.t().contiguous());
  EXPECT_LE(sv.sum(1).max().item<int64_t>(), 1);
  EXPECT_EQ(components(sv), 1);
}

TEST(Skeleton, OnePixelLinesAndSinglePixelsAreKept) {
  torch::Tensor img = torch::zeros({12, 12}, torch::kBool);
  img[2].slice(0, 1, 11).fill_(true);                 // horizontal line
  for (int i = 4; i < 11; ++i) img[i][i - 3] = true;  // diagonal line
  img[10][10] = true;                                 // isolated pixel
  EXPECT_TRUE(skeletonize(img).equal(img));
}

TEST(Skeleton, TwoByTwoSquareKeepsOnePixel) {
  torch::Tensor img = torch::zeros({6, 6});
  img.slice(0, 2, 4).slice(1, 2, 4).fill_(1);
  const torch::Tensor s = skeletonize(img);
  EXPECT_EQ(s.sum().item<int64_t>(), 1);
  EXPECT_TRUE(s[2][2].item<bool>());
}

TEST(Skeleton, ComponentsAreNeitherMergedNorLost) {
  torch::Tensor img = torch::zeros({30, 30}, torch::kBool);
  img.slice(0, 2, 9).slice(1, 2, 28).fill_(true);     // thick bar
  img.slice(0, 14, 28).slice(1, 3, 8).fill_(true);    // vertical bar
  img.slice(0, 15, 25).slice(1, 15, 25).fill_(true);  // square with a hole
  img.slice(0, 18, 22).slice(1, 18, 22).fill_(false);
  EXPECT_EQ(components(img), 3);
  EXPECT_EQ(components(skeletonize(img)), 3);
}

TEST(Skeleton, EmptyAndFullBorderImages) {
  EXPECT_EQ(skeletonize(torch::zeros({5, 7})).sum().item<int64_t>(), 0);
  EXPECT_EQ(skeletonize(torch::zeros({0, 7})).numel(), 0);
  const torch::Tensor full = skeletonize(torch::ones({1, 9, 9}));  // touches the border everywhere
  EXPECT_GT(full.sum().item<int64_t>(), 0);
  EXPECT_LT(full.sum().item<int64_t>(), 20);
}

}  // namespace
}  // namespace vg
