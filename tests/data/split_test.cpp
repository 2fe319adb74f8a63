#include "vesselgan/data/split.h"

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

TEST(SplitTrainVal, IsDisjointCompleteAndRepeatable) {
  const auto a = split_train_val(20, 3, 7);
  const auto b = split_train_val(20, 3, 7);
  EXPECT_EQ(a.val, b.val);
  ASSERT_EQ(a.val.size(), 3u);
  ASSERT_EQ(a.train.size(), 17u);
  std::vector<int64_t> all = a.train;
  all.insert(all.end(), a.val.begin(), a.val.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(all[i], i);
  EXPECT_NE(split_train_val(20, 3, 8).val, a.val);  // another seed, another split (for these seeds)
}

TEST(SplitTrainVal, MustLeaveATrainingImage) {
  EXPECT_THROW(split_train_val(3, 3, 1), UserError);
  EXPECT_THROW(split_train_val(3, -1, 1), UserError);
  EXPECT_EQ(split_train_val(3, 0, 1).train.size(), 3u);
}

}  // namespace vg
