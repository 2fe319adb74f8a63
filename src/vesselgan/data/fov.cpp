#include "vesselgan/data/fov.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/preprocess.h"

namespace vg {

namespace {

// In-place separable gaussian blur of an h x w plane (row-major), mirrored borders. Plain loops: for one
// small plane they beat the tensor library's convolution setup by far.
void blur_plane(std::vector<float>& v, int64_t h, int64_t w, double sigma) {
  if (sigma < 0.3) return;
  const int64_t r = std::min<int64_t>({static_cast<int64_t>(std::ceil(3 * sigma)), h - 1, w - 1});
  if (r < 1) return;
  std::vector<float> k(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int64_t t = -r; t <= r; ++t)
    sum += k[t + r] = static_cast<float>(std::exp(-0.5 * t * t / (sigma * sigma)));
  for (auto& x : k) x = static_cast<float>(x / sum);
  auto mirror = [](int64_t i, int64_t n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; };
  std::vector<float> line;
  for (int pass = 0; pass < 2; ++pass) {  // rows, then columns
    const int64_t n = pass == 0 ? w : h, lines = pass == 0 ? h : w;
    const int64_t stride = pass == 0 ? 1 : w, step = pass == 0 ? w : 1;
    line.resize(static_cast<size_t>(n));
    for (int64_t l = 0; l < lines; ++l) {
      float* p = v.data() + l * step;
      for (int64_t i = 0; i < n; ++i) {
        float acc = 0;
        if (i >= r && i + r < n) {
          for (int64_t t = -r; t <= r; ++t) acc += k[t + r] * p[(i + t) * stride];
        } else {
          for (int64_t t = -r; t <= r; ++t) acc += k[t + r] * p[mirror(i + t, n) * stride];
        }
        line[i] = acc;
      }
      for (int64_t i = 0; i < n; ++i) p[i * stride] = line[i];
    }
  }
}

// Keeps the largest 4-connected component of `fg` (row-major h x w, 0/1), then fills its holes: background
// pixels that cannot reach the image border through background become foreground.
void largest_component_filled(std::vector<uint8_t>& fg, int64_t h, int64_t w) {
  const int64_t n = h * w;
  std::vector<int32_t> label(static_cast<size_t>(n), 0);
  std::vector<int64_t> stack;
  int32_t best_label = 0, next = 0;
  int64_t best_size = 0;
  auto visit = [&](int64_t start, int32_t id, auto accept) {
    int64_t size = 0;
    stack.assign(1, start);
    label[start] = id;
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      ++size;
      const int64_t i = p / w, j = p % w;
      const int64_t nb[4] = {i > 0 ? p - w : -1, i + 1 < h ? p + w : -1, j > 0 ? p - 1 : -1,
                             j + 1 < w ? p + 1 : -1};
      for (int64_t q : nb) {
        if (q >= 0 && label[q] == 0 && accept(q)) {
          label[q] = id;
          stack.push_back(q);
        }
      }
    }
    return size;
  };
  for (int64_t p = 0; p < n; ++p) {
    if (!fg[p] || label[p] != 0) continue;
    const int64_t size = visit(p, ++next, [&](int64_t q) { return fg[q] != 0; });
    if (size > best_size) best_size = size, best_label = next;
  }
  // Background reachable from the border (through anything but the kept component) stays background.
  std::vector<int32_t>& outside = label;
  for (int64_t p = 0; p < n; ++p) outside[p] = label[p] == best_label ? -1 : 0;
  auto not_kept = [&](int64_t q) { return outside[q] != -1; };
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      if (i != 0 && i != h - 1 && j != 0 && j != w - 1) continue;
      const int64_t p = i * w + j;
      if (outside[p] == 0) visit(p, 1, not_kept);
    }
  }
  for (int64_t p = 0; p < n; ++p) fg[p] = outside[p] != 1;
}

// Erosion of `fg` (h x w, 0/1) by a disc of `radius` pixels: every foreground pixel within the radius of a
// background pixel goes. Only background pixels inside the frame erode, so an FOV clipped by the frame is
// not eroded along the frame.
void erode_disc(std::vector<uint8_t>& fg, int64_t h, int64_t w, double radius) {
  const int64_t r = static_cast<int64_t>(std::floor(radius));
  if (r < 1) return;
  const double r2 = radius * radius;
  std::vector<uint8_t> out = fg;
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      if (fg[i * w + j]) continue;
      // Only background pixels on the edge of the foreground can reach it within r.
      const bool edge = (i > 0 && fg[(i - 1) * w + j]) || (i + 1 < h && fg[(i + 1) * w + j]) ||
                        (j > 0 && fg[i * w + j - 1]) || (j + 1 < w && fg[i * w + j + 1]);
      if (!edge) continue;
      for (int64_t di = -r; di <= r; ++di) {
        const int64_t y = i + di;
        if (y < 0 || y >= h) continue;
        for (int64_t dj = -r; dj <= r; ++dj) {
          const int64_t x = j + dj;
          if (x >= 0 && x < w && static_cast<double>(di * di + dj * dj) <= r2) out[y * w + x] = 0;
        }
      }
    }
  }
  fg.swap(out);
}

float median_of(std::vector<float> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// Diameter (larger bounding-box side) of the foreground of an h x w 0/1 plane; 0 when empty.
double diameter_of(const std::vector<uint8_t>& fg, int64_t h, int64_t w) {
  int64_t top = h, bottom = -1, left = w, right = -1;
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      if (!fg[i * w + j]) continue;
      top = std::min(top, i), bottom = std::max(bottom, i), left = std::min(left, j),
      right = std::max(right, j);
    }
  }
  return bottom < 0 ? 0.0 : static_cast<double>(std::max(bottom - top + 1, right - left + 1));
}

}  // namespace

namespace {

const auto kFovFields = [](auto& o, auto&& field) {
  field("work_size", o.work_size, within(64, 8192, "64..8192 pixels"));
  field("smooth_sigma", o.smooth_sigma, within(0, 0.05, "0..0.05 (fraction of size)"));
  field("corner", o.corner, within(0.01, 0.2, "0.01..0.2 (fraction of the shorter side)"));
  field("level", o.level, within(0.05, 0.95, "0.05..0.95"));
  field("erode", o.erode, within(0, 0.05, "0..0.05 (fraction of the FOV diameter)"));
};

}  // namespace

void to_json(nlohmann::json& j, const FovOptions& o) { j = fields_to_json(o, kFovFields); }
void from_json(const nlohmann::json& j, FovOptions& o) { fields_from_json(j, "fov", o, kFovFields); }
void validate(const FovOptions& o) { validate_fields("fov", o, kFovFields); }

torch::Tensor estimate_fov(const torch::Tensor& image, const FovOptions& o) {
  TORCH_CHECK(image.dim() == 3 && (image.size(0) == 3 || image.size(0) == 1) && image.size(1) > 0 &&
                  image.size(2) > 0,
              "estimate_fov expects an image [3, H, W] or [1, H, W], got ", image.sizes());
  validate(o);
  torch::NoGradGuard no_grad;
  const int64_t H = image.size(1), W = image.size(2);
  // 1. Brightness on the working copy.
  torch::Tensor vt = image.detach().to(torch::kCPU, torch::kFloat).amax(0, /*keepdim=*/true);  // [1, H, W]
  const double shrink = std::min(1.0, static_cast<double>(o.work_size) / static_cast<double>(std::max(H, W)));
  const int64_t h = std::max<int64_t>(1, std::llround(H * shrink)),
                w = std::max<int64_t>(1, std::llround(W * shrink));
  vt = resize_to(vt, h, w).contiguous();
  std::vector<float> v(vt.data_ptr<float>(), vt.data_ptr<float>() + h * w);
  blur_plane(v, h, w, o.smooth_sigma * static_cast<double>(std::max(h, w)));

  // 2. Surround and fundus levels.
  const int64_t c = std::max<int64_t>(1, std::llround(o.corner * static_cast<double>(std::min(h, w))));
  std::vector<float> corners, center;
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      const bool in_corner = (i < c || i >= h - c) && (j < c || j >= w - c);
      const bool in_center = i >= h / 4 && i < std::max(h / 4 + 1, 3 * h / 4) && j >= w / 4 &&
                             j < std::max(w / 4 + 1, 3 * w / 4);
      if (in_corner) corners.push_back(v[i * w + j]);
      if (in_center) center.push_back(v[i * w + j]);
    }
  }
  const float b = median_of(std::move(corners)), f = median_of(std::move(center));
  const auto opts = image.options().dtype(torch::kFloat);
  if (!(b < 0.5f * f)) return torch::ones({1, H, W}, opts);  // no dark surround: all of it is the FOV

  // 3. Threshold, largest component, holes, erosion.
  const float t = b + static_cast<float>(o.level) * (f - b);
  std::vector<uint8_t> fg(static_cast<size_t>(h * w));
  for (size_t k = 0; k < fg.size(); ++k) fg[k] = v[k] > t;
  largest_component_filled(fg, h, w);
  erode_disc(fg, h, w, o.erode * diameter_of(fg, h, w));

  // 4. Back to the photograph's size.
  torch::Tensor out = torch::from_blob(fg.data(), {1, h, w}, torch::kUInt8).to(torch::kFloat);
  if (h != H || w != W) out = resize_to(out, H, W).ge(0.5).to(torch::kFloat);
  return out.contiguous().to(opts.device());
}

double fov_diameter(const torch::Tensor& mask) {
  TORCH_CHECK(mask.dim() == 2 || (mask.dim() == 3 && mask.size(0) == 1),
              "fov_diameter expects [1, H, W] or [H, W], got ", mask.sizes());
  const torch::Tensor m = (mask.dim() == 3 ? mask[0] : mask).detach().to(torch::kCPU, torch::kFloat).gt(0.5);
  const torch::Tensor rows = torch::nonzero(m.any(1)).reshape({-1}),
                      cols = torch::nonzero(m.any(0)).reshape({-1});
  if (rows.numel() == 0) return 0;
  const int64_t height = rows[-1].item<int64_t>() - rows[0].item<int64_t>() + 1;
  const int64_t width = cols[-1].item<int64_t>() - cols[0].item<int64_t>() + 1;
  return static_cast<double>(std::max(height, width));
}

double mask_dice(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.sizes() == b.sizes(), "mask_dice: sizes differ, ", a.sizes(), " vs ", b.sizes());
  const torch::Tensor x = a.detach().to(torch::kCPU).gt(0.5), y = b.detach().to(torch::kCPU).gt(0.5);
  const double inter = (x & y).sum().item<double>(), total = x.sum().item<double>() + y.sum().item<double>();
  return total == 0 ? 1.0 : 2 * inter / total;
}

}  // namespace vg
