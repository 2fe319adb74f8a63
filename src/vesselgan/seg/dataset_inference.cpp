#include "vesselgan/seg/dataset_inference.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "vesselgan/core/error.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace {
void require_label(const Sample& s, const SampleFiles& f) {
  if (!s.label.defined())
    throw UserError("no label for " + f.image.string() + " (evaluation needs a label image for every photograph)");
}

std::string fmt(const char* format, double v) {
  char b[64];
  std::snprintf(b, sizeof b, format, v);
  return b;
}
}  // namespace

std::vector<EvalItem> predict_dataset(const Segmenter& seg, const DatasetFiles& data, const PredictOptions& opt,
                                      const ProgressFn& progress, std::vector<ScaleInfo>* scales) {
  std::vector<EvalItem> items;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : data.samples) {
    const Sample s = load_sample(f);
    require_label(s, f);
    ScaleInfo si;
    // A whole-image "mask" says nothing about the FOV's size: let the segmenter estimate it if it needs it.
    const torch::Tensor fov = s.has_mask || s.mask_estimated ? s.mask : torch::Tensor();
    items.push_back({s.id, seg.probability(s.image, fov, opt, &si), s.label, s.mask});
    if (scales) scales->push_back(si);
    if (progress) {
      Progress p;
      p.stage = "segment";
      p.unit = "image";
      p.done = static_cast<int64_t>(items.size());
      p.total = static_cast<int64_t>(data.samples.size());
      p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress(p);
    }
  }
  return items;
}

std::vector<EvalItem> load_predictions(const DatasetFiles& data, const std::filesystem::path& pred_dir) {
  if (!std::filesystem::is_directory(pred_dir))
    throw UserError("prediction folder " + pred_dir.string() + " does not exist (expected one image per sample)");
  std::vector<EvalItem> items;
  for (const auto& f : data.samples) {
    const Sample s = load_sample(f);
    require_label(s, f);
    const auto path = find_file_for_id(pred_dir, s.id);
    const Image pred = read_image(path);
    if (pred.pixels.size(1) != s.label.size(1) || pred.pixels.size(2) != s.label.size(2))
      throw UserError("prediction " + path.string() + " is " + std::to_string(pred.pixels.size(2)) + "x" +
                      std::to_string(pred.pixels.size(1)) + " but its label is " + std::to_string(s.label.size(2)) +
                      "x" + std::to_string(s.label.size(1)) + " (predictions must have the photograph's size)");
    items.push_back({s.id, pred.pixels.slice(0, 0, 1), s.label, s.mask});
  }
  return items;
}

EvalProtocol describe_protocol(const DatasetFiles& data) {
  EvalProtocol p;
  p.data = data.root.string() + " (" + data.layout + " layout)";
  p.split = data.split + ", " + std::to_string(data.samples.size()) + " images" +
            (data.split_rule.empty() ? "" : " (" + data.split_rule + ")");
  p.annotation = data.annotation.empty() ? "none" : data.annotation;
  int64_t given = 0, estimated = 0, whole = 0;
  for (const auto& s : data.samples) {
    if (!s.mask.empty()) ++given;
    else if (s.estimate_fov) ++estimated;
    else ++whole;
  }
  const std::string how_estimated =
      "estimated from the photographs (data/fov.h: thresholded brightness, largest component, holes filled, "
      "eroded)";
  const int64_t n = static_cast<int64_t>(data.samples.size());
  if (given == n) p.fov = "given (mask files)";
  else if (estimated == n) p.fov = how_estimated;
  else if (whole == n) p.fov = "whole image (no masks)";
  else
    p.fov = "given for " + std::to_string(given) + ", estimated for " + std::to_string(estimated) +
            " (data/fov.h), whole image for " + std::to_string(whole);
  return p;
}

std::string describe_scale(double target, const std::vector<ScaleInfo>& scales) {
  if (!(target > 0)) return "native resolution (no scale normalization)";
  std::string s = "FOV diameter normalized to " + fmt("%.0f", target) + " px (the model's training scale)";
  if (!scales.empty()) {
    double lo = scales.front().scale, hi = lo;
    for (const auto& x : scales) lo = std::min(lo, x.scale), hi = std::max(hi, x.scale);
    s += ": photographs resized x" + fmt("%.3g", lo) + (hi > lo ? " to x" + fmt("%.3g", hi) : std::string()) +
         ", predictions mapped back to their pixels";
  }
  return s;
}

}  // namespace vg
