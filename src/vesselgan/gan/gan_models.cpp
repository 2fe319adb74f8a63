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

namespace {

// What a generator file holds: the averaged generator and the discriminator, as networks of their own or
// as those of a run's models (so a file is written from, or loaded into, them without a copy).
class GeneratorFileImpl : public torch::nn::Module {
 public:
  explicit GeneratorFileImpl(const GanTrainOptions& o)
      : GeneratorFileImpl(Generator(o.generator), Discriminator(o.discriminator)) {}
  GeneratorFileImpl(Generator g_ema, Discriminator d) {
    G_ema = register_module("G_ema", std::move(g_ema));
    D = register_module("D", std::move(d));
  }
  Generator G_ema{nullptr};
  Discriminator D{nullptr};
};
TORCH_MODULE(GeneratorFile);

// The header of a GAN checkpoint of either kind; UserError for any other kind.
CheckpointHeader read_gan_header(const std::filesystem::path& path) {
  auto header = read_checkpoint_header(path);
  if (header.kind != kGanCheckpointKind && header.kind != kGanGeneratorKind)
    throw UserError(path.string() + " holds a '" + header.kind + "' model, not a GAN (expected a '" +
                    kGanCheckpointKind + "' run checkpoint or a '" + kGanGeneratorKind + "' generator file)");
  return header;
}

GanTrainOptions options_of(const CheckpointHeader& header) {
  auto o = header.config.at("gan").get<GanTrainOptions>();
  finalize(o);
  return o;
}

}  // namespace

LoadedGenerator load_generator(const std::filesystem::path& path, const torch::Device& device) {
  LoadedGenerator out;
  out.path = resolve_gan_checkpoint(path);
  auto header = read_gan_header(out.path);
  out.options = options_of(header);
  if (header.kind == kGanGeneratorKind) {
    GeneratorFile file(out.options);
    header = load_checkpoint(out.path, kGanGeneratorKind, *file, device);
    out.G = file->G_ema;
  } else {
    GanModels models(out.options);
    header = load_checkpoint(out.path, kGanCheckpointKind, *models, device);
    out.G = models->G_ema;
  }
  out.state = header.state;
  out.G->to(device);
  out.G->eval();
  return out;
}

std::filesystem::path export_generator(const std::filesystem::path& run_checkpoint, const std::filesystem::path& out) {
  const auto cpu = torch::Device(torch::kCPU);
  const auto path = resolve_gan_checkpoint(run_checkpoint);
  const GanTrainOptions o = options_of(read_checkpoint_header(path, kGanCheckpointKind));
  GanModels models(o);
  CheckpointHeader h = load_checkpoint(path, kGanCheckpointKind, *models, cpu);
  GeneratorFile file(models->G_ema, models->D);
  h.kind = kGanGeneratorKind;
  h.config = {{"gan", o}};
  h.state["exported_from"] = std::filesystem::absolute(path).string();
  save_checkpoint(out, h, *file);
  return path;
}

GanTrainOptions with_networks_of(const std::filesystem::path& init, GanTrainOptions o) {
  const GanTrainOptions net = options_of(read_gan_header(resolve_gan_checkpoint(init)));
  o.mode = net.mode;
  o.resolution = net.resolution;
  o.generator = net.generator;
  o.discriminator = net.discriminator;
  o.label_blur = net.label_blur;
  o.discriminator.mbstd_group = std::min<int64_t>(net.discriminator.mbstd_group, o.batch);
  finalize(o);
  return o;
}

void load_init_networks(const std::filesystem::path& init, GanModels& models, const torch::Device& device) {
  const auto path = resolve_gan_checkpoint(init);
  const auto header = read_gan_header(path);
  if (header.kind == kGanCheckpointKind) {
    load_checkpoint(path, kGanCheckpointKind, *models, device);
  } else {
    // Into the run's own G_ema and D: networks of another shape are refused by load_checkpoint.
    GeneratorFile file(models->G_ema, models->D);
    load_checkpoint(path, kGanGeneratorKind, *file, device);
    update_ema(*models->G, *models->G_ema, 0.0);
  }
}

}  // namespace vg
