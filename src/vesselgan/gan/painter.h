// The painter of the label-first route (Andreini et al. 2022, "A two-stage GAN for high-resolution retinal
// image generation and segmentation"): a StyleGAN2 in label-patch mode draws the vessel map, and this
// conditional generator paints a fundus photograph around it, so every synthetic image depicts its label by
// construction. The recipe is pix2pix's (Isola et al. 2017, "Image-to-image translation with conditional
// adversarial networks"): a U-Net generator trained with an L1 term toward the real photograph and a
// PatchGAN discriminator that sees the vessel map beside the photograph.
//
// Beyond pix2pix the painter takes an appearance code, the crop's mean colour, so one map can be painted as
// the bright region near the optic disc or the dark periphery; at generation the code is drawn from a
// gaussian fitted to the training crops' codes, which the painter holds as buffers (one file holds all that
// painting needs).
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>

namespace vg {

struct PainterOptions {
  int64_t resolution = 64;       // training crop side; painting works on any side that is a multiple of 2^levels
  int64_t channels = 16;         // U-Net width at full resolution, doubled per level up to max_channels
  int64_t max_channels = 128;
  int64_t levels = 3;            // 2x downsamplings in the U-Net
  int64_t d_channels = 32;       // PatchGAN width (doubled once)
  int64_t batch = 16;
  int64_t steps = 4000;
  double lr = 2e-4, beta1 = 0.5, beta2 = 0.999;  // pix2pix's Adam
  double l1_weight = 100;        // pix2pix's lambda for images in [-1, 1]
  // The L1 term as the mean of its vessel-pixel mean and its background mean: vessels, a tenth of the pixels
  // and faint, would otherwise be learnt last (the per-pixel optimum, a conditional median, is unchanged).
  bool vessel_balanced_l1 = true;
  double patch_vessel_bias = 0.5;  // crops drawn toward vessels (gan_data.h), wholly inside the FOV
  int64_t log_every = 50;        // stats.jsonl row every this many steps
  int64_t snapshot_every = 500;  // checkpoint and sample grid every this many steps, and at the end
  uint64_t seed = 0;
};
void to_json(nlohmann::json& j, const PainterOptions& o);
void from_json(const nlohmann::json& j, PainterOptions& o);  // absent keys keep their values
void validate(const PainterOptions& o);                      // UserError naming the first bad field

// The generator: label [N, 1, H, W] (-1 background, +1 vessel), appearance [N, 3] (mean RGB in [-1, 1]),
// noise [N, 1, H, W] -> photograph [N, 3, H, W] in [-1, 1]; H and W multiples of 2^levels.
class PainterImpl : public torch::nn::Module {
 public:
  explicit PainterImpl(const PainterOptions& o);
  torch::Tensor forward(const torch::Tensor& label, const torch::Tensor& appearance, const torch::Tensor& noise);

  // The gaussian of real appearance codes: mean [3], covariance [3, 3] (stored as its Cholesky factor).
  void set_appearance_distribution(const torch::Tensor& mean, const torch::Tensor& cov);
  // Codes for standard normal draws eps [N, 3]: mean + L eps, clamped to [-1, 1].
  torch::Tensor appearance_from(const torch::Tensor& eps) const;
  const PainterOptions& options() const { return options_; }

 private:
  PainterOptions options_;
  torch::nn::ModuleList down_{nullptr}, up_{nullptr};
  torch::nn::Conv2d out_{nullptr};
  torch::Tensor appearance_mean_, appearance_chol_;
};
TORCH_MODULE(Painter);

// The PatchGAN discriminator: logits [N, 1, H/4, W/4] for (label, appearance, photograph), each logit
// judging a window of about 22 px.
class PainterCriticImpl : public torch::nn::Module {
 public:
  explicit PainterCriticImpl(const PainterOptions& o);
  torch::Tensor forward(const torch::Tensor& label, const torch::Tensor& appearance, const torch::Tensor& rgb);

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(PainterCritic);

// Both, as one module (one checkpoint holds them).
class PainterModelsImpl : public torch::nn::Module {
 public:
  explicit PainterModelsImpl(const PainterOptions& o);
  Painter G{nullptr};
  PainterCritic D{nullptr};
};
TORCH_MODULE(PainterModels);

constexpr const char* kPainterCheckpointKind = "vessel-painter";

}  // namespace vg
