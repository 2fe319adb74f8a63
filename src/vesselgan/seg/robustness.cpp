#include "vesselgan/seg/robustness.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"

namespace vg {

namespace {

const auto kRobustnessFields = [](auto& o, auto&& field) {
  field("shifts", o.shifts);  // at least one, each valid: checked in validate
  field("max_images", o.max_images, at_least(0, "0 (all) or a positive count"));
  field("seed", o.seed);
  field("threshold", o.threshold, rule([](double t) { return t > 0 && t < 1; }, "0 < threshold < 1"));
};

}  // namespace

void to_json(nlohmann::json& j, const RobustnessOptions& o) { j = fields_to_json(o, kRobustnessFields); }
void from_json(const nlohmann::json& j, RobustnessOptions& o) {
  fields_from_json(j, "robustness", o, kRobustnessFields);
}
void validate(const RobustnessOptions& o) {
  check_field(!o.shifts.empty(), "robustness.shifts", o.shifts, "at least one {kind, level}");
  for (const auto& s : o.shifts) validate(s);
  validate_fields("robustness", o, kRobustnessFields);
}

namespace {

// A probability map in the original photograph's H x W pixels: a "scale" shift's map resized back, bilinear
// (half-pixel centers) and kept in [0, 1]. Not antialiased, even when the map shrinks: a map of an enlarged
// photograph holds no detail finer than the original pixels (the photograph was interpolated from them), and
// a wider filter would only thin the thinnest vessels. Measured on 128 px phantoms with a perfect segmenter
// that commutes with resizing (as in seg/robustness_test.cpp): F1 1 becomes 0.990 after a 1.25 round trip
// this way, 0.962 antialiased.
torch::Tensor in_original_pixels(const torch::Tensor& prob, const Sample& original) {
  // prob: [1, h, w] float in [0, 1]
  TORCH_CHECK(prob.defined() && prob.dim() == 3 && prob.size(0) == 1,
              "robustness: the segmenter must return a [1, H, W] probability, got ",
              prob.defined() ? prob.sizes() : at::IntArrayRef{}, " for ", original.id);
  const int64_t H = original.mask.size(1), W = original.mask.size(2);
  if (prob.size(1) == H && prob.size(2) == W) return prob;
  namespace F = torch::nn::functional;
  const torch::Tensor back = F::interpolate(prob.to(torch::kFloat).unsqueeze(0),
                                            F::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{H, W})
                                                .mode(torch::kBilinear)
                                                .align_corners(false));
  return back.squeeze(0).clamp(0, 1);
}

// Runs the benchmark's conditions, keeping the progress count across them.
class ConditionRunner {
 public:
  ConditionRunner(const ProbabilityFn& predict, const std::vector<Sample>& samples, const RobustnessOptions& opt,
                  const ProgressFn& progress)
      : predict_(predict), samples_(samples), opt_(opt), progress_(progress) {
    total_ = static_cast<int64_t>(samples.size() * (opt.shifts.size() + 1));
  }

  // All samples under `shift` (none: as acquired), scored in the original pixels against the original label
  // and FOV mask.
  EvalReport score(const std::optional<AcquisitionShift>& shift) {
    std::vector<EvalItem> items;
    for (size_t i = 0; i < samples_.size(); ++i) {
      const Sample& original = samples_[i];
      const Sample s = shift ? apply_shift(original, *shift, opt_.seed + i) : original;
      // A whole-image "mask" says nothing about the FOV's size: let the segmenter estimate it if it needs it.
      const torch::Tensor fov = s.has_mask || s.mask_estimated ? s.mask : torch::Tensor();
      items.push_back(
          {original.id, in_original_pixels(predict_(s.image, fov), original), original.label, original.mask});
      report_progress();
    }
    EvalOptions eopt;
    eopt.threshold = opt_.threshold;
    return evaluate(items, eopt);
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

  const ProbabilityFn& predict_;
  const std::vector<Sample>& samples_;
  const RobustnessOptions& opt_;
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

RobustnessReport run_robustness(const ProbabilityFn& predict, const std::vector<Sample>& samples,
                                const RobustnessOptions& opt, const ProgressFn& progress) {
  validate(opt);
  const std::vector<Sample> chosen = first_samples(samples, opt.max_images);
  ConditionRunner runner(predict, chosen, opt, progress);
  RobustnessReport r;
  for (const auto& s : chosen) r.ids.push_back(s.id);
  r.seed = opt.seed;
  r.threshold = opt.threshold;
  const EvalReport clean = runner.score(std::nullopt);
  r.clean = clean.fov_pooled;
  r.fov_pixels = clean.fov_pixels;
  for (const auto& shift : opt.shifts) {
    const EvalReport e = runner.score(shift);
    TORCH_CHECK(e.fov_pixels == r.fov_pixels, "robustness: ", to_string(shift), " scored ", e.fov_pixels,
                " FOV pixels, clean ", r.fov_pixels);
    ShiftScore score;
    score.shift = shift;
    score.fov_pooled = e.fov_pooled;
    score.fov_pixels = e.fov_pixels;
    r.shifts.push_back(score);
  }
  summarize(r);
  return r;
}

RobustnessReport run_robustness(const Segmenter& seg, const std::vector<Sample>& samples,
                                const RobustnessOptions& opt, const PredictOptions& predict,
                                const ProgressFn& progress) {
  const ProbabilityFn fn = [&](const torch::Tensor& image, const torch::Tensor& fov) {
    return seg.probability(image, fov, predict);
  };
  return run_robustness(fn, samples, opt, progress);
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
