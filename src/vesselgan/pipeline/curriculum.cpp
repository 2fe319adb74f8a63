#include "vesselgan/pipeline/curriculum.h"

#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace fs = std::filesystem;

TrainOptions baseline_options(const PipelineConfig& c, uint64_t seed) {
  TrainOptions o = c.seg;
  o.seed = seed;
  if (c.init != "given") o.init_from.clear();
  return o;
}

fs::path first_phase_init(const PipelineConfig& c, const fs::path& model_a) {
  if (c.init == "model-a") return model_a;
  if (c.init == "given") return c.seg.init_from;
  return {};
}

TrainOptions phase_options(const PipelineConfig& c, const RetrainVariant& v, const std::string& phase) {
  TrainOptions o = c.seg;
  o.seed = v.seed;
  o.init_from.clear();
  if (phase == "synthetic") {
    if (c.synthetic_epochs > 0) o.schedule = {{c.synthetic_epochs, c.seg.schedule.front().lr}};
    o.augment.enabled = v.augment;
  } else if (phase == "mixed") {
    o.augment.enabled = v.augment;
    if (v.order == "mixed-added" && o.patch.size > 0)  // model A's real crops, and synthetic ones on top
      o.patch.per_epoch = static_cast<int64_t>(std::ceil(static_cast<double>(o.patch.per_epoch) / c.mixed_real_fraction));
  }
  return o;
}

std::vector<Sample> mixed_set(const PipelineConfig& c, const RetrainVariant& v, const std::vector<Sample>& real,
                              const std::vector<Sample>& synthetic) {
  int64_t k = 1;
  if (v.order == "mixed" || c.seg.patch.size > 0) {
    // Real images repeated k times: k n_real / (k n_real + n_syn) ~ mixed_real_fraction.
    const double f = c.mixed_real_fraction;
    const double k_exact = f / (1 - f) * static_cast<double>(synthetic.size()) / static_cast<double>(real.size());
    k = std::max<int64_t>(1, std::llround(k_exact));
  }
  std::vector<Sample> mixed = synthetic;
  for (int64_t r = 0; r < k; ++r) mixed.insert(mixed.end(), real.begin(), real.end());
  return mixed;
}

CurriculumResult train_curriculum(const PipelineConfig& c, const RetrainVariant& v,
                                  const std::vector<Sample>& real, const std::vector<Sample>& val,
                                  const std::vector<Sample>& synthetic, const fs::path& model_a,
                                  const fs::path& dir, const torch::Device& device,
                                  const ProgressFn& progress, const Collective& world) {
  const int64_t n = v.n_synthetic == 0 ? static_cast<int64_t>(synthetic.size()) : v.n_synthetic;  // 0 = all
  if (static_cast<int64_t>(synthetic.size()) < n || n == 0)
    throw UserError("variant " + v.name() + " needs " + std::to_string(std::max<int64_t>(n, 1)) +
                    " synthetic images but only " + std::to_string(synthetic.size()) +
                    " were accepted by pseudo-labelling (generate more, or relax " +
                    "the pseudo_label filters)");
  const std::vector<Sample> syn(synthetic.begin(), synthetic.begin() + n);
  std::vector<std::pair<std::string, std::vector<Sample>>> phases;
  if (v.order == "synthetic-then-real") {
    phases = {{"synthetic", syn}, {"real", real}};
  } else if (v.order == "real-then-synthetic") {
    phases = {{"real", real}, {"synthetic", syn}};
  } else if (v.order == "synthetic-only") {
    phases = {{"synthetic", syn}};
  } else {
    phases = {{"mixed", mixed_set(c, v, real, syn)}};
  }

  CurriculumResult out;
  fs::path init = first_phase_init(c, model_a);
  for (size_t i = 0; i < phases.size(); ++i) {
    const auto& [phase, data] = phases[i];
    TrainOptions o = phase_options(c, v, phase);
    o.init_from = init.string();
    const fs::path pdir = dir / (std::to_string(i + 1) + "-" + phase);
    const TrainResult r = train_sa_unet(data, val, o, pdir, device, /*resume=*/true, progress, world);
    world.barrier();  // rank 0 has written the phase's best.pt, which the next phase starts from
    out.phases.push_back(pdir);
    out.best = r.best;
    out.best_score = r.best_score;
    init = r.best;
  }
  return out;
}

}  // namespace vg
