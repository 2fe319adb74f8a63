#include "vesselgan/gan/sampler.h"

#include <chrono>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/json_fields.h"
#include "vesselgan/data/fov.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

namespace {
// splitmix64: decorrelates neighbouring (seed, index) pairs before they seed a generator.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string image_id(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(index));
  return buf;
}
}  // namespace

torch::Tensor latent_for(uint64_t seed, int64_t index, int64_t z_dim) {
  auto gen = at::detail::createCPUGenerator(mix(mix(seed) ^ static_cast<uint64_t>(index)));
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

void validate(const GenerateOptions& o) {
  check_field(o.count >= 1, "generate.count", o.count, ">= 1");
  check_field(o.truncation >= 0 && o.truncation <= 2, "generate.truncation", o.truncation, "0 to 2 (1 = none)");
  check_field(o.batch >= 1, "generate.batch", o.batch, ">= 1");
}

GenerateResult generate_images(const LoadedGenerator& g, const fs::path& out, const GenerateOptions& o,
                               const torch::Device& device, const ProgressFn& progress) {
  validate(o);
  const bool joint = is_joint_mode(g.options);
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
      auto imgs = sample_images(G, first, n, o.truncation, o.seed, device).cpu().add(1).mul(0.5).clamp(0, 1);
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
  return r;
}

}  // namespace vg
