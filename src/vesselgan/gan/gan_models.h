// The three networks of a StyleGAN2 run held as one module (so one checkpoint holds them): the generator G
// that trains, its exponential moving average G_ema that samples, and the discriminator D.
#pragma once
#include <torch/torch.h>

#include <filesystem>

#include "vesselgan/gan/gan_options.h"

namespace vg {

// The checkpoint "kind" of StyleGAN2-ADA runs.
constexpr const char* kGanCheckpointKind = "stylegan2-ada";

class GanModelsImpl : public torch::nn::Module {
 public:
  explicit GanModelsImpl(const GanTrainOptions& o);
  Generator G{nullptr}, G_ema{nullptr};
  Discriminator D{nullptr};
};
TORCH_MODULE(GanModels);

// ema <- beta * ema + (1 - beta) * g for parameters (paired by name); buffers (w_avg, noise) are copied.
void update_ema(torch::nn::Module& ema, const torch::nn::Module& g, double beta);

// A trained generator for sampling: G_ema of a GAN checkpoint, in eval mode on `device`.
struct LoadedGenerator {
  Generator G{nullptr};
  GanTrainOptions options;
  nlohmann::json state;        // the checkpoint's training state (kimg, ...)
  std::filesystem::path path;  // the checkpoint file read
};
// `path`: a checkpoint file, or a run folder (its checkpoints/last.pt). UserError when it is neither or holds
// another kind of model.
LoadedGenerator load_generator(const std::filesystem::path& path, const torch::Device& device);
std::filesystem::path resolve_gan_checkpoint(const std::filesystem::path& path);

}  // namespace vg
