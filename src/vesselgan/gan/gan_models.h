// The three networks of a StyleGAN2 run held as one module (so one checkpoint holds them): the generator G
// that trains, its exponential moving average G_ema that samples, and the discriminator D.
#pragma once
#include <torch/torch.h>

#include <filesystem>

#include "vesselgan/gan/gan_options.h"
#include "vesselgan/gan/painter.h"
#include "vesselgan/gan/procedural_maps.h"

namespace vg {

// The checkpoint "kind" of StyleGAN2-ADA runs (G, G_ema, D, optimizers, training state), and of a slim
// generator file (G_ema, which sampling needs, and D, which transfer learning starts from; a few MB, no
// optimizer state; `gan export` writes it). A label-first generator file also holds the painter that turns
// the label-patch generator's vessel maps into photographs (gan/painter.h).
constexpr const char* kGanCheckpointKind = "stylegan2-ada";
constexpr const char* kGanGeneratorKind = "stylegan2-generator";

class GanModelsImpl : public torch::nn::Module {
 public:
  explicit GanModelsImpl(const GanTrainOptions& o);
  Generator G{nullptr}, G_ema{nullptr};
  Discriminator D{nullptr};
};
TORCH_MODULE(GanModels);

// ema <- beta * ema + (1 - beta) * g for parameters (paired by name); buffers (w_avg, noise) are copied.
void update_ema(torch::nn::Module& ema, const torch::nn::Module& g, double beta);

// A trained generator for sampling: G_ema of a GAN checkpoint, in eval mode on `device`, and for a
// label-first generator file the painter.
struct LoadedGenerator {
  Generator G{nullptr};
  Painter painter{nullptr};    // defined for label-first generators (options label-patch)
  // Label-first generators: where the vessel maps come from, "stylegan2" (G, a label-patch run) or
  // "procedural" (no G: procedural_vessel_maps of options.resolution px with `procedural`).
  std::string maps = "stylegan2";
  ProceduralMapOptions procedural;
  GanTrainOptions options;
  nlohmann::json state;        // the checkpoint's training state (kimg, ...)
  std::filesystem::path path;  // the checkpoint file read
};
// `path`: a run checkpoint or a generator file, or a run folder (its checkpoints/last.pt). UserError when it is
// neither or holds another kind of model.
LoadedGenerator load_generator(const std::filesystem::path& path, const torch::Device& device);
std::filesystem::path resolve_gan_checkpoint(const std::filesystem::path& path);

// Writes the generator file of a run checkpoint (or run folder): G_ema and D, the run's options and its
// training state (kimg, ...), atomically; with `painter` (a painter run folder or checkpoint, for a
// label-patch run) a label-first generator file that also holds the painter. Returns the checkpoint read.
// UserError when a painter comes with a run of another mode, or a label-patch run comes without one.
std::filesystem::path export_generator(const std::filesystem::path& run_checkpoint, const std::filesystem::path& out,
                                       const std::filesystem::path& painter = {});
// Writes a label-first generator file whose maps are procedural (procedural_maps.h) crops of `size` px (a
// multiple of 2^levels of the painter, at most half the phantom side), painted by `painter` (a painter run
// folder or checkpoint).
void export_procedural_generator(const std::filesystem::path& painter, int64_t size, const ProceduralMapOptions& maps,
                                 const std::filesystem::path& out);

// Transfer learning: the options of a run that starts from the networks in `init` (a run checkpoint or
// generator file): the network fields (mode, resolution, generator, discriminator, label_blur) come from
// `init`, everything else (length, learning rates, ADA, ...) from `o`.
GanTrainOptions with_networks_of(const std::filesystem::path& init, GanTrainOptions o);
// Loads the networks of `init` into fresh models built from with_networks_of's options: G, G_ema and D from
// a run checkpoint; from a generator file G and G_ema both from its G_ema, and D. UserError when the file
// does not fit.
void load_init_networks(const std::filesystem::path& init, GanModels& models, const torch::Device& device);

}  // namespace vg
