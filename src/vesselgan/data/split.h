// Holding out validation images from the training set (never the test set): a seeded, repeatable choice.
#pragma once
#include <cstdint>
#include <vector>

namespace vg {

struct SplitIndices {
  std::vector<int64_t> train, val;
};

// Picks `val_count` of `n` indices at random (seeded), both lists sorted. val_count must leave at least
// one training image (UserError otherwise).
SplitIndices split_train_val(int64_t n, int64_t val_count, uint64_t seed);

}  // namespace vg
