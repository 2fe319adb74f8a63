#include "vesselgan/gan/gan_models.h"

#include "vesselgan/core/error.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {

GanModelsImpl::GanModelsImpl(const GanTrainOptions& o) {
  G = register_module("G", Generator(o.generator));
  G_ema = register_module("G_ema", Generator(o.generator));
  D = register_module("D", Discriminator(o.discriminator));
  update_ema(*G_ema, *G, 0.0);  // G_ema starts as an exact copy of G
}

void update_ema(torch::nn::Module& ema, const torch::nn::Module& g, double beta) {
  torch::NoGradGuard no_grad;
  const auto src_params = g.named_parameters(true);
  for (auto& p : ema.named_parameters(true)) {
    const auto* src = src_params.find(p.key());
    TORCH_CHECK(src, "update_ema: parameter ", p.key(), " is missing in the source network");
    p.value().lerp_(*src, 1.0 - beta);
  }
  const auto src_buffers = g.named_buffers(true);
  for (auto& b : ema.named_buffers(true)) {
    const auto* src = src_buffers.find(b.key());
    TORCH_CHECK(src, "update_ema: buffer ", b.key(), " is missing in the source network");
    b.value().copy_(*src);
  }
}

std::filesystem::path resolve_gan_checkpoint(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) {
    const auto last = path / "checkpoints" / "last.pt";
    if (!std::filesystem::is_regular_file(last))
      throw UserError("GAN run folder " + path.string() +
                      " holds no checkpoints/last.pt (expected a run written by `vesselgan gan train`, or a .pt file)");
    return last;
  }
  return path;
}

LoadedGenerator load_generator(const std::filesystem::path& path, const torch::Device& device) {
  LoadedGenerator out;
  out.path = resolve_gan_checkpoint(path);
  auto header = read_checkpoint_header(out.path, kGanCheckpointKind);
  out.options = header.config.at("gan").get<GanTrainOptions>();
  finalize(out.options);
  GanModels models(out.options);
  header = load_checkpoint(out.path, kGanCheckpointKind, *models, device);
  out.state = header.state;
  out.G = models->G_ema;
  out.G->to(device);
  out.G->eval();
  return out;
}

}  // namespace vg
