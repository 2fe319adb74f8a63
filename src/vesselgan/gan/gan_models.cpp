#include "vesselgan/gan/gan_models.h"

#include "vesselgan/core/error.h"
#include "vesselgan/core/json_fields.h"
#include "vesselgan/gan/painter_trainer.h"
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
  // Networks left null are not in the file (a procedural label-first generator has no G_ema and D).
  GeneratorFileImpl(Generator g_ema, Discriminator d, Painter p = nullptr) {
    if (g_ema) G_ema = register_module("G_ema", std::move(g_ema));
    if (d) D = register_module("D", std::move(d));
    if (p) painter = register_module("painter", std::move(p));
  }
  Generator G_ema{nullptr};
  Discriminator D{nullptr};
  Painter painter{nullptr};
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
    Painter painter{nullptr};
    if (header.config.contains("painter")) painter = Painter(header.config.at("painter").get<PainterOptions>());
    if (header.config.contains("maps")) {
      out.maps = header.config.at("maps").at("source").get<std::string>();
      out.procedural = header.config.at("maps").at("options").get<ProceduralMapOptions>();
    }
    const bool own_maps = out.maps == "stylegan2";
    GeneratorFile file(own_maps ? Generator(out.options.generator) : Generator(nullptr),
                       own_maps ? Discriminator(out.options.discriminator) : Discriminator(nullptr), painter);
    header = load_checkpoint(out.path, kGanGeneratorKind, *file, device);
    out.G = file->G_ema;
    out.painter = file->painter;
    if (out.painter) {
      out.painter->to(device);
      out.painter->eval();
    }
  } else {
    GanModels models(out.options);
    header = load_checkpoint(out.path, kGanCheckpointKind, *models, device);
    out.G = models->G_ema;
  }
  out.state = header.state;
  if (out.G) {
    out.G->to(device);
    out.G->eval();
  }
  return out;
}

namespace {
// The painter of a painter run (folder or checkpoint) or of a label-first generator file.
Painter painter_from(const std::filesystem::path& path, const torch::Device& device) {
  const std::filesystem::path file = std::filesystem::is_directory(path) ? path / "checkpoints" / "last.pt" : path;
  if (std::filesystem::is_regular_file(file) && read_checkpoint_header(file).kind == kGanGeneratorKind) {
    const LoadedGenerator g = load_generator(file, device);
    if (!g.painter)
      throw UserError("--painter " + path.string() + " is a generator file without a painter (give a painter run or "
                      "a label-first generator file)");
    return g.painter;
  }
  return load_painter(path, device);
}
}  // namespace

std::filesystem::path export_generator(const std::filesystem::path& run_checkpoint, const std::filesystem::path& out,
                                       const std::filesystem::path& painter_path) {
  const auto cpu = torch::Device(torch::kCPU);
  const auto path = resolve_gan_checkpoint(run_checkpoint);
  const GanTrainOptions o = options_of(read_checkpoint_header(path, kGanCheckpointKind));
  if (is_label_mode(o) && painter_path.empty())
    throw UserError(path.string() + " draws vessel maps only (mode label-patch): export it with --painter, a "
                    "painter run that turns its maps into photographs (gan train-painter)");
  if (!is_label_mode(o) && !painter_path.empty())
    throw UserError("--painter goes with a label-patch run; " + path.string() + " is a '" + o.mode +
                    "' run, which draws its photographs itself");
  GanModels models(o);
  CheckpointHeader h = load_checkpoint(path, kGanCheckpointKind, *models, cpu);
  Painter painter{nullptr};
  if (!painter_path.empty()) {
    painter = painter_from(painter_path, cpu);
    h.state["painter_from"] = std::filesystem::absolute(painter_path).string();
  }
  GeneratorFile file(models->G_ema, models->D, painter);
  h.kind = kGanGeneratorKind;
  h.config = {{"gan", o}};
  if (painter) h.config["painter"] = painter->options();
  h.state["exported_from"] = std::filesystem::absolute(path).string();
  save_checkpoint(out, h, *file);
  return path;
}

void export_procedural_generator(const std::filesystem::path& painter_path, int64_t size,
                                 const ProceduralMapOptions& maps, const std::filesystem::path& out) {
  validate(maps);
  const auto cpu = torch::Device(torch::kCPU);
  Painter painter = painter_from(painter_path, cpu);
  const bool pow2 = size >= 32 && (size & (size - 1)) == 0;
  check_field(pow2 && size <= maps.photo_size / 2 && size % (int64_t{1} << painter->options().levels) == 0,
              "generator size", size, "a power of two from 32 to " + std::to_string(maps.photo_size / 2));
  GanTrainOptions o;  // what sampling reads: a label-patch generator of `size` px crops inside the FOV
  o.mode = "label-patch";
  o.resolution = size;
  o.patch_min_fov = 1;
  finalize(o);
  CheckpointHeader h;
  h.kind = kGanGeneratorKind;
  h.config = {{"gan", o}, {"painter", painter->options()}, {"maps", {{"source", "procedural"}, {"options", maps}}}};
  h.state = {{"painter_from", std::filesystem::absolute(painter_path).string()}};
  GeneratorFile file(Generator(nullptr), Discriminator(nullptr), painter);
  save_checkpoint(out, h, *file);
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
