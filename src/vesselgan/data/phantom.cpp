#include "vesselgan/data/phantom.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/preprocess.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/io/image_writers.h"

namespace vg {

namespace F = torch::nn::functional;

namespace {

// ---- randomness: the engine's raw output is portable; the conversions below are ours, so the phantoms
// do not depend on the standard library's distribution algorithms ----

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {  // Box-Muller
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u = 1.0 - uniform(), v = uniform();  // u in (0, 1]
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = r * std::sin(2 * M_PI * v);
    has_spare_ = true;
    return r * std::cos(2 * M_PI * v);
  }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  torch::Tensor normal_tensor(std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<float>(normal());
    return torch::from_blob(v.data(), shape, torch::kFloat).clone();
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// ---- vessel rasterisation ----

// Per-pixel maximum over all drawn segments of the anti-aliased coverage and of the absorption, plus the
// running count of labelled (coverage >= 1/2) pixels inside the FOV.
struct VesselCanvas {
  int64_t S;
  std::vector<float> coverage, absorption;
  std::vector<uint8_t> fov;
  int64_t labelled = 0;
  VesselCanvas(int64_t s, const std::vector<uint8_t>& inside)
      : S(s), coverage(s * s, 0.f), absorption(s * s, 0.f), fov(inside) {}

  // Whether the pixel under (x, y) is labelled vessel already (false outside the square).
  bool covered(double x, double y) const {
    const auto i = static_cast<int64_t>(std::floor(y)), j = static_cast<int64_t>(std::floor(x));
    return i >= 0 && j >= 0 && i < S && j < S && coverage[static_cast<size_t>(i * S + j)] >= 0.5f;
  }

  // Tapered capsule from (x0, y0) with radius r0 to (x1, y1) with radius r1 (pixel units, pixel (i, j) has
  // its center at (j + 0.5, i + 0.5)). Coverage of a pixel ~ clamp(r - d + 1/2, 0, 1) with d the distance of
  // its center to the axis, so coverage >= 1/2 exactly when the center lies inside the vessel.
  void segment(double x0, double y0, double x1, double y1, double r0, double r1, double strength) {
    const double rmax = std::max(r0, r1) + 1.0;
    const int64_t j0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(std::min(x0, x1) - rmax)));
    const int64_t j1 = std::min<int64_t>(S - 1, static_cast<int64_t>(std::ceil(std::max(x0, x1) + rmax)));
    const int64_t i0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(std::min(y0, y1) - rmax)));
    const int64_t i1 = std::min<int64_t>(S - 1, static_cast<int64_t>(std::ceil(std::max(y0, y1) + rmax)));
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int64_t i = i0; i <= i1; ++i) {
      for (int64_t j = j0; j <= j1; ++j) {
        const double px = j + 0.5 - x0, py = i + 0.5 - y0;
        const double t = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
        const double ex = px - t * dx, ey = py - t * dy, d = std::sqrt(ex * ex + ey * ey);
        const double r = r0 + t * (r1 - r0);
        const double cov = std::clamp(r - d + 0.5, 0.0, 1.0);
        if (cov <= 0) continue;
        // A longer light path through the vessel's middle: a gently darker core.
        const double core = d < r ? std::sqrt(1.0 - (d * d) / (r * r)) : 0.0;
        const size_t k = static_cast<size_t>(i * S + j);
        if (cov >= 0.5 && coverage[k] < 0.5f && fov[k]) ++labelled;
        coverage[k] = std::max(coverage[k], static_cast<float>(cov));
        absorption[k] = std::max(absorption[k], static_cast<float>(cov * strength * (0.75 + 0.25 * core)));
      }
    }
  }
};

struct Branch {
  double x, y, angle, width;
  double bias, bias_length;  // steering curvature (1/px), fading as exp(-length / bias_length)
  double strength;           // darkness of this vessel (veins 1, arteries lighter)
  double no_fork;            // no bifurcation before this length (keeps the optic disc uncluttered)
  double max_length;
  bool operator<(const Branch& o) const { return width < o.width; }  // priority: widest first
};

struct Scene {
  double S, cx, cy, R;    // image side, FOV center, FOV radius
  double odx, ody, od_r;  // optic disc
  double mx, my;          // macula (fovea) center
  double fovea_r;         // no vessel enters this disc
};

// Grows the vessel trees from the optic disc, always continuing the widest pending branch, until the labelled
// share of the FOV reaches `target` or no branch is left.
void grow_trees(const PhantomOptions& opt, const Scene& sc, double side, double target, Rng& rng,
                VesselCanvas& canvas) {
  const double S = sc.S, R = sc.R;
  // Vessels are drawn at least min_width_px wide (thinner ones would leave broken labels) but fade with their
  // true width, and end when it drops below 0.7 min_width_px.
  const double w_draw = opt.min_width_px, w_min = 0.7 * opt.min_width_px;
  // Trees in the "temporal frame" (angle 0 points from the disc toward the macula, -90 deg is up), as
  // (angle deg, steering curvature in units of 1/R, relative width, darkness). Veins are wider and darker
  // than their companion arteries; the temporal arcades bend around the macula.
  struct Template {
    double angle_deg, bias, width, strength;
  };
  const Template templates[] = {{-72, 2.0, 1.0, 1.0},    {74, -2.0, 1.0, 1.0},   {-46, 1.5, 0.75, 0.75},
                                {48, -1.5, 0.75, 0.75},  {-140, -0.4, 0.8, 1.0}, {138, 0.4, 0.8, 1.0},
                                {-112, -0.3, 0.6, 0.75}, {114, 0.3, 0.6, 0.75}};
  const double trunk = opt.vessel_width * S;
  std::priority_queue<Branch> pending;
  for (int64_t t = 0; t < opt.num_trees; ++t) {
    const Template& tp = templates[t];
    double a = (tp.angle_deg + rng.uniform(-8, 8)) * M_PI / 180;
    double bias = tp.bias * rng.uniform(0.8, 1.2) / R;
    if (side > 0) {  // disc on the right, macula to the left: mirror x (angle -> pi - angle, curvature flips)
      a = M_PI - a;
      bias = -bias;
    }
    const double w = tp.width * trunk * rng.uniform(0.9, 1.1);
    const double start = 0.3 * sc.od_r;
    pending.push({sc.odx + start * std::cos(a), sc.ody + start * std::sin(a), a, w, bias, 0.9 * R,
                  tp.strength, 1.5 * sc.od_r, 2.5 * R});
  }

  const double target_pixels =
      target * static_cast<double>(std::count(canvas.fov.begin(), canvas.fov.end(), 1));
  const double spacing = opt.branch_spacing * R;
  const double corr_length = 0.05 * R;                // curvature correlation length
  const double kappa_std = opt.tortuosity * 3.0 / R;  // stationary std of the random curvature
  const double taper = 0.15 / R;                      // relative width loss per pixel of length
  const double outward = 1.0 / R;  // side branches drift gently away from the disc, spreading over the FOV
  // Wide vessels fork less often: mean fork spacing from 0.5x (thinnest) to 2x (trunk) branch_spacing.
  auto fork_gap = [&](double w) { return rng.exponential(spacing * (0.5 + 1.5 * std::min(1.0, w / trunk))); };
  int64_t budget = 50000 + 200 * static_cast<int64_t>(S);  // segments, a safety net
  while (!pending.empty() && budget > 0 && canvas.labelled < target_pixels) {
    Branch b = pending.top();
    pending.pop();
    double kappa = 0, length = 0, next_fork = b.no_fork + fork_gap(b.width);
    while (budget-- > 0) {
      const double step = std::max(0.5, 0.004 * S + 0.25 * b.width);
      const double rho = std::exp(-step / corr_length);
      const double stiffness = 1.0 - 0.5 * std::min(1.0, b.width / trunk);  // wide vessels bend less
      kappa = rho * kappa + stiffness * kappa_std * std::sqrt(1 - rho * rho) * rng.normal();
      double steer = b.bias * std::exp(-length / b.bias_length);
      if (b.bias == 0) steer += outward * std::sin(std::atan2(b.y - sc.ody, b.x - sc.odx) - b.angle);
      b.angle += (kappa + steer) * step;
      if (b.width < opt.end_before_crossing * trunk && length > 3 * trunk) {  // clear of its own fork first
        const double look = 2 * std::max(b.width, w_draw) + 3;
        if (canvas.covered(b.x + look * std::cos(b.angle), b.y + look * std::sin(b.angle))) break;
      }
      const double w1 = b.width * (1 - taper * step);
      const double nx = b.x + step * std::cos(b.angle), ny = b.y + step * std::sin(b.angle);
      const double fade = 0.4 + 0.6 * std::min(1.0, b.width / trunk);  // thin vessels are fainter
      canvas.segment(b.x, b.y, nx, ny, std::max(b.width, w_draw) / 2, std::max(w1, w_draw) / 2,
                     b.strength * fade);
      b.x = nx, b.y = ny, b.width = w1, length += step;
      if (std::hypot(b.x - sc.cx, b.y - sc.cy) > R + 2 || b.width < w_min || length > b.max_length) break;
      if (std::hypot(b.x - sc.mx, b.y - sc.my) < sc.fovea_r) break;
      if (length >= next_fork) {
        next_fork = length + fork_gap(b.width);
        // Murray's law: w^3 = w_a^3 + w_b^3, with w_b = alpha w_a the smaller child.
        const double alpha = 0.25 + 0.75 * std::pow(rng.uniform(), 2.0);
        const double wa = b.width / std::cbrt(1 + alpha * alpha * alpha), wb = alpha * wa;
        const double turn = rng.uniform() < 0.5 ? -1.0 : 1.0;
        const double child_angle = b.angle + turn * rng.uniform(35, 75) * M_PI / 180;
        b.angle -= turn * rng.uniform(5, 25) * alpha * alpha * M_PI / 180;  // the parent yields a little
        b.width = wa;
        if (wb >= w_min) pending.push({b.x, b.y, child_angle, wb, 0.0, 1.0, b.strength, 0.0, 1.5 * R});
      }
    }
  }
}

// Smooth random field [S, S] (row-major): a g x g grid of normals, upsampled bicubically.
std::vector<float> smooth_noise(Rng& rng, int64_t g, int64_t S) {
  const torch::Tensor grid = rng.normal_tensor({1, 1, g, g});
  const torch::Tensor up = F::interpolate(grid, F::InterpolateFuncOptions()
                                                    .size(std::vector<int64_t>{S, S})
                                                    .mode(torch::kBicubic)
                                                    .align_corners(true))
                               .contiguous();
  return std::vector<float>(up.data_ptr<float>(), up.data_ptr<float>() + S * S);
}

// In-place separable gaussian blur of `channels` planes of S x S floats, replicate borders.
void blur_channels(std::vector<float>& img, int64_t channels, int64_t S, double sigma) {
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  std::vector<double> k(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int64_t t = -radius; t <= radius; ++t) sum += k[t + radius] = std::exp(-0.5 * t * t / (sigma * sigma));
  for (auto& v : k) v /= sum;
  std::vector<float> line(static_cast<size_t>(S));
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = img.data() + c * S * S;
    for (int pass = 0; pass < 2; ++pass) {  // rows, then columns
      const int64_t stride = pass == 0 ? 1 : S, step = pass == 0 ? S : 1;
      for (int64_t l = 0; l < S; ++l) {
        float* p = plane + l * step;
        for (int64_t i = 0; i < S; ++i) {
          double acc = 0;
          for (int64_t t = -radius; t <= radius; ++t)
            acc += k[t + radius] * p[std::clamp<int64_t>(i + t, 0, S - 1) * stride];
          line[i] = static_cast<float>(acc);
        }
        for (int64_t i = 0; i < S; ++i) p[i * stride] = line[i];
      }
    }
  }
}

torch::Tensor to_tensor(const std::vector<float>& v, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat).clone();
}

}  // namespace

namespace {

const auto kPhantomFields = [](auto& o, auto&& field) {
  field("size", o.size, within(32, 4096, "32..4096 pixels"));
  field("fov_radius", o.fov_radius, within(0.25, 0.5, "0.25..0.5 (fraction of size)"));
  field("num_trees", o.num_trees, within(2, 8, "2..8"));
  field("vessel_width", o.vessel_width, within(0.002, 0.05, "0.002..0.05 (fraction of size)"));
  field("min_width_px", o.min_width_px, within(0.5, 20, "0.5..20 pixels"));
  field("vessel_fraction", o.vessel_fraction, within(0.01, 0.5, "0.01..0.5"));
  field("branch_spacing", o.branch_spacing, within(0.02, 2, "0.02..2 (fraction of FOV radius)"));
  field("tortuosity", o.tortuosity, within(0, 5, "0..5"));
  field("end_before_crossing", o.end_before_crossing, within(0, 1, "0..1 (fraction of the trunk's width; 0 = vessels cross)"));
  field("noise_std", o.noise_std, within(0, 0.2, "0..0.2"));
  field("blur", o.blur, within(0, 0.02, "0..0.02 (fraction of size)"));
};

}  // namespace

void to_json(nlohmann::json& j, const PhantomOptions& o) { j = fields_to_json(o, kPhantomFields); }
void from_json(const nlohmann::json& j, PhantomOptions& o) { fields_from_json(j, "phantom", o, kPhantomFields); }
void validate(const PhantomOptions& o) { validate_fields("phantom", o, kPhantomFields); }

PhantomSample make_phantom(const PhantomOptions& opt, uint64_t seed) {
  validate(opt);
  Rng rng(seed);
  const int64_t S = opt.size;
  const size_t P = static_cast<size_t>(S * S);
  Scene sc{};
  sc.S = static_cast<double>(S);
  sc.cx = sc.cy = sc.S / 2;
  sc.R = opt.fov_radius * sc.S;
  const double side = rng.uniform() < 0.5 ? -1.0 : 1.0;  // which side the optic disc is on (left / right eye)
  sc.od_r = sc.R / 7 * rng.uniform(0.9, 1.1);            // disc diameter ~ 1/7 of the FOV diameter
  sc.odx = sc.cx + side * sc.R * rng.uniform(0.5, 0.6);
  sc.ody = sc.cy + sc.R * rng.uniform(-0.08, 0.08);
  sc.mx = sc.cx - side * sc.R * rng.uniform(0.08, 0.16);
  sc.my = sc.ody + sc.R * rng.uniform(-0.04, 0.08);
  sc.fovea_r = 0.1 * sc.R;

  // FOV: pixel centers within R of the center.
  std::vector<uint8_t> inside(P);
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) inside[i * S + j] = std::hypot(j + 0.5 - sc.cx, i + 0.5 - sc.cy) <= sc.R;

  VesselCanvas canvas(S, inside);
  grow_trees(opt, sc, side, opt.vessel_fraction * rng.uniform(0.85, 1.15), rng, canvas);

  // Background colour and textures.
  const double base[3] = {rng.uniform(0.74, 0.86), rng.uniform(0.34, 0.44), rng.uniform(0.12, 0.2)};
  const std::vector<float> coarse = smooth_noise(rng, 5, S), fine = smooth_noise(rng, 17, S);
  std::vector<float> tint[3] = {smooth_noise(rng, 6, S), smooth_noise(rng, 6, S), smooth_noise(rng, 6, S)};
  // Optic disc (bright yellowish, soft rim, paler cup, faint halo) and vessels (absorbing most in green,
  // where haemoglobin absorbs, least in red).
  const double disc_rgb[3] = {0.22, 0.32, 0.22}, cup_rgb[3] = {0.06, 0.14, 0.14},
               halo_rgb[3] = {0.05, 0.05, 0.02};
  const double vessel_rgb[3] = {0.25, 0.62, 0.5};
  std::vector<float> img(3 * P);
  for (int64_t i = 0; i < S; ++i) {
    for (int64_t j = 0; j < S; ++j) {
      const size_t k = static_cast<size_t>(i * S + j);
      const double x = j + 0.5, y = i + 0.5;
      const double r = std::min(std::hypot(x - sc.cx, y - sc.cy) / sc.R, 1.2);
      const double vignette = 1 - 0.55 * std::pow(r, 2.2);  // darker toward the rim
      const double dm2 = (x - sc.mx) * (x - sc.mx) + (y - sc.my) * (y - sc.my);
      const double macula = 1 - 0.22 * std::exp(-dm2 / (0.06 * sc.R * sc.R));
      const double d_od = std::hypot(x - sc.odx, y - sc.ody);
      const double disc = 1 / (1 + std::exp((d_od - sc.od_r) / (0.12 * sc.od_r)));
      const double cup = std::exp(-std::pow(d_od / (0.45 * sc.od_r), 2)),
                   halo = std::exp(-std::pow(d_od / (2 * sc.od_r), 2));
      const double texture = 1 + 0.06 * coarse[k] + 0.02 * fine[k];
      for (int c = 0; c < 3; ++c) {
        const double bg = base[c] * vignette * (texture + 0.03 * tint[c][k]) * macula;
        const double v = bg + disc_rgb[c] * disc + cup_rgb[c] * cup + halo_rgb[c] * halo;
        img[c * P + k] = static_cast<float>(v * (1 - vessel_rgb[c] * canvas.absorption[k]));
      }
    }
  }
  // Optics and sensor: slight blur, gaussian noise; then the FOV aperture (anti-aliased rim, black outside).
  const double sigma = opt.blur * sc.S;
  if (sigma >= 0.2) blur_channels(img, 3, S, sigma);
  std::vector<float> label(P), mask(P);
  for (size_t k = 0; k < P; ++k) {
    const int64_t i = static_cast<int64_t>(k) / S, j = static_cast<int64_t>(k) % S;
    const double aperture =
        inside[k] ? std::clamp(sc.R - std::hypot(j + 0.5 - sc.cx, i + 0.5 - sc.cy) + 0.5, 0.0, 1.0) : 0.0;
    for (int c = 0; c < 3; ++c) {
      const double noise = opt.noise_std > 0 ? opt.noise_std * rng.normal() : 0.0;
      img[c * P + k] = static_cast<float>(std::clamp((img[c * P + k] + noise) * aperture, 0.0, 1.0));
    }
    mask[k] = inside[k];
    label[k] = inside[k] && canvas.coverage[k] >= 0.5f;
  }
  const PhantomGeometry geometry{sc.cx, sc.cy, sc.R, sc.odx, sc.ody, sc.od_r, sc.mx, sc.my};
  return {to_tensor(img, {3, S, S}), to_tensor(label, {1, S, S}), to_tensor(mask, {1, S, S}), geometry};
}

uint64_t phantom_seed(uint64_t seed, int64_t index) {
  return splitmix64(splitmix64(seed) + static_cast<uint64_t>(index));
}

void write_phantom_dataset(const std::filesystem::path& dir, int n_train, int n_test,
                           const PhantomOptions& opt, uint64_t seed) {
  if (n_train < 0 || n_test < 0)
    throw UserError("phantom data set: image counts must be >= 0, got train " + std::to_string(n_train) +
                    ", test " + std::to_string(n_test));
  validate(opt);
  const int total = n_train + n_test;
  const int digits = std::max<int>(2, static_cast<int>(std::to_string(total).size()));
  for (int index = 0; index < total; ++index) {
    const PhantomSample s = make_phantom(opt, phantom_seed(seed, index));
    std::string id = std::to_string(index + 1);
    id = std::string(static_cast<size_t>(digits) - id.size(), '0') + id + ".png";
    const std::filesystem::path split = dir / (index < n_train ? "train" : "test");
    for (const char* sub : {"images", "labels", "masks"}) std::filesystem::create_directories(split / sub);
    write_png(split / "images" / id, s.image, 8);
    write_png(split / "labels" / id, s.label, 8);
    write_png(split / "masks" / id, s.mask, 8);
  }
}

torch::Tensor frame_centred(const torch::Tensor& x, int64_t fh, int64_t fw) {
  torch::Tensor y = x;
  if (fh < y.size(1)) y = y.narrow(1, (y.size(1) - fh) / 2, fh);
  if (fw < y.size(2)) y = y.narrow(2, (y.size(2) - fw) / 2, fw);
  return pad_center(y.contiguous(), std::max(fh, y.size(1)), std::max(fw, y.size(2)));
}

namespace {

torch::Tensor dilate1(const torch::Tensor& label) {  // [1, H, W] {0, 1}: a 3x3 dilation
  return F::max_pool2d(label.unsqueeze(0), F::MaxPool2dFuncOptions(3).stride(1).padding(1))[0];
}

std::string two_digits(int v) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

}  // namespace

std::vector<std::string> phantom_layout_ids(const std::string& layout, int n) {
  // STARE's 20 labelled photographs, in id order.
  static const int kStare[20] = {1, 2, 3, 4, 5, 44, 77, 81, 82, 139, 162, 163, 235, 236, 239, 240, 255, 291, 319, 324};
  static const char* const kHrf[3] = {"h", "dr", "g"};
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    if (layout == "chase") {
      ids.push_back("Image_" + two_digits(i / 2 + 1) + (i % 2 == 0 ? "L" : "R"));
    } else if (layout == "stare") {
      char b[16];
      std::snprintf(b, sizeof b, "im%04d", i < 20 ? kStare[i] : 1001 + i - 20);
      ids.push_back(b);
    } else if (layout == "hrf") {
      ids.push_back(two_digits(i / 3 + 1) + "_" + kHrf[i % 3]);
    } else if (layout == "photos") {
      ids.push_back("photo_" + two_digits(i + 1));
    } else {
      throw UserError("unknown phantom layout '" + layout + "' (valid: chase, stare, hrf, photos)");
    }
  }
  return ids;
}

void write_phantom_layout(const std::filesystem::path& dir, const std::string& layout, int n,
                          const PhantomOptions& opt, uint64_t seed) {
  if (n < 1 || n > 200) throw UserError("phantom layout: image count must be 1..200, got " + std::to_string(n));
  validate(opt);
  const std::vector<std::string> ids = phantom_layout_ids(layout, n);
  namespace fs = std::filesystem;
  for (int i = 0; i < n; ++i) {
    PhantomOptions o = opt;
    if (layout == "photos") {
      const double factor[3] = {1.0, 1.5, 0.75};
      o.size = std::clamp<int64_t>(std::llround(static_cast<double>(opt.size) * factor[i % 3]), 32, 4096);
    }
    const PhantomSample p = make_phantom(o, phantom_seed(seed, i));
    const int64_t S = o.size;
    const std::string& id = ids[i];
    if (layout == "chase") {
      const int64_t fw = std::llround(static_cast<double>(S) * 999.0 / 960.0);
      write_jpeg(dir / (id + ".jpg"), frame_centred(p.image, S, fw));
      write_png(dir / (id + "_1stHO.png"), frame_centred(p.label, S, fw));
      write_png(dir / (id + "_2ndHO.png"), frame_centred(dilate1(p.label), S, fw));
    } else if (layout == "stare") {
      const int64_t fh = std::llround(static_cast<double>(S) * 605.0 / 700.0);
      write_pnm(dir / "stare-images" / (id + ".ppm"), frame_centred(p.image, fh, S));
      write_pnm(dir / "labels-ah" / (id + ".ah.ppm"), frame_centred(p.label, fh, S));
      write_pnm(dir / "labels-vk" / (id + ".vk.ppm"), frame_centred(dilate1(p.label), fh, S));
    } else if (layout == "hrf") {
      const int64_t fh = std::llround(static_cast<double>(S) * 2.0 / 3.0);
      write_jpeg(dir / "images" / (id + (i % 3 == 1 ? ".JPG" : ".jpg")), frame_centred(p.image, fh, S));
      write_tiff(dir / "manual1" / (id + ".tif"), frame_centred(p.label, fh, S));
      write_tiff(dir / "mask" / (id + "_mask.tif"), frame_centred(p.mask, fh, S));
    } else {  // photos
      const int64_t fw = std::llround(static_cast<double>(S) * 4.0 / 3.0);
      write_jpeg(dir / (id + ".jpg"), frame_centred(p.image, S, fw));
    }
  }
}

}  // namespace vg
