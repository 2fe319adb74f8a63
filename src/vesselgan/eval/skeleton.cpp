#include "vesselgan/eval/skeleton.h"

#include <algorithm>
#include <vector>

#include "vesselgan/eval/confusion.h"

namespace vg {
namespace {

// One Zhang-Suen sub-iteration on a zero-padded (h + 2) x (w + 2) buffer of row width W = w + 2, visiting
// only the foreground pixels listed in `fg`; deletions are decided on the state before the pass (the
// algorithm is parallel) and then applied. Returns whether anything was deleted.
// Neighbours P2..P9 run clockwise from north: N, NE, E, SE, S, SW, W, NW.
bool zhang_suen_pass(std::vector<uint8_t>& buf, int64_t W, const std::vector<int64_t>& fg, bool first,
                     std::vector<int64_t>& del) {
  del.clear();
  for (int64_t i : fg) {
    if (!buf[i]) continue;
    const uint8_t p[8] = {buf[i - W], buf[i - W + 1], buf[i + 1], buf[i + W + 1],
                          buf[i + W], buf[i + W - 1], buf[i - 1], buf[i - W - 1]};
    int b = 0, a = 0;
    for (int k = 0; k < 8; ++k) {
      b += p[k];
      a += (!p[k] && p[(k + 1) % 8]) ? 1 : 0;
    }
    if (b < 2 || b > 6 || a != 1) continue;
    const uint8_t n = p[0], e = p[2], s = p[4], wv = p[6];
    if (first ? (n && e && s) || (e && s && wv) : (n && e && wv) || (n && s && wv)) continue;
    del.push_back(i);
  }
  for (int64_t i : del) buf[i] = 0;
  return !del.empty();
}

}  // namespace

void skeletonize_inplace(uint8_t* image, int64_t h, int64_t w) {
  TORCH_CHECK(h >= 0 && w >= 0, "skeletonize: bad size ", h, "x", w);
  if (h == 0 || w == 0) return;
  const int64_t W = w + 2;
  std::vector<uint8_t> buf((h + 2) * W, 0);
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) buf[(r + 1) * W + c + 1] = image[r * w + c] ? 1 : 0;
  const std::vector<uint8_t> input = buf;

  std::vector<int64_t> fg, del;  // foreground still present (row-major order), deletions of one pass
  for (int64_t r = 1; r <= h; ++r)
    for (int64_t c = 1; c <= w; ++c)
      if (buf[r * W + c]) fg.push_back(r * W + c);
  for (;;) {
    const bool a = zhang_suen_pass(buf, W, fg, true, del);
    const bool b = zhang_suen_pass(buf, W, fg, false, del);
    if (!a && !b) break;
    fg.erase(std::remove_if(fg.begin(), fg.end(), [&](int64_t i) { return !buf[i]; }), fg.end());
  }

  // Components of the input that lost every pixel keep their first one (8-connected flood fill).
  std::vector<uint8_t> seen((h + 2) * W, 0);
  std::vector<int64_t> stack;
  const int64_t offs[8] = {-W - 1, -W, -W + 1, -1, 1, W - 1, W, W + 1};
  for (int64_t r = 1; r <= h; ++r) {
    for (int64_t c = 1; c <= w; ++c) {
      const int64_t start = r * W + c;
      if (!input[start] || seen[start]) continue;
      bool has_skeleton = false;
      stack.assign(1, start);
      seen[start] = 1;
      while (!stack.empty()) {
        const int64_t i = stack.back();
        stack.pop_back();
        has_skeleton = has_skeleton || buf[i];
        for (int64_t o : offs) {
          const int64_t j = i + o;  // the padding ring is background, so j stays inside the buffer
          if (input[j] && !seen[j]) {
            seen[j] = 1;
            stack.push_back(j);
          }
        }
      }
      if (!has_skeleton) buf[start] = 1;
    }
  }

  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) image[r * w + c] = buf[(r + 1) * W + c + 1];
}

torch::Tensor skeletonize(const torch::Tensor& bin) {
  torch::Tensor u8 = detail::as_binary_hw(bin, "bin").to(torch::kUInt8).contiguous().clone();
  skeletonize_inplace(u8.data_ptr<uint8_t>(), u8.size(0), u8.size(1));
  return u8.to(torch::kBool);
}

}  // namespace vg
