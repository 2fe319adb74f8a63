#include "vesselgan/gan/whole_photograph.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/json_fields.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/data/preprocess.h"
#include "vesselgan/gan/sampler.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

// What a crop cannot show, as a gain on the painted photograph: light falling off toward the rim, the darker
// macula, the bright optic disc. Measured on DRIVE's training photographs without 22 and 28
// (scripts/measure_drive_shading.py: the background's median luminance, vessels excluded, relative to that
// within half the FOV radius): 0.885 within 0.1 R of the centre, 1.0 from 0.2 to 0.5 R, then falling to 0.81
// at the rim; the disc's median colour (1.0, 0.77, 0.41), which the gain gives the painted background
// `background` (RGB, vessels excluded) inside the disc, vessels keeping their contrast. [3, H, W] for the frame
// whose top-left corner is (top, left) of the square the geometry is given in; `jitter` in [-1, 1]^3 varies
// the fall-off, the macula and the disc's colour by +-20 %, +-20 % and +-10 %.
torch::Tensor fundus_shading(const PhantomGeometry& g, int64_t height, int64_t width, int64_t top, int64_t left,
                             const std::array<double, 3>& background, const std::array<double, 3>& jitter) {
  const double rim = 0.19 * (1 + 0.2 * jitter[0]), macula_dim = 0.115 * (1 + 0.2 * jitter[1]);
  const double disc_colour[3] = {1.0, 0.77, 0.41};
  double disc_gain[3];
  for (int c = 0; c < 3; ++c)
    disc_gain[c] = std::max(0.0, disc_colour[c] * (1 + 0.1 * jitter[2]) / std::max(background[c], 0.05) - 1);
  auto out = torch::empty({3, height, width});
  auto a = out.accessor<float, 3>();
  for (int64_t i = 0; i < height; ++i)
    for (int64_t j = 0; j < width; ++j) {
      const double x = static_cast<double>(j + left) + 0.5, y = static_cast<double>(i + top) + 0.5;
      const double r = std::hypot(x - g.fov_x, y - g.fov_y) / g.fov_r;
      const double falloff = r <= 0.45 ? 1.0 : 1 - rim * std::pow(std::min(1.0, (r - 0.45) / 0.55), 1.5);
      const double dm = std::hypot(x - g.macula_x, y - g.macula_y) / g.fov_r;
      const double macula = 1 - macula_dim * std::exp(-dm * dm / (2 * 0.12 * 0.12));
      const double d_od = std::hypot(x - g.disc_x, y - g.disc_y);
      const double disc = 1 / (1 + std::exp((d_od - g.disc_r) / (0.15 * g.disc_r)));
      for (int c = 0; c < 3; ++c) a[c][i][j] = static_cast<float>(falloff * macula * (1 + disc_gain[c] * disc));
    }
  return out;
}

// The fine texture of a fundus photograph's background, which the painter leaves smooth, as a gain around 1
// [3, H, W]: grain (white luminance noise), colour grain (white noise of zero mean over the channels) and
// mottle (white noise blurred by a gaussian of 2 px, scaled to unit deviation), each `strength` times an
// amplitude chosen so that scripts/measure_drive_texture.py finds DRIVE's mean levels on the photographs
// (DRIVE's 18 training photographs: grain 0.0145, mottle 0.0118, colour grain 0.0131; the painter's own
// photographs without texture 0.0018, 0.0052, 0.0026). `strength` in [0.6, 1.4] spans DRIVE's range.
torch::Tensor fundus_texture(int64_t height, int64_t width, double strength, at::Generator& gen) {
  constexpr double kGrain = 0.0165, kColour = 0.018, kMottle = 0.0145;
  const auto grain = torch::randn({1, height, width}, gen);
  auto colour = torch::randn({3, height, width}, gen);
  colour = colour - colour.mean(0, true);
  auto mottle = gaussian_blur(torch::randn({1, height, width}, gen), 2.0);
  mottle = mottle / mottle.std();
  return (grain * kGrain + colour * kColour + mottle * kMottle).mul(strength).add(1);
}

// UserError for a generator that cannot paint whole photographs.
void require_whole_painter(const LoadedGenerator& g) {
  if (!g.painter)
    throw UserError(g.path.string() + " has no painter: whole photographs need a label-first generator file "
                    "(the shipped models/generator-drive.pt, or gan export --painter)");
}

}  // namespace

void validate(const WholeOptions& o) {
  check_field(o.width >= 64 && o.width <= 2048, "whole.width", o.width, "64 to 2048 pixels");
  check_field(o.height >= 64 && o.height <= 2048, "whole.height", o.height, "64 to 2048 pixels");
  check_field(o.count >= 1, "whole.count", o.count, ">= 1");
  validate(o.appearance);
}

WholePhotograph paint_whole(const LoadedGenerator& g, int64_t index, const WholeOptions& o,
                            const torch::Device& device) {
  validate(o);
  require_whole_painter(g);
  // The tree grows in the square that holds the frame; the frame is its centre.
  PhantomOptions trees = o.trees;
  trees.size = std::max(o.width, o.height);
  const PhantomSample tree = make_phantom(trees, phantom_seed(o.seed, index));
  WholePhotograph p;
  p.label = frame_centred(tree.label, o.height, o.width);
  p.mask = frame_centred(tree.mask, o.height, o.width);
  const int64_t top = (trees.size - o.height) / 2, left = (trees.size - o.width) / 2;

  // The painter paints a canvas its levels divide; the photograph is its top-left corner.
  Painter painter = g.painter;
  const int64_t unit = int64_t{1} << painter->options().levels;
  const int64_t H = (o.height + unit - 1) / unit * unit, W = (o.width + unit - 1) / unit * unit;
  auto canvas = torch::full({1, 1, H, W}, -1.0F);
  canvas.slice(2, 0, o.height).slice(3, 0, o.width).copy_(p.label.mul(2).sub(1).unsqueeze(0));
  // The photograph's own appearance code and noise, apart from its tree's draws.
  auto gen = at::detail::createCPUGenerator(mix_seed(mix_seed(o.seed ^ 0x3a07e1e5ULL) ^ static_cast<uint64_t>(index)));
  const auto eps = torch::randn({1, 3}, gen), noise = torch::randn({1, 1, H, W}, gen);
  const auto jitter = torch::rand({3}, gen).mul(2).sub(1);
  torch::NoGradGuard no_grad;
  const auto rgb = painter->forward(canvas.to(device), painter->appearance_from(eps).to(device), noise.to(device))
                       .to(torch::kCPU, torch::kFloat)[0]
                       .slice(1, 0, o.height)
                       .slice(2, 0, o.width);
  const auto painted = rgb.add(1).mul(0.5).clamp(0, 1);
  torch::Tensor shading = torch::ones({3, o.height, o.width});
  if (o.shading) {
    const auto bg = p.mask.gt(0.5).logical_and(p.label.lt(0.5))[0];
    std::array<double, 3> background{};
    for (int c = 0; c < 3; ++c) background[static_cast<size_t>(c)] = painted[c].masked_select(bg).median().item<double>();
    shading = fundus_shading(tree.geometry, o.height, o.width, top, left, background,
                             {jitter[0].item<double>(), jitter[1].item<double>(), jitter[2].item<double>()});
  }
  if (o.texture) {
    // Drawn after the painter's and the shading's draws, so those are the same with and without texture.
    const double strength = 0.6 + 0.8 * torch::rand({1}, gen).item<double>();
    shading = shading * fundus_texture(o.height, o.width, strength, gen);
  }
  const AppearanceDraw look = draw_appearance(o.appearance, mix_seed(o.seed ^ 0x77686f6cULL) ^ static_cast<uint64_t>(index));
  p.image = apply_appearance(painted.mul(shading).clamp(0, 1), look).mul(p.mask).contiguous();
  return p;
}

int64_t generate_whole(const LoadedGenerator& g, const fs::path& out, const WholeOptions& o,
                       const torch::Device& device, const ProgressFn& progress) {
  validate(o);
  require_whole_painter(g);  // before anything is written
  nlohmann::json info = {
      {"checkpoint", fs::absolute(g.path).string()},
      {"whole", true},
      {"width", o.width},
      {"height", o.height},
      {"count", o.count},
      {"seed", o.seed},
      {"trees", o.trees},
      {"labels", "the procedural tree (data/phantom.h), exact"},
      {"shading", o.shading},
      {"texture", o.texture},
      {"appearance", o.appearance},
      {"images", o.shading ? "the whole map painted by the generator's painter, shaded with DRIVE's light "
                             "fall-off, macula and optic disc, black outside the FOV"
                           : "the whole map painted by the generator's painter, black outside the FOV"}};
  if (o.appearance.wide)
    info["images"] = info["images"].get<std::string>() + "; then each photograph's own exposure, colour cast, "
                     "contrast, illumination gradient, gamma, blur and noise, drawn from the ranges in `appearance`";
  // A folder holds one generation: resuming it with other options would mix two kinds of photograph.
  const fs::path info_path = out / "generate.json";
  if (fs::exists(info_path) && nlohmann::json::parse(read_file(info_path), nullptr, false) != info)
    throw UserError(out.string() + " holds whole photographs generated with other options (its generate.json); "
                    "resume it with the same options, or choose another --out");
  for (const char* sub : {"images", "labels", "masks"}) fs::create_directories(out / sub);
  write_file_atomic(info_path, info.dump(2) + "\n");
  int64_t written = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.count; ++i) {
    const std::string id = image_id(i);
    if (!fs::exists(out / "images" / (id + ".png"))) {
      const WholePhotograph p = paint_whole(g, i, o, device);
      // Label and mask first, the photograph last: a photograph on disk means its sample is complete.
      write_png(out / "labels" / (id + ".png"), p.label, 8);
      write_png(out / "masks" / (id + ".png"), p.mask, 8);
      write_png(out / "images" / (id + ".png"), p.image, 8);
      ++written;
    }
    if (progress) {
      Progress pr;
      pr.stage = "generate";
      pr.unit = "photograph";
      pr.done = i + 1;
      pr.total = o.count;
      pr.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress(pr);
    }
  }
  return written;
}

}  // namespace vg
