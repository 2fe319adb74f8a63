// StyleGAN2 generator (Karras et al. 2020, "Analyzing and improving the image quality of StyleGAN", config F
// with the "skip" output architecture; details as in stylegan2-ada-pytorch):
//   mapping:   z -> normalize 2nd moment -> `mapping_layers` x EqualLinear(lrelu, lr_mul 0.01) -> w,
//              broadcast to num_ws() = 2 log2(R) - 2 copies (one per modulated layer + the last toRGB)
//   synthesis: learned 4x4 constant; per resolution 4..R a SynthesisBlock (see synthesis_layers.h);
//              images in about [-1, 1].
// Parameter names (mapping.fc0.weight, synthesis.b4.const, synthesis.b8.conv0.affine.weight, w_avg, ...)
// depend only on the options, so two generators with equal options pair up by name (EMA, checkpoints).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "vesselgan/gan/equalized.h"
#include "vesselgan/gan/synthesis_layers.h"

namespace vg {

struct GeneratorOptions {
  int64_t z_dim = 512, w_dim = 512;
  int64_t mapping_layers = 8;  // 2 in small-data presets
  double mapping_lr_mul = 0.01;
  int64_t resolution = 256;      // power of two, 4..1024
  int64_t img_channels = 3;      // 4 in "joint" mode (RGB + vessel channel)
  int64_t channel_base = 32768;  // channels at resolution r: min(channel_base / r, channel_max)
  int64_t channel_max = 512;
  double w_avg_beta = 0.995;  // tracking of the mean w for truncation
  bool use_noise = true;
  double conv_clamp = 256;  // clamp conv outputs to +-conv_clamp (0 = off), as in SG2-ADA
};

void to_json(nlohmann::json& j, const GeneratorOptions& o);
// Reads the keys present over the current values; unknown keys and wrong types are UserErrors.
void from_json(const nlohmann::json& j, GeneratorOptions& o);
// Throws vg::UserError ("generator.<field> = <value> is not valid (valid: ...)") for the first bad field.
void validate(const GeneratorOptions& o);

// Channels of a generator or discriminator block at resolution r: min(channel_base / r, channel_max).
int64_t channels_at(int64_t resolution, int64_t channel_base, int64_t channel_max);

// z -> w: fc0..fc{mapping_layers-1}, z_dim -> w_dim -> ... -> w_dim.
class MappingNetworkImpl : public torch::nn::Module {
 public:
  explicit MappingNetworkImpl(const GeneratorOptions& o);
  // z: [N, z_dim] -> w: [N, w_dim]
  torch::Tensor forward(const torch::Tensor& z);
  std::vector<EqualLinear> fcs;
};
TORCH_MODULE(MappingNetwork);

// ws -> image: blocks b4, b8, ..., b{R}.
class SynthesisNetworkImpl : public torch::nn::Module {
 public:
  explicit SynthesisNetworkImpl(const GeneratorOptions& o);
  // ws: [N, num_ws, w_dim] -> [N, img_channels, R, R]
  torch::Tensor forward(const torch::Tensor& ws, const SynthesisMode& mode);
  std::vector<SynthesisBlock> blocks;
};
TORCH_MODULE(SynthesisNetwork);

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(const GeneratorOptions& o);
  // z: [N, z_dim] -> ws [N, num_ws(), w_dim]. Normalizes z (2nd moment), runs the mapping MLP, and when
  // update_w_avg (training) moves the w_avg buffer toward the batch mean: w_avg <- lerp(mean_n w, w_avg,
  // beta). Truncation (Karras 2019, StyleGAN, Sec. 3.1 / App. B): ws = w_avg + psi * (ws - w_avg) for the
  // first `truncation_cutoff` ws (-1 = all).
  torch::Tensor mapping(const torch::Tensor& z, double psi = 1.0, int64_t truncation_cutoff = -1,
                        bool update_w_avg = false);
  // ws: [N, num_ws(), w_dim] -> images [N, img_channels, resolution, resolution], about [-1, 1].
  torch::Tensor synthesis(const torch::Tensor& ws, NoiseMode noise = NoiseMode::kRandom);
  // synthesis(mapping(z, psi)): z [N, z_dim] -> images [N, img_channels, R, R]; w_avg is not updated.
  torch::Tensor forward(const torch::Tensor& z, double psi = 1.0, NoiseMode noise = NoiseMode::kRandom);
  int64_t num_ws() const;  // 2 * log2(resolution) - 2
  // How the modulated convolutions run (modulated_conv.h): unfused (default: batched convolutions) or fused
  // (one grouped convolution, the reference's inference path). Both compute the same function; unfused was
  // faster everywhere measured: 32 px toy G forward + backward 52 vs 132 ms on 1 CPU thread; on an H100
  // (fp32, 256 px, channel_base 16384, batch 16) G forward + backward 41 vs 64 ms, path length 137 vs 244 ms.
  void set_fused_modconv(bool fused) { fused_modconv_ = fused; }
  // Channels-last activations on CUDA too (on the CPU they always are); the images then come out
  // channels-last. Off by default: slower on an H100 in the setting above (G forward + backward 58 vs 41 ms
  // fp32, 51 vs 45 ms bf16).
  void set_channels_last(bool on) { channels_last_ = on; }
  const GeneratorOptions& options() const { return options_; }

  torch::Tensor w_avg;  // registered buffer "w_avg" [w_dim], starts at 0

 private:
  GeneratorOptions options_;
  MappingNetwork mapping_net_{nullptr};
  SynthesisNetwork synthesis_net_{nullptr};
  bool fused_modconv_ = false, channels_last_ = false;
};
TORCH_MODULE(Generator);

}  // namespace vg
