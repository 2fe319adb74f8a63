#include "vesselgan/seg/dataset_inference.h"

#include <chrono>

#include "vesselgan/core/error.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace {
void require_label(const Sample& s, const SampleFiles& f) {
  if (!s.label.defined())
    throw UserError("no label for " + f.image.string() + " (evaluation needs a label image for every photograph)");
}
}  // namespace

std::vector<EvalItem> predict_dataset(const Segmenter& seg, const DatasetFiles& data, const PredictOptions& opt,
                                      const ProgressFn& progress) {
  std::vector<EvalItem> items;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : data.samples) {
    const Sample s = load_sample(f);
    require_label(s, f);
    items.push_back({s.id, seg.probability(s.image, opt), s.label, s.mask});
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

}  // namespace vg
