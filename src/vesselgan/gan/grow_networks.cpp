#include "vesselgan/gan/grow_networks.h"

#include <string>
#include <utility>

#include "vesselgan/core/error.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {

namespace {

// Refuses an init that is not the same network family at a lower resolution, naming the first difference.
void check_same_family(const GanTrainOptions& from, const GanTrainOptions& to, const std::string& name) {
  const auto& a = from.generator;
  const auto& b = to.generator;
  auto refuse = [&](const std::string& what) {
    throw UserError("--grow: " + name + " cannot start this run: " + what +
                    " (growing keeps everything but the resolution; use --init for a run of the same shape)");
  };
  if (from.resolution >= to.resolution)
    refuse("its resolution " + std::to_string(from.resolution) + " is not below the run's " +
           std::to_string(to.resolution));
  if (a.img_channels != b.img_channels)
    refuse("it draws " + std::to_string(a.img_channels) + " channels (mode " + from.mode + "), the run " +
           std::to_string(b.img_channels) + " (mode " + to.mode + ")");
  if (a.z_dim != b.z_dim || a.w_dim != b.w_dim || a.mapping_layers != b.mapping_layers)
    refuse("its mapping network differs (z " + std::to_string(a.z_dim) + ", w " + std::to_string(a.w_dim) + ", " +
           std::to_string(a.mapping_layers) + " layers against " + std::to_string(b.z_dim) + ", " +
           std::to_string(b.w_dim) + ", " + std::to_string(b.mapping_layers) + ")");
  const auto& da = from.discriminator;
  const auto& db = to.discriminator;
  for (int64_t r = 4; r <= from.resolution; r *= 2) {
    const bool g_same = channels_at(r, a.channel_base, a.channel_max) == channels_at(r, b.channel_base, b.channel_max);
    const bool d_same =
        channels_at(r, da.channel_base, da.channel_max) == channels_at(r, db.channel_base, db.channel_max);
    if (!g_same || !d_same)
      refuse("its channels at " + std::to_string(r) + " px differ from the run's (channel_base / channel_max)");
  }
}

}  // namespace

GanTrainOptions check_growable(const std::filesystem::path& init, const GanTrainOptions& o) {
  GanTrainOptions old = with_networks_of(init, o);
  check_same_family(old, o, init.string());
  return old;
}

GrowReport load_grown_networks(const std::filesystem::path& init, const GanTrainOptions& o, GanModels& models) {
  const GanTrainOptions old_options = check_growable(init, o);
  GanModels old(old_options);
  load_init_networks(init, old, torch::Device(torch::kCPU));
  // Every tensor of the old generators has its place in the new ones; of the old D only the top block's way in
  // from the image has none.
  for (auto [from, to] : {std::pair{old->G, models->G}, std::pair{old->G_ema, models->G_ema}}) {
    const auto left = copy_named_tensors(*from, *to);
    TORCH_CHECK(left.empty(), "load_grown_networks: G's ", left.front(), " has no place in the new G");
  }
  const auto d_left = copy_named_tensors(*old->D, *models->D);
  const std::string old_fromrgb = "b" + std::to_string(old_options.resolution) + ".fromrgb.";
  for (const auto& name : d_left)
    TORCH_CHECK(name.rfind(old_fromrgb, 0) == 0, "load_grown_networks: D's ", name, " has no place in the new D");
  auto tensors = [](const torch::nn::Module& m) {
    return static_cast<int64_t>(m.named_parameters(true).size() + m.named_buffers(true).size());
  };
  GrowReport r;
  r.g_copied = tensors(*old->G);
  r.d_copied = tensors(*old->D) - static_cast<int64_t>(d_left.size());
  r.d_left = static_cast<int64_t>(d_left.size());
  return r;
}

}  // namespace vg
