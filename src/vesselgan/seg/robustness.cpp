#include "vesselgan/seg/robustness.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "vesselgan/core/error.h"
#include "vesselgan/core/json_fields.h"

namespace vg {

void to_json(nlohmann::json& j, const RobustnessOptions& o) {
  j = nlohmann::json{
      {"shifts", o.shifts}, {"max_images", o.max_images}, {"seed", o.seed}, {"threshold", o.threshold}};
}

void from_json(const nlohmann::json& j, RobustnessOptions& o) {
  JsonFields(j, "robustness")
      .get("shifts", o.shifts)
      .get("max_images", o.max_images)
      .get("seed", o.seed)
      .get("threshold", o.threshold)
      .finish();
}

void validate(const RobustnessOptions& o) {
  check_field(!o.shifts.empty(), "robustness.shifts", o.shifts, "at least one {kind, level}");
  for (const auto& s : o.shifts) validate(s);
  check_field(o.max_images >= 0, "robustness.max_images", o.max_images, "0 (all) or a positive count");
  check_field(o.threshold > 0 && o.threshold < 1, "robustness.threshold", o.threshold, "0 < threshold < 1");
}

namespace {

// Runs the benchmark's conditions, keeping the progress count across them.
class ConditionRunner {
 public:
  ConditionRunner(const Segmenter& seg, const std::vector<Sample>& samples, const RobustnessOptions& opt,
                  const PredictOptions& predict, const ProgressFn& progress)
      : seg_(seg), samples_(samples), opt_(opt), predict_(predict), progress_(progress) {
    total_ = static_cast<int64_t>(samples.size() * (opt.shifts.size() + 1));
  }

  // The FOV pooled metrics of all samples under `shift` (none: as acquired).
  MetricSet score(const std::optional<AcquisitionShift>& shift) {
    std::vector<EvalItem> items;
    for (size_t i = 0; i < samples_.size(); ++i) {
      const Sample s = shift ? apply_shift(samples_[i], *shift, opt_.seed + i) : samples_[i];
      // A whole-image "mask" says nothing about the FOV's size: let the segmenter estimate it if it needs it.
      const torch::Tensor fov = s.has_mask || s.mask_estimated ? s.mask : torch::Tensor();
      items.push_back({s.id, seg_.probability(s.image, fov, predict_), s.label, s.mask});
      report_progress();
    }
    EvalOptions eopt;
    eopt.threshold = opt_.threshold;
    return evaluate(items, eopt).fov_pooled;
  }

 private:
  void report_progress() {
    ++done_;
    if (!progress_) return;
    Progress p;
    p.stage = "robustness";
    p.unit = "image";
    p.done = done_;
    p.total = total_;
    p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    progress_(p);
  }

  const Segmenter& seg_;
  const std::vector<Sample>& samples_;
  const RobustnessOptions& opt_;
  const PredictOptions& predict_;
  const ProgressFn& progress_;
  int64_t done_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

std::vector<Sample> first_samples(const std::vector<Sample>& samples, int64_t max_images) {
  if (samples.empty()) throw UserError("robustness: no images to score");
  const size_t n = max_images > 0 ? std::min(samples.size(), static_cast<size_t>(max_images)) : samples.size();
  std::vector<Sample> out(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(n));
  for (const auto& s : out)
    if (!s.label.defined())
      throw UserError("robustness: image " + s.id + " has no label (every photograph needs one)");
  return out;
}

}  // namespace

RobustnessReport run_robustness(const Segmenter& seg, const std::vector<Sample>& samples,
                                const RobustnessOptions& opt, const PredictOptions& predict,
                                const ProgressFn& progress) {
  validate(opt);
  const std::vector<Sample> chosen = first_samples(samples, opt.max_images);
  ConditionRunner runner(seg, chosen, opt, predict, progress);
  RobustnessReport r;
  for (const auto& s : chosen) r.ids.push_back(s.id);
  r.seed = opt.seed;
  r.threshold = opt.threshold;
  r.clean = runner.score(std::nullopt);
  for (const auto& shift : opt.shifts) r.shifts.push_back({shift, runner.score(shift)});
  summarize(r);
  return r;
}

void summarize(RobustnessReport& r) {
  r.mean_f1_drop = r.mean_auc_drop = 0;
  for (size_t i = 0; i < r.shifts.size(); ++i) {
    ShiftScore& s = r.shifts[i];
    s.f1_drop = r.clean.f1 - s.fov_pooled.f1;
    s.auc_drop = r.clean.auc_roc - s.fov_pooled.auc_roc;
    r.mean_f1_drop += s.f1_drop / static_cast<double>(r.shifts.size());
    r.mean_auc_drop += s.auc_drop / static_cast<double>(r.shifts.size());
    if (i == 0 || s.f1_drop > r.worst_f1.f1_drop) r.worst_f1 = s;
    if (i == 0 || s.auc_drop > r.worst_auc.auc_drop) r.worst_auc = s;
  }
}

}  // namespace vg
