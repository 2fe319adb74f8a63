#include "vesselgan/data/clahe.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace vg {

namespace {

constexpr int kLevels = 256;
using Map = std::array<float, kLevels>;

// Equal tiles along one axis: tile i covers [bound(i), bound(i + 1)).
struct Grid {
  int64_t size = 0, count = 0;
  int64_t bound(int64_t i) const { return i * size / count; }
  // Pixel p's two surrounding tile centres and the weight of the second.
  void neighbours(int64_t p, int64_t& a, int64_t& b, float& w) const {
    const double f = (static_cast<double>(p) + 0.5) * static_cast<double>(count) / static_cast<double>(size) - 0.5;
    if (f <= 0) {
      a = b = 0;
      w = 0;
    } else if (f >= static_cast<double>(count - 1)) {
      a = b = count - 1;
      w = 0;
    } else {
      a = static_cast<int64_t>(std::floor(f));
      b = a + 1;
      w = static_cast<float>(f - static_cast<double>(a));
    }
  }
};

// The tile's histogram, clipped and its excess spread evenly, turned into its cumulative map onto [0, 1].
Map tile_map(const std::vector<uint8_t>& q, int64_t W, int64_t r0, int64_t r1, int64_t c0, int64_t c1,
             double clip_limit) {
  std::array<double, kLevels> hist{};
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; ++c) hist[q[static_cast<size_t>(r * W + c)]] += 1;
  const double area = static_cast<double>((r1 - r0) * (c1 - c0));
  const double ceiling = std::max(1.0, clip_limit * area / kLevels);
  double excess = 0;
  for (auto& h : hist) {
    if (h > ceiling) {
      excess += h - ceiling;
      h = ceiling;
    }
  }
  Map map{};
  double cumulative = 0;
  for (int v = 0; v < kLevels; ++v) {
    cumulative += hist[static_cast<size_t>(v)] + excess / kLevels;
    map[static_cast<size_t>(v)] = static_cast<float>(cumulative / area);
  }
  return map;
}

}  // namespace

torch::Tensor clahe(const torch::Tensor& x, double clip_limit, int64_t tile) {
  TORCH_CHECK(x.dim() == 2, "clahe expects one channel [H, W], got ", x.sizes());
  TORCH_CHECK(x.is_floating_point(), "clahe expects a float image in [0, 1], got ", x.scalar_type());
  TORCH_CHECK(clip_limit >= 1 && std::isfinite(clip_limit), "clahe: clip_limit must be >= 1, got ", clip_limit);
  TORCH_CHECK(tile >= 8, "clahe: tile must be >= 8 px, got ", tile);
  const int64_t H = x.size(0), W = x.size(1);
  if (H == 0 || W == 0) return x.to(torch::kFloat).clone();
  const torch::Tensor levels =
      x.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1).mul(kLevels - 1).round().to(torch::kUInt8).contiguous();
  const std::vector<uint8_t> q(levels.data_ptr<uint8_t>(), levels.data_ptr<uint8_t>() + H * W);
  const Grid rows{H, (H + tile - 1) / tile}, cols{W, (W + tile - 1) / tile};

  std::vector<Map> maps(static_cast<size_t>(rows.count * cols.count));
  for (int64_t i = 0; i < rows.count; ++i)
    for (int64_t j = 0; j < cols.count; ++j)
      maps[static_cast<size_t>(i * cols.count + j)] =
          tile_map(q, W, rows.bound(i), rows.bound(i + 1), cols.bound(j), cols.bound(j + 1), clip_limit);

  torch::Tensor out = torch::empty({H, W}, torch::kFloat);
  float* o = out.data_ptr<float>();
  for (int64_t r = 0; r < H; ++r) {
    int64_t ia, ib;
    float wy;
    rows.neighbours(r, ia, ib, wy);
    for (int64_t c = 0; c < W; ++c) {
      int64_t ja, jb;
      float wx;
      cols.neighbours(c, ja, jb, wx);
      const size_t v = q[static_cast<size_t>(r * W + c)];
      const auto at = [&](int64_t i, int64_t j) { return maps[static_cast<size_t>(i * cols.count + j)][v]; };
      const float top = (1 - wx) * at(ia, ja) + wx * at(ia, jb);
      const float bottom = (1 - wx) * at(ib, ja) + wx * at(ib, jb);
      o[r * W + c] = (1 - wy) * top + wy * bottom;
    }
  }
  return out.to(x.device());
}

}  // namespace vg
