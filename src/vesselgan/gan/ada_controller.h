// Adaptive discriminator augmentation: the heuristic that steers the augmentation probability p (Karras et
// al. 2020, "Training generative adversarial networks with limited data", sec. 3). The overfitting
// indicator r_t = E[sign(D(x_real))] is measured over `interval` discriminator steps; p moves by
// sign(r_t - target) * batch * interval / (speed_kimg * 1000), so it can go from 0 to 1 in speed_kimg
// thousand real images, and is clamped to [0, 1].
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vg {

struct AdaOptions {
  std::string mode = "ada";  // "ada" (adaptive) | "fixed" (p stays at `p`) | "off" (p = 0)
  double p = 0;              // initial (ada) or fixed probability
  double target = 0.6;       // target r_t = E[sign(D(real))]
  int64_t interval = 4;      // adjust every `interval` D steps
  double speed_kimg = 500;   // p can go 0 -> 1 in this many thousand images
};
void to_json(nlohmann::json& j, const AdaOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, AdaOptions& o);
// Throws UserError naming the first out-of-range field and its valid range.
void validate(const AdaOptions& o);

class AdaController {
 public:
  // batch_size: real images per D step (>= 1). Throws UserError for invalid options.
  AdaController(AdaOptions o, int64_t batch_size);

  // real_logits: D's outputs on the (augmented) reals of one step, any shape. Adds their signs and count to
  // the running sums, kept on the logits' device (no host sync).
  void accumulate(const torch::Tensor& real_logits);

  // Call after every D step. Every `interval` steps r_t is measured from the sums (one host sync) and the
  // sums are reset; in "ada" mode p then moves by sign(r_t - target) * batch * interval / (speed_kimg *
  // 1000), clamped to [0, 1], and step() returns true. It returns false otherwise (between measurements, in
  // "fixed" and "off" modes, which still measure r_t, and when nothing was accumulated).
  bool step();

  double p() const { return p_; }
  double r_t() const { return r_t_; }  // the last measured value (0 before the first measurement)
  const AdaOptions& options() const { return options_; }

  // Everything a resume needs: p, r_t, the steps since the last measurement and the pending sums.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& j);  // throws UserError on a malformed state

 private:
  AdaOptions options_;
  int64_t batch_size_;
  double p_;
  double r_t_ = 0;
  int64_t steps_ = 0;       // D steps since the last measurement
  torch::Tensor sign_sum_;  // scalar double on the logits' device; undefined when nothing pending
  int64_t count_ = 0;       // logits accumulated since the last measurement
};

}  // namespace vg
