#include "vesselgan/gan/grow_networks.h"

#include <string>
#include <vector>

#include "vesselgan/core/error.h"

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
  for (int64_t r = 4; r <= from.resolution; r *= 2) {
    const bool g_same = channels_at(r, a.channel_base, a.channel_max) == channels_at(r, b.channel_base, b.channel_max);
    const auto& da = from.discriminator;
    const auto& db = to.discriminator;
    const bool d_same =
        channels_at(r, da.channel_base, da.channel_max) == channels_at(r, db.channel_base, db.channel_max);
    if (!g_same || !d_same)
      refuse("its channels at " + std::to_string(r) + " px differ from the run's (channel_base / channel_max)");
  }
}

// Copies every tensor of `src` that `dst` names alike (parameters and buffers) and returns how many; the
// names of src's tensors that dst lacks go to `left`. Shapes were made equal by check_same_family, so a mismatch
// here is a bug.
int64_t copy_shared(const torch::nn::Module& src, torch::nn::Module& dst, std::vector<std::string>& left) {
  torch::NoGradGuard no_grad;
  int64_t copied = 0;
  auto copy = [&](const auto& from, auto& to) {
    for (const auto& t : from) {
      auto* d = to.find(t.key());
      if (!d) {
        left.push_back(t.key());
        continue;
      }
      TORCH_CHECK(d->sizes() == t.value().sizes(), "load_grown_networks: ", t.key(), " is ", t.value().sizes(),
                  " in the old network and ", d->sizes(), " in the new one");
      d->copy_(t.value());
      ++copied;
    }
  };
  auto dst_params = dst.named_parameters(true);
  auto dst_buffers = dst.named_buffers(true);
  copy(src.named_parameters(true), dst_params);
  copy(src.named_buffers(true), dst_buffers);
  return copied;
}

}  // namespace

void check_growable(const std::filesystem::path& init, const GanTrainOptions& o) {
  check_same_family(with_networks_of(init, o), o, init.string());
}

GrowReport load_grown_networks(const std::filesystem::path& init, const GanTrainOptions& o, GanModels& models) {
  const GanTrainOptions old_options = with_networks_of(init, o);
  check_same_family(old_options, o, init.string());
  GanModels old(old_options);
  load_init_networks(init, old, torch::Device(torch::kCPU));
  GrowReport r;
  std::vector<std::string> g_left, d_left;
  r.g_copied = copy_shared(*old->G, *models->G, g_left);
  copy_shared(*old->G_ema, *models->G_ema, g_left);
  r.d_copied = copy_shared(*old->D, *models->D, d_left);
  // Only the old top block's way in from the image has no place in the new discriminator.
  const std::string old_fromrgb = "b" + std::to_string(old_options.resolution) + ".fromrgb.";
  for (const auto& name : g_left) TORCH_CHECK(false, "load_grown_networks: G's ", name, " has no place in the new G");
  for (const auto& name : d_left)
    TORCH_CHECK(name.rfind(old_fromrgb, 0) == 0, "load_grown_networks: D's ", name, " has no place in the new D");
  r.d_left = static_cast<int64_t>(d_left.size());
  return r;
}

}  // namespace vg
