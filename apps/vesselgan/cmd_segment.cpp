// vesselgan segment: vessel maps for photographs (files, folders, or a data set's split).
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/seg/segmentation_writer.h"
#include "vesselgan/seg/segmenter.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct SegmentFlags {
  std::vector<std::string> inputs;
  std::string model, out = "segmented", mask, mask_dir, data, split = "test", layout = "auto";
  double threshold = 0.5;
  int bits = 8;
  bool tta = false;
  int64_t tile = 1024;
  ComputeFlags compute;
};

struct Job {
  fs::path image, mask;  // mask empty: whole image
};

std::vector<Job> collect_jobs(const SegmentFlags& f) {
  std::vector<Job> jobs;
  if (!f.data.empty()) {
    for (const auto& s : find_dataset(f.data, f.split, f.layout).samples) jobs.push_back({s.image, s.mask});
    return jobs;
  }
  for (const auto& in : f.inputs) {
    const fs::path p(in);
    if (fs::is_directory(p)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && has_image_extension(e.path())) files.push_back(e.path());
      if (files.empty())
        throw UserError("folder " + p.string() + " holds no images (.png .jpg .tif .gif .ppm ...)");
      std::sort(files.begin(), files.end());
      for (const auto& x : files) jobs.push_back({x, {}});
    } else if (fs::is_regular_file(p)) {
      jobs.push_back({p, {}});
    } else {
      throw UserError("input " + p.string() + " does not exist (give image files or folders of images)");
    }
  }
  if (jobs.empty()) throw UserError("nothing to segment: give image files or folders, or --data DIR");
  if (!f.mask.empty()) {
    if (jobs.size() != 1) throw UserError("--mask takes one FOV mask for one image; use --mask-dir for several");
    jobs[0].mask = f.mask;
  }
  if (!f.mask_dir.empty()) {
    for (auto& j : jobs) {
      j.mask = find_file_for_id(f.mask_dir, j.image.stem().string());
    }
  }
  return jobs;
}

void run_segment(const SegmentFlags& f) {
  if (f.model.empty())
    throw UserError("--model is required (a checkpoint from `vesselgan train`, e.g. RUN/checkpoints/best.pt)");
  if (f.threshold <= 0 || f.threshold >= 1)
    throw UserError("--threshold " + std::to_string(f.threshold) + " is not valid (valid: 0 < t < 1)");
  const auto jobs = collect_jobs(f);
  const auto device = setup_compute(f.compute);
  const Segmenter seg = Segmenter::load(f.model, device);
  PredictOptions popt;
  popt.tta = f.tta;
  popt.tile = f.tile;
  const auto progress = make_progress_printer();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t done = 0;
  for (const auto& j : jobs) {
    auto image = read_image(j.image).pixels;
    if (image.size(0) == 1) image = image.expand({3, -1, -1}).contiguous();
    torch::Tensor fov;
    if (!j.mask.empty()) {
      fov = read_image(j.mask).pixels.slice(0, 0, 1);
      if (fov.size(1) != image.size(1) || fov.size(2) != image.size(2))
        throw UserError("FOV mask " + j.mask.string() + " does not have the size of " + j.image.string());
    }
    const auto prob = seg.probability(image, popt);
    const auto files = write_segmentation(f.out, j.image.stem().string(), image, prob, fov, f.threshold, f.bits);
    Progress p;
    p.stage = "segment";
    p.unit = "image";
    p.done = ++done;
    p.total = static_cast<int64_t>(jobs.size());
    p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress(p);
    if (!::isatty(2)) std::cerr << j.image.string() << " -> " << files.mask.string() << "\n";
  }
  std::cerr << "\n";
  std::cout << "segmented " << jobs.size() << " images into " << f.out << " (<stem>_prob.png, _mask.png, _overlay.png)\n";
}

}  // namespace

void add_segment(CLI::App& app) {
  auto f = std::make_shared<SegmentFlags>();
  auto* cmd = app.add_subcommand("segment", "Segment vessels in photographs");
  cmd->add_option("inputs", f->inputs, "image files or folders of images");
  cmd->add_option("--model", f->model, "SA-UNet checkpoint (RUN/checkpoints/best.pt)");
  cmd->add_option("--out", f->out, "output folder")->capture_default_str();
  cmd->add_option("--mask", f->mask, "FOV mask for a single input image");
  cmd->add_option("--mask-dir", f->mask_dir, "folder of FOV masks matched to the inputs by id");
  cmd->add_option("--data", f->data, "segment a data set's split instead of inputs (uses its FOV masks)");
  cmd->add_option("--split", f->split, "with --data: train | test | all")->capture_default_str();
  cmd->add_option("--layout", f->layout, "with --data: auto | drive | folder")->capture_default_str();
  cmd->add_option("--threshold", f->threshold, "probability threshold for the binary mask")->capture_default_str();
  cmd->add_option("--bits", f->bits, "bit depth of the probability PNG: 8 | 16")->capture_default_str();
  cmd->add_flag("--tta", f->tta, "average over flipped copies (4x slower)");
  cmd->add_option("--tile", f->tile, "segment canvases larger than this in tiles")->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_segment(*f); });
}

}  // namespace vg::cli
