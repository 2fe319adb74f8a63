#include "vesselgan/gan/whole_photograph.h"

#include <chrono>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/json_fields.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

std::string whole_id(int64_t index) {
  char id[16];
  std::snprintf(id, sizeof id, "%06lld", static_cast<long long>(index));
  return id;
}

// The centre height x width of a [C, S, S] square (S >= both).
torch::Tensor centre(const torch::Tensor& t, int64_t height, int64_t width) {
  const int64_t top = (t.size(1) - height) / 2, left = (t.size(2) - width) / 2;
  return t.slice(1, top, top + height).slice(2, left, left + width).contiguous();
}

}  // namespace

void validate(const WholeOptions& o) {
  check_field(o.width >= 64 && o.width <= 2048, "whole.width", o.width, "64 to 2048 pixels");
  check_field(o.height >= 64 && o.height <= 2048, "whole.height", o.height, "64 to 2048 pixels");
  check_field(o.count >= 1, "whole.count", o.count, ">= 1");
}

WholePhotograph paint_whole(const LoadedGenerator& g, int64_t index, const WholeOptions& o,
                            const torch::Device& device) {
  validate(o);
  if (!g.painter)
    throw UserError(g.path.string() + " has no painter: whole photographs need a label-first generator file "
                    "(the shipped models/generator-drive.pt, or gan export --painter)");
  // The tree grows in the square that holds the frame; the frame is its centre.
  PhantomOptions trees = o.trees;
  trees.size = std::max(o.width, o.height);
  const PhantomSample tree = make_phantom(trees, phantom_seed(o.seed, index));
  WholePhotograph p;
  p.label = centre(tree.label, o.height, o.width);
  p.mask = centre(tree.mask, o.height, o.width);

  // The painter paints a canvas its levels divide; the photograph is its top-left corner.
  Painter painter = g.painter;
  const int64_t unit = int64_t{1} << painter->options().levels;
  const int64_t H = (o.height + unit - 1) / unit * unit, W = (o.width + unit - 1) / unit * unit;
  auto canvas = torch::full({1, 1, H, W}, -1.0F);
  canvas.slice(2, 0, o.height).slice(3, 0, o.width).copy_(p.label.mul(2).sub(1).unsqueeze(0));
  // The photograph's own appearance code and noise, apart from its tree's draws.
  auto gen = at::detail::createCPUGenerator(mix_seed(mix_seed(o.seed ^ 0x3a07e1e5ULL) ^ static_cast<uint64_t>(index)));
  const auto eps = torch::randn({1, 3}, gen), noise = torch::randn({1, 1, H, W}, gen);
  torch::NoGradGuard no_grad;
  const auto rgb = painter->forward(canvas.to(device), painter->appearance_from(eps).to(device), noise.to(device))
                       .to(torch::kCPU, torch::kFloat)[0]
                       .slice(1, 0, o.height)
                       .slice(2, 0, o.width);
  p.image = rgb.add(1).mul(0.5).clamp(0, 1).mul(p.mask).contiguous();
  return p;
}

int64_t generate_whole(const LoadedGenerator& g, const fs::path& out, const WholeOptions& o,
                       const torch::Device& device, const ProgressFn& progress) {
  validate(o);
  if (!g.painter)  // before anything is written
    throw UserError(g.path.string() + " has no painter: whole photographs need a label-first generator file "
                    "(the shipped models/generator-drive.pt, or gan export --painter)");
  for (const char* sub : {"images", "labels", "masks"}) fs::create_directories(out / sub);
  const nlohmann::json info = {
      {"checkpoint", fs::absolute(g.path).string()},
      {"whole", true},
      {"width", o.width},
      {"height", o.height},
      {"count", o.count},
      {"seed", o.seed},
      {"trees", o.trees},
      {"labels", "the procedural tree (data/phantom.h), exact"},
      {"images", "the whole map painted by the generator's painter, black outside the FOV"}};
  write_file_atomic(out / "generate.json", info.dump(2) + "\n");
  int64_t written = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.count; ++i) {
    const std::string id = whole_id(i);
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
