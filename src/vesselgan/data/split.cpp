#include "vesselgan/data/split.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

#include "vesselgan/core/error.h"

namespace vg {

SplitIndices split_train_val(int64_t n, int64_t val_count, uint64_t seed) {
  if (val_count < 0 || val_count >= n)
    throw UserError("validation count " + std::to_string(val_count) + " does not fit a training set of " +
                    std::to_string(n) + " images (valid: 0.." + std::to_string(std::max<int64_t>(0, n - 1)) + ")");
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 rng(seed);
  // Fisher-Yates with our own draws so the split is the same on every standard library.
  for (int64_t i = n - 1; i > 0; --i) std::swap(idx[i], idx[rng() % static_cast<uint64_t>(i + 1)]);
  SplitIndices s;
  s.val.assign(idx.begin(), idx.begin() + val_count);
  s.train.assign(idx.begin() + val_count, idx.end());
  std::sort(s.val.begin(), s.val.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

}  // namespace vg
