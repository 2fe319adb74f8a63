// Everything that defines a StyleGAN2-ADA training run, as one plain struct that round-trips through JSON
// (the run folder's config.json). Named presets give the starting point; a config file and flags override.
//
// Defaults follow stylegan2-ada-pytorch's "auto" configuration (Karras et al. 2020, "Training generative
// adversarial networks with limited data", Appendix D): mapping depth 2, lr 0.0025, Adam betas (0, 0.99),
// R1 gamma = 0.0002 * res^2 / batch, G EMA half-life batch * 10 / 32 kimg with a 0.05 ramp-up, style mixing
// 0.9, path-length weight 2, lazy regularization (R1 every 16 D steps, path length every 4 G steps).
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "vesselgan/gan/ada_controller.h"
#include "vesselgan/gan/augment_pipe.h"
#include "vesselgan/gan/discriminator.h"
#include "vesselgan/gan/generator.h"

namespace vg {

struct GanTrainOptions {
  // Data: "full" whole photographs fitted to a square canvas, "patch" random crops at native resolution,
  // "joint" / "joint-patch" the same with the vessel label as a 4th channel the generator learns too,
  // "label-patch" crops of the vessel label alone (1 channel; the label-first route, gan/painter.h).
  std::string mode = "full";
  int64_t resolution = 256;     // power of two, 32..1024; G and D resolution follow it
  bool mirror = true;           // x-flip dataset augmentation (doubles the data set)
  double patch_min_fov = 0.5;   // patch modes: crops hold at least this fraction of FOV pixels (1 = wholly inside)
  // Patch modes: how strongly crops are drawn toward vessels. A crop position's probability is
  // (1 - bias) / positions + bias * its vessel pixels / all positions' vessel pixels (0 = uniform).
  double patch_vessel_bias = 0;
  // Joint modes: the real label channel is the binary label blurred with a gaussian of this sigma (pixels,
  // 0 = binary). Generated labels are continuous, so binary real labels would hand D a free cue.
  double label_blur = 0.7;

  GeneratorOptions generator;   // resolution / img_channels are set from `resolution` / `mode`
  DiscriminatorOptions discriminator;
  AugmentPipeOptions augment;
  AdaOptions ada;

  double kimg = 1000;           // training length in thousands of real images shown to D
  int64_t batch = 16;
  double g_lr = 0.0025, d_lr = 0.0025;
  double beta1 = 0, beta2 = 0.99;
  double r1_gamma = -1;         // < 0: "auto" = 0.0002 * resolution^2 / batch
  int64_t r1_interval = 16;     // lazy R1 every this many D steps (0 = no R1)
  double pl_weight = 2;         // path-length regularization weight (0 = off)
  int64_t pl_interval = 4;
  int64_t pl_batch_shrink = 2;
  double style_mixing = 0.9;
  double ema_kimg = -1;         // < 0: batch * 10 / 32
  double ema_rampup = 0.05;     // EMA half-life at most this fraction of the images shown so far (0 = off)
  double tick_kimg = 4;         // one stats.jsonl row per tick
  double snapshot_kimg = 50;    // snapshot (checkpoint + fakes grid) every this many kimg, and at the end
  int64_t grid_size = 8;        // fakes grid is grid_size x grid_size
  uint64_t seed = 0;
  bool bf16 = false;            // CUDA only: bf16 autocast for G and D forward passes
  bool channels_last = false;   // CUDA only: channels-last activations in G (slower on an H100, generator.h)
};

void to_json(nlohmann::json& j, const GanTrainOptions& o);
void from_json(const nlohmann::json& j, GanTrainOptions& o);  // absent keys keep their current values
// Fills the derived fields (generator/discriminator resolution and channels) and checks every field.
void finalize(GanTrainOptions& o);
void validate(const GanTrainOptions& o);

int64_t image_channels(const GanTrainOptions& o);  // 3, 4 in the joint modes, 1 in label-patch
bool is_patch_mode(const GanTrainOptions& o);
bool is_joint_mode(const GanTrainOptions& o);      // RGB + vessel channel
bool is_label_mode(const GanTrainOptions& o);      // the vessel channel alone
bool learns_labels(const GanTrainOptions& o);      // joint or label: the training data needs labels
double r1_gamma_of(const GanTrainOptions& o);      // resolves "auto"
double ema_kimg_of(const GanTrainOptions& o);

// Presets: "toy" (32 px CPU toy, minutes on 2 cores), "toy64"; native-scale patches that learn vessels:
// "joint64" / "patch64" / "label64" (2 CPU cores, hours), "joint128" (GPU, minutes); "patch128", "full256", "full512"
// (GPU, the paper-size networks, days). docs/gan.md lists them with measured s/kimg.
GanTrainOptions gan_preset(const std::string& name);
std::vector<std::string> gan_preset_names();

}  // namespace vg
