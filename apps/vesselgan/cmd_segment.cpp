// vesselgan segment: vessel maps for photographs (files, folders, or a data set's split).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/data/fov.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/seg/segmentation_writer.h"
#include "vesselgan/seg/segmenter.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

// The model `segment` and `evaluate` use without --model.
constexpr const char* kDefaultModel = "sa-unet-drive.pt";

struct SegmentFlags {
  std::vector<std::string> inputs;
  std::string model, out = "segmented", mask, mask_dir, data, split = "test", layout = "auto";
  double threshold = 0.5, fov_diameter = -1;
  int bits = 8;
  bool tta = false, image_statistics = false, no_fov = false;
  OperatingPointFlags operating_point;
  int64_t tile = 1024;
  ComputeFlags compute;
};

struct Job {
  SampleFiles files;  // image, mask (empty: estimate_fov says what to do)
};

std::vector<Job> collect_jobs(const SegmentFlags& f) {
  std::vector<Job> jobs;
  if (!f.data.empty()) {
    for (const auto& s : find_dataset(f.data, f.split, f.layout).samples) jobs.push_back({s});
    return jobs;
  }
  auto add = [&](const fs::path& p) {
    SampleFiles s;
    s.id = p.stem().string();
    s.image = p;
    s.estimate_fov = !f.no_fov;
    jobs.push_back({s});
  };
  for (const auto& in : f.inputs) {
    const fs::path p(in);
    if (fs::is_directory(p)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && has_image_extension(e.path())) files.push_back(e.path());
      if (files.empty())
        throw UserError("folder " + p.string() + " holds no images (.png .jpg .tif .gif .ppm ...)");
      std::sort(files.begin(), files.end());
      for (const auto& x : files) add(x);
    } else if (fs::is_regular_file(p)) {
      add(p);
    } else {
      throw UserError("input " + p.string() + " does not exist (give image files or folders of images)");
    }
  }
  if (jobs.empty()) throw UserError("nothing to segment: give image files or folders, or --data DIR");
  if (!f.mask.empty()) {
    if (jobs.size() != 1) throw UserError("--mask takes one FOV mask for one image; use --mask-dir for several");
    jobs[0].files.mask = f.mask;
  }
  if (!f.mask_dir.empty()) {
    for (auto& j : jobs) j.files.mask = find_file_for_id(f.mask_dir, j.files.id);
  }
  return jobs;
}

std::string fov_note(const Sample& s, const ScaleInfo& si) {
  std::string note = s.has_mask ? "FOV given" : s.mask_estimated ? "FOV estimated" : "whole image";
  char b[96];
  if (si.fov_diameter > 0) {
    std::snprintf(b, sizeof b, ", %.0f px across%s; scaled x%.3g", si.fov_diameter,
                  si.fov_estimated ? " (estimated)" : "", si.scale);
    note += b;
  }
  // Which networks normalised with the photograph's own statistics (adaptive image statistics): a photograph
  // unlike the training ones, e.g. blurred or dark.
  if (!si.image_statistics_weights.empty()) {
    note += "; own statistics w =";
    for (double w : si.image_statistics_weights) {
      std::snprintf(b, sizeof b, " %.2g", w);
      note += b;
    }
  }
  // Heavily compressed photographs are read with the ensemble's other weights (seg/compression_gate.h).
  if (si.blockiness > 0) {
    std::snprintf(b, sizeof b, "; JPEG blockiness %.2f%s", si.blockiness,
                  si.compressed ? " (read as heavily compressed)" : "");
    note += b;
  }
  return note;
}

void run_segment(const SegmentFlags& f) {
  if (f.threshold <= 0 || f.threshold >= 1)
    throw UserError("--threshold " + std::to_string(f.threshold) + " is not valid (valid: 0 < t < 1)");
  const auto jobs = collect_jobs(f);
  const fs::path model = f.model.empty() ? shipped_model(kDefaultModel) : fs::path(f.model);
  const auto device = setup_compute(f.compute);
  const Segmenter seg = Segmenter::load(model, device);
  PredictOptions popt;
  popt.tta = f.tta;
  popt.image_statistics = f.image_statistics;
  resolve_operating_point(f.operating_point, seg, popt);
  popt.tile = f.tile;
  popt.fov_diameter = seg.resolve_fov_diameter(f.fov_diameter);
  std::cerr << "model: " << model.string() << "; scale: "
            << (popt.fov_diameter > 0 ? "FOV diameter normalized to " + std::to_string(std::lround(popt.fov_diameter)) + " px"
                                      : std::string("native resolution"))
            << "\n";
  const auto progress = make_progress_printer();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t done = 0;
  // Outputs are named by sample id with --data (ids are unique there, also across splits: "train_001"), else
  // by the file's stem; two inputs of one stem would overwrite each other's outputs, so they are refused.
  auto output_stem = [&](const Job& j) { return f.data.empty() ? j.files.image.stem().string() : j.files.id; };
  std::map<std::string, fs::path> stems;
  for (const auto& j : jobs) {
    const std::string stem = output_stem(j);
    const auto [it, fresh] = stems.emplace(stem, j.files.image);
    if (!fresh)
      throw UserError("inputs " + it->second.string() + " and " + j.files.image.string() + " would both write " +
                      stem + "_*.png in " + f.out + " (segment them into separate --out folders)");
  }
  for (const auto& j : jobs) {
    // The photograph and its FOV: the mask file, an estimate (written as <stem>_fov.png), or the whole image.
    const Sample s = load_sample(j.files);
    const std::string stem = output_stem(j);
    const torch::Tensor fov = s.has_mask || s.mask_estimated ? s.mask : torch::Tensor();
    ScaleInfo si;
    const auto prob = seg.probability(s.image, fov, popt, &si);
    const auto files = write_segmentation(f.out, stem, s.image, prob, fov, f.threshold, f.bits);
    if (s.mask_estimated) write_png(fs::path(f.out) / (stem + "_fov.png"), s.mask, 8);
    Progress p;
    p.stage = "segment";
    p.unit = "image";
    p.done = ++done;
    p.total = static_cast<int64_t>(jobs.size());
    p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress(p);
    if (!::isatty(2)) std::cerr << j.files.image.string() << " -> " << files.mask.string() << " (" << fov_note(s, si) << ")\n";
  }
  std::cerr << "\n";
  std::cout << "segmented " << jobs.size() << " images into " << f.out
            << " (<stem>_prob.png, _mask.png, _overlay.png; _fov.png where the FOV was estimated)\n";
}

}  // namespace

void add_segment(CLI::App& app) {
  auto f = std::make_shared<SegmentFlags>();
  auto* cmd = app.add_subcommand("segment", "Segment vessels in photographs");
  cmd->add_option("inputs", f->inputs, "image files or folders of images");
  cmd->add_option("--model", f->model,
                  std::string("SA-UNet checkpoint (RUN/checkpoints/best.pt); default: the shipped ") + kDefaultModel);
  cmd->add_option("--out", f->out, "output folder")->capture_default_str();
  cmd->add_option("--mask", f->mask, "FOV mask for a single input image (default: estimated from the photograph)");
  cmd->add_option("--mask-dir", f->mask_dir, "folder of FOV masks matched to the inputs by id");
  cmd->add_flag("--no-fov", f->no_fov, "inputs without a mask: use the whole image instead of estimating the FOV");
  cmd->add_option("--data", f->data, "segment a data set's split instead of inputs (its FOV masks or estimates)");
  cmd->add_option("--split", f->split, "with --data: train | test | all")->capture_default_str();
  cmd->add_option("--layout", f->layout, "with --data: auto | drive | chase | stare | hrf | folder | photos")
      ->capture_default_str();
  cmd->add_option("--threshold", f->threshold, "probability threshold for the binary mask")->capture_default_str();
  cmd->add_option("--bits", f->bits, "bit depth of the probability PNG: 8 | 16")->capture_default_str();
  cmd->add_flag("--tta", f->tta, "average over flipped copies (4x slower)");
  cmd->add_flag("--image-statistics", f->image_statistics,
                "normalise each photograph by its own activation statistics (prediction-time batch norm)");
  add_operating_point_flags(*cmd, f->operating_point);
  cmd->add_option("--tile", f->tile, "segment canvases larger than this in tiles")->capture_default_str();
  cmd->add_option("--fov-diameter", f->fov_diameter,
                  "resize photographs so their FOV is this many px across (-1: the model's training scale when "
                  "it records one, else native; 0: native resolution)")
      ->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_segment(*f); });
}

}  // namespace vg::cli
