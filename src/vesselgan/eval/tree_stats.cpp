#include "vesselgan/eval/tree_stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "vesselgan/core/error.h"
#include "vesselgan/eval/skeleton.h"

namespace vg {

namespace {

constexpr int64_t kMinHole = 4;       // smaller enclosed gaps are annotation noise, not crossings
constexpr int64_t kWidthSearch = 16;  // widths are measured up to 2 * 16 - 1 px (DRIVE's widest: ~12)

// A binary map of h x w pixels, row-major; outside the image counts as 0.
struct Grid {
  int64_t h = 0, w = 0;
  std::vector<uint8_t> v;
  uint8_t at(int64_t y, int64_t x) const { return y < 0 || x < 0 || y >= h || x >= w ? 0 : v[y * w + x]; }
};

constexpr int kDy[8] = {-1, 1, 0, 0, -1, -1, 1, 1};
constexpr int kDx[8] = {0, 0, -1, 1, -1, 1, -1, 1};  // the 4-neighbours first

Grid to_grid(const torch::Tensor& t) {
  const torch::Tensor m = t.dim() == 3 ? t[0] : t;
  if (m.dim() != 2) throw UserError("tree_stats: a map must be [H, W] or [1, H, W], got " + std::to_string(t.dim()) + " dimensions");
  const torch::Tensor b = m.detach().to(torch::kCPU).to(torch::kFloat).gt(0.5).to(torch::kUInt8).contiguous();
  Grid g;
  g.h = b.size(0);
  g.w = b.size(1);
  g.v.assign(b.data_ptr<uint8_t>(), b.data_ptr<uint8_t>() + b.numel());
  return g;
}

// Connected components of the pixels where `in` is set (8- or 4-connected): each pixel's component id (-1
// outside) and each component's size.
std::vector<int64_t> components(const Grid& in, bool eight, std::vector<int32_t>& id) {
  id.assign(in.v.size(), -1);
  std::vector<int64_t> sizes, stack;
  for (int64_t p = 0; p < static_cast<int64_t>(in.v.size()); ++p) {
    if (!in.v[p] || id[p] >= 0) continue;
    const auto c = static_cast<int32_t>(sizes.size());
    int64_t n = 0;
    id[p] = c;
    stack.push_back(p);
    while (!stack.empty()) {
      const int64_t q = stack.back();
      stack.pop_back();
      ++n;
      const int64_t y = q / in.w, x = q % in.w;
      for (int k = 0; k < (eight ? 8 : 4); ++k) {
        const int64_t yy = y + kDy[k], xx = x + kDx[k];
        if (!in.at(yy, xx) || id[yy * in.w + xx] >= 0) continue;
        id[yy * in.w + xx] = c;
        stack.push_back(yy * in.w + xx);
      }
    }
    sizes.push_back(n);
  }
  return sizes;
}

// The crossing number (Rutovitz): how many separate runs of set pixels the 8 neighbours of (y, x) form, in
// cyclic order. 1 at an end, 2 along a line, 3 or more at a branch; unlike the neighbour count it is not
// fooled by the staircase corners of thinned diagonal lines.
int crossings(const Grid& g, int64_t y, int64_t x) {
  static constexpr int ry[8] = {-1, -1, 0, 1, 1, 1, 0, -1}, rx[8] = {0, 1, 1, 1, 0, -1, -1, -1};
  int changes = 0;
  for (int k = 0; k < 8; ++k)
    changes += g.at(y + ry[k], x + rx[k]) != g.at(y + ry[(k + 1) % 8], x + rx[(k + 1) % 8]);
  return changes / 2;
}

// The vessel's width through (y, x): d1 + d2 - 1, d1 the distance to the nearest pixel that is not vessel
// (searched up to kWidthSearch) and d2 the distance to the edge straight opposite it (a centreline pixel of a
// band W pixels wide: W, for even W too, where 2 d1 - 1 would give W - 1).
double local_width(const Grid& vessel, int64_t y, int64_t x) {
  int64_t best = std::numeric_limits<int64_t>::max(), by = 0, bx = 0;
  for (int64_t dy = -kWidthSearch; dy <= kWidthSearch; ++dy)
    for (int64_t dx = -kWidthSearch; dx <= kWidthSearch; ++dx) {
      const int64_t d2 = dy * dy + dx * dx;
      if (d2 < best && !vessel.at(y + dy, x + dx)) {
        best = d2;
        by = dy;
        bx = dx;
      }
    }
  if (best == std::numeric_limits<int64_t>::max()) return 2.0 * kWidthSearch - 1;
  const double d1 = std::sqrt(static_cast<double>(best));
  const double uy = -static_cast<double>(by) / d1, ux = -static_cast<double>(bx) / d1;
  double d2 = d1;  // capped like d1
  for (double t = 0.5; t <= kWidthSearch; t += 0.5) {
    const auto yy = static_cast<int64_t>(std::lround(static_cast<double>(y) + t * uy));
    const auto xx = static_cast<int64_t>(std::lround(static_cast<double>(x) + t * ux));
    if (!vessel.at(yy, xx)) {
      d2 = std::hypot(static_cast<double>(yy - y), static_cast<double>(xx - x));
      break;
    }
  }
  return d1 + d2 - 1;
}

// Arc / chord of one segment (a component `c` of the skeleton without its branch points, with exactly two
// ends), walked from the end `start` to the other (4-neighbour steps first); `walked` marks its pixels.
double segment_tortuosity(const Grid& segs, const std::vector<int32_t>& id, int32_t c, int64_t start,
                          std::vector<uint8_t>& walked) {
  int64_t y = start / segs.w, x = start % segs.w;
  const int64_t y0 = y, x0 = x;
  double arc = 0;
  walked[start] = 1;
  for (bool moved = true; moved;) {
    moved = false;
    for (int k = 0; k < 8 && !moved; ++k) {
      const int64_t yy = y + kDy[k], xx = x + kDx[k];
      if (yy < 0 || xx < 0 || yy >= segs.h || xx >= segs.w) continue;
      const int64_t q = yy * segs.w + xx;
      if (id[q] != c || walked[q]) continue;
      arc += k < 4 ? 1.0 : std::sqrt(2.0);
      walked[q] = 1;
      y = yy;
      x = xx;
      moved = true;
    }
  }
  const double chord = std::hypot(static_cast<double>(y - y0), static_cast<double>(x - x0));
  return chord > 0 ? arc / chord : 0;
}

}  // namespace

TreeStats tree_stats(const torch::Tensor& label_in, const torch::Tensor& fov_in) {
  Grid vessel = to_grid(label_in);
  Grid fov;
  if (fov_in.defined()) {
    fov = to_grid(fov_in);
    if (fov.h != vessel.h || fov.w != vessel.w)
      throw UserError("tree_stats: the FOV mask is " + std::to_string(fov.h) + "x" + std::to_string(fov.w) +
                      " but the map " + std::to_string(vessel.h) + "x" + std::to_string(vessel.w) + " (valid: the same size)");
  } else {
    fov = vessel;
    std::fill(fov.v.begin(), fov.v.end(), 1);
  }
  int64_t fov_pixels = 0, vessel_pixels = 0;
  for (size_t p = 0; p < vessel.v.size(); ++p) {
    vessel.v[p] = vessel.v[p] && fov.v[p];
    fov_pixels += fov.v[p];
    vessel_pixels += vessel.v[p];
  }
  TreeStats s;
  if (fov_pixels == 0) throw UserError("tree_stats: the FOV mask is empty");
  s.vessel_fraction = static_cast<double>(vessel_pixels) / static_cast<double>(fov_pixels);

  Grid skel = vessel;
  skeletonize_inplace(skel.v.data(), skel.h, skel.w);
  Grid branch = skel, segs = skel;
  int64_t skel_pixels = 0, ends = 0;
  double width_sum = 0;
  for (int64_t y = 0; y < skel.h; ++y)
    for (int64_t x = 0; x < skel.w; ++x) {
      const int64_t p = y * skel.w + x;
      branch.v[p] = 0;
      if (!skel.v[p]) continue;
      ++skel_pixels;
      const int n = crossings(skel, y, x);
      ends += n == 1;
      branch.v[p] = n >= 3;
      segs.v[p] = n < 3;
      const double width = local_width(vessel, y, x);
      width_sum += width;
      size_t bin = 0;
      while (bin + 1 < kWidthBins.size() && width >= kWidthBins[bin]) ++bin;
      s.width_hist[bin] += 1;
    }
  std::vector<int32_t> id;
  const double per_skeleton = skel_pixels > 0 ? 1000.0 / static_cast<double>(skel_pixels) : 0;
  s.centreline_density = 1000.0 * static_cast<double>(skel_pixels) / static_cast<double>(fov_pixels);
  s.branch_density = static_cast<double>(components(branch, true, id).size()) * per_skeleton;
  s.end_density = static_cast<double>(ends) * per_skeleton;
  if (skel_pixels > 0) {
    s.width_mean = width_sum / static_cast<double>(skel_pixels);
    for (auto& h : s.width_hist) h /= static_cast<double>(skel_pixels);
  }

  // Tortuosity over the segments between branch and end points.
  const auto seg_sizes = components(segs, true, id);
  std::vector<int64_t> first_end(seg_sizes.size(), -1);
  std::vector<int> end_count(seg_sizes.size(), 0);
  for (int64_t y = 0; y < segs.h; ++y)
    for (int64_t x = 0; x < segs.w; ++x) {
      const int64_t p = y * segs.w + x;
      if (!segs.v[p] || crossings(segs, y, x) != 1) continue;
      const auto c = static_cast<size_t>(id[p]);
      ++end_count[c];
      if (first_end[c] < 0) first_end[c] = p;
    }
  double tort_sum = 0;
  int64_t tort_n = 0;
  std::vector<uint8_t> walked(segs.v.size(), 0);
  for (size_t c = 0; c < seg_sizes.size(); ++c) {
    if (seg_sizes[c] < kMinSegment || end_count[c] != 2) continue;
    const double t = segment_tortuosity(segs, id, static_cast<int32_t>(c), first_end[c], walked);
    if (t <= 0) continue;
    tort_sum += t;
    ++tort_n;
  }
  if (tort_n > 0) s.tortuosity = tort_sum / static_cast<double>(tort_n);

  for (int64_t n : components(vessel, true, id)) s.components += n >= kMinComponent;

  // Holes: background regions inside the FOV that touch neither the image border nor the outside of the FOV.
  Grid background = vessel;
  for (size_t p = 0; p < background.v.size(); ++p) background.v[p] = !vessel.v[p];
  const auto bg_sizes = components(background, false, id);
  std::vector<uint8_t> open(bg_sizes.size(), 0);
  for (int64_t y = 0; y < background.h; ++y)
    for (int64_t x = 0; x < background.w; ++x) {
      const int64_t p = y * background.w + x;
      if (id[p] < 0) continue;
      const bool edge = y == 0 || x == 0 || y == background.h - 1 || x == background.w - 1;
      if (edge || !fov.v[p]) open[static_cast<size_t>(id[p])] = 1;
    }
  for (size_t c = 0; c < bg_sizes.size(); ++c) s.holes += !open[c] && bg_sizes[c] >= kMinHole;
  return s;
}

void to_json(nlohmann::json& j, const TreeStats& s) {
  j = {{"vessel_fraction", s.vessel_fraction}, {"centreline_density", s.centreline_density},
       {"branch_density", s.branch_density},   {"end_density", s.end_density},
       {"width_mean", s.width_mean},           {"width_hist", s.width_hist},
       {"tortuosity", s.tortuosity},           {"components", s.components},
       {"holes", s.holes}};
}

std::vector<TreeFigure> summarize(const std::vector<TreeStats>& maps) {
  std::vector<std::pair<std::string, std::function<double(const TreeStats&)>>> of = {
      {"vessel_fraction", [](const TreeStats& s) { return s.vessel_fraction; }},
      {"centreline_density", [](const TreeStats& s) { return s.centreline_density; }},
      {"branch_density", [](const TreeStats& s) { return s.branch_density; }},
      {"end_density", [](const TreeStats& s) { return s.end_density; }},
      {"width_mean", [](const TreeStats& s) { return s.width_mean; }}};
  const char* bins[] = {"width <2 px", "width 2-3 px", "width 3-4 px", "width 4-6 px", "width 6-8 px", "width >=8 px"};
  for (size_t b = 0; b < kWidthBins.size(); ++b)
    of.emplace_back(bins[b], [b](const TreeStats& s) { return s.width_hist[b]; });
  of.emplace_back("tortuosity", [](const TreeStats& s) { return s.tortuosity; });
  of.emplace_back("components", [](const TreeStats& s) { return s.components; });
  of.emplace_back("holes", [](const TreeStats& s) { return s.holes; });
  std::vector<TreeFigure> out;
  for (const auto& [name, get] : of) {
    TreeFigure f{name, 0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (const auto& m : maps) {
      const double v = get(m);
      f.mean += v;
      f.min = std::min(f.min, v);
      f.max = std::max(f.max, v);
    }
    if (!maps.empty()) f.mean /= static_cast<double>(maps.size());
    else f.min = f.max = 0;
    out.push_back(f);
  }
  return out;
}

}  // namespace vg
