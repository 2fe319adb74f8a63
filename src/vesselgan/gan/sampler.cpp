#include "vesselgan/gan/sampler.h"

#include <chrono>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/json_fields.h"
#include "vesselgan/data/fov.h"
#include "vesselgan/gan/image_grid.h"
#include "vesselgan/gan/procedural_maps.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

std::string image_id(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(index));
  return buf;
}

namespace {
// out/grid.png: images 0..n-1 as written, 8 a row; with labels each row of images above a row of their labels.
void write_sample_grid(const fs::path& out, int64_t n, bool labels) {
  const int64_t cols = 8;
  std::vector<torch::Tensor> tiles;
  auto read_rgb = [](const fs::path& p) {
    auto x = read_image(p).pixels;
    return x.size(0) == 1 ? x.expand({3, -1, -1}) : x;
  };
  for (int64_t row = 0; row < n; row += cols) {
    const int64_t end = std::min(n, row + cols);
    for (int64_t i = row; i < row + cols; ++i)
      tiles.push_back(i < end ? read_rgb(out / "images" / (image_id(i) + ".png")) : torch::Tensor());
    if (labels)
      for (int64_t i = row; i < row + cols; ++i)
        tiles.push_back(i < end ? read_rgb(out / "labels" / (image_id(i) + ".png")) : torch::Tensor());
  }
  const auto like = tiles.front();
  for (auto& t : tiles)
    if (!t.defined()) t = torch::zeros_like(like);
  write_png(out / "grid.png", image_grid(torch::stack(tiles).mul(2).sub(1), cols), 8);
}
// UserError for a label-patch generator that comes without the painter its maps need.
void require_painter_for_maps(const LoadedGenerator& g) {
  if (is_label_mode(g.options) && !g.painter)
    throw UserError(g.path.string() + " draws vessel maps only (label-patch): use a label-first generator file "
                    "that holds its painter (gan export --painter)");
}
}  // namespace

torch::Tensor latent_for(uint64_t seed, int64_t index, int64_t z_dim) {
  auto gen = at::detail::createCPUGenerator(mix_seed(mix_seed(seed) ^ static_cast<uint64_t>(index)));
  return torch::randn({z_dim}, gen);
}

torch::Tensor sample_images(Generator& G, int64_t first, int64_t n, double psi, uint64_t seed,
                            const torch::Device& device) {
  TORCH_CHECK(n >= 1 && first >= 0, "sample_images: need n >= 1 and first >= 0, got n=", n, " first=", first);
  std::vector<torch::Tensor> z;
  for (int64_t i = 0; i < n; ++i) z.push_back(latent_for(seed, first + i, G->options().z_dim));
  torch::NoGradGuard no_grad;
  return G->forward(torch::stack(z).to(device), psi, NoiseMode::kConst).to(torch::kFloat);
}

torch::Tensor sample_with_labels(const LoadedGenerator& g, int64_t first, int64_t n, double psi, uint64_t seed,
                                 const torch::Device& device) {
  Generator G = g.G;
  if (is_joint_mode(g.options)) return sample_images(G, first, n, psi, seed, device);
  if (!is_label_mode(g.options))
    throw UserError(g.path.string() + " is a '" + g.options.mode + "' generator: it draws no vessel labels");
  require_painter_for_maps(g);
  const auto maps = g.maps == "procedural"
                        ? procedural_vessel_maps(seed, first, n, g.options.resolution, g.procedural).to(device)
                        : sample_images(G, first, n, psi, seed, device);  // [n, 1, R, R]
  const auto binary = maps.gt(0).to(torch::kFloat).mul(2).sub(1);  // prob (map + 1) / 2 > 0.5
  std::vector<torch::Tensor> eps, noise;
  for (int64_t i = 0; i < n; ++i) {
    // Each image's own draws, from a generator apart from its latent's.
    const uint64_t own = mix_seed(mix_seed(seed ^ 0x70a1e7e5ULL) ^ static_cast<uint64_t>(first + i));
    auto gen = at::detail::createCPUGenerator(own);
    eps.push_back(torch::randn({3}, gen));
    noise.push_back(torch::randn({1, maps.size(2), maps.size(3)}, gen));
  }
  torch::NoGradGuard no_grad;
  Painter painter = g.painter;
  const auto appearance = painter->appearance_from(torch::stack(eps)).to(device);
  const auto rgb = painter->forward(binary, appearance, torch::stack(noise).to(device));
  return torch::cat({rgb.to(torch::kFloat), maps}, 1);
}

void validate(const GenerateOptions& o) {
  check_field(o.count >= 1, "generate.count", o.count, ">= 1");
  check_field(o.truncation >= 0 && o.truncation <= 2, "generate.truncation", o.truncation, "0 to 2 (1 = none)");
  check_field(o.batch >= 1, "generate.batch", o.batch, ">= 1");
  check_field(o.grid >= 0 && o.grid <= 1024, "generate.grid", o.grid, "0 (none) to 1024");
}

GenerateResult generate_images(const LoadedGenerator& g, const fs::path& out, const GenerateOptions& o,
                               const torch::Device& device, const ProgressFn& progress) {
  validate(o);
  const bool joint = learns_labels(g.options);
  require_painter_for_maps(g);  // before anything is written
  // Patches cropped wholly inside the FOV (patch_min_fov 1) are all FOV; any other image gets an estimate.
  const bool all_fov = is_patch_mode(g.options) && g.options.patch_min_fov >= 1;
  for (const char* sub : {"images", "masks"}) fs::create_directories(out / sub);
  if (joint) {
    fs::create_directories(out / "labels");
    fs::create_directories(out / "probs");
  }
  nlohmann::json info = {{"checkpoint", fs::absolute(g.path).string()},
                         {"kimg", g.state.value("kimg", 0.0)},
                         {"mode", g.options.mode},
                         {"resolution", g.options.resolution},
                         {"count", o.count},
                         {"truncation", o.truncation},
                         {"seed", o.seed},
                         {"labels", joint ? "the generator's vessel channel, thresholded at 0.5" : "none"},
                         {"maps", g.painter ? g.maps : "none"},
                         {"images", g.painter ? "painted around the labels by the generator's painter"
                                              : "the generator's RGB channels"},
                         {"masks", all_fov ? "all ones (patches cropped wholly inside the FOV)" : "FOV estimated from each image"}};
  write_file_atomic(out / "generate.json", info.dump(2) + "\n");

  GenerateResult r;
  r.out = out;
  Generator G = g.G;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t b = 0; b < o.count; b += o.batch) {
    const int64_t e = std::min(o.count, b + o.batch);
    std::vector<int64_t> todo;
    for (int64_t i = b; i < e; ++i) {
      const auto id = image_id(i);
      const bool done = fs::exists(out / "images" / (id + ".png")) && fs::exists(out / "masks" / (id + ".png")) &&
                        (!joint || fs::exists(out / "labels" / (id + ".png")));
      if (done)
        ++r.skipped;
      else
        todo.push_back(i);
    }
    if (!todo.empty()) {
      // Generate the contiguous range that covers the missing ones (latents are per index, so this is exact).
      const int64_t first = todo.front(), n = todo.back() - todo.front() + 1;
      auto imgs = (joint ? sample_with_labels(g, first, n, o.truncation, o.seed, device)
                         : sample_images(G, first, n, o.truncation, o.seed, device))
                      .cpu()
                      .add(1)
                      .mul(0.5)
                      .clamp(0, 1);
      for (int64_t i : todo) {
        const auto id = image_id(i);
        auto x = imgs[i - first];
        auto rgb = x.slice(0, 0, 3).contiguous();
        auto mask = all_fov ? torch::ones({1, rgb.size(1), rgb.size(2)}) : estimate_fov(rgb);
        // Labels and masks first, the photograph last: a photograph on disk means its sample is complete.
        if (joint) {
          auto prob = x.slice(0, 3, 4).contiguous();
          write_png(out / "probs" / (id + ".png"), prob, 16);
          write_png(out / "labels" / (id + ".png"), prob.gt(0.5).to(torch::kFloat), 8);
        }
        write_png(out / "masks" / (id + ".png"), mask, 8);
        write_png(out / "images" / (id + ".png"), rgb, 8);
        ++r.written;
      }
    }
    if (progress) {
      Progress p;
      p.stage = "generate";
      p.unit = "image";
      p.done = e;
      p.total = o.count;
      p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress(p);
    }
  }
  if (o.grid > 0) write_sample_grid(out, std::min(o.grid, o.count), joint);
  return r;
}

}  // namespace vg
