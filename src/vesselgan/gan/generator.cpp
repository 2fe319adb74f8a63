#include "vesselgan/gan/generator.h"

#include "vesselgan/dist/batch_shard.h"

#include <algorithm>
#include <string>

#include "vesselgan/core/option_fields.h"

namespace vg {

namespace {

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

int64_t log2_of(int64_t v) {
  int64_t l = 0;
  while ((int64_t{1} << (l + 1)) <= v) ++l;
  return l;
}

}  // namespace

int64_t channels_at(int64_t resolution, int64_t channel_base, int64_t channel_max) {
  return std::min(channel_base / resolution, channel_max);
}

namespace {

const auto kGeneratorFields = [](auto& o, auto&& field) {
  field("z_dim", o.z_dim, within(1, 4096, "1..4096"));
  field("w_dim", o.w_dim, within(1, 4096, "1..4096"));
  field("mapping_layers", o.mapping_layers, within(1, 32, "1..32"));
  field("mapping_lr_mul", o.mapping_lr_mul,
        rule([](double m) { return m > 0 && m <= 1; }, "0 < mapping_lr_mul <= 1"));
  field("resolution", o.resolution,
        rule([](int64_t r) { return is_power_of_two(r) && r >= 4 && r <= 1024; }, "a power of two in 4..1024"));
  field("img_channels", o.img_channels, within(1, 16, "1..16"));
  field("channel_base", o.channel_base);  // resolution .. 2^24, checked in validate
  field("channel_max", o.channel_max, within(1, 4096, "1..4096"));
  field("w_avg_beta", o.w_avg_beta, rule([](double b) { return b >= 0 && b < 1; }, "0 <= w_avg_beta < 1"));
  field("use_noise", o.use_noise);
  field("conv_clamp", o.conv_clamp, at_least(0, ">= 0 (0 = off)"));
};

}  // namespace

void to_json(nlohmann::json& j, const GeneratorOptions& o) { j = fields_to_json(o, kGeneratorFields); }
void from_json(const nlohmann::json& j, GeneratorOptions& o) { fields_from_json(j, "generator", o, kGeneratorFields); }
void validate(const GeneratorOptions& o) {
  validate_fields("generator", o, kGeneratorFields);
  check_field(
      o.channel_base >= o.resolution && o.channel_base <= (int64_t{1} << 24), "generator.channel_base",
      o.channel_base,
      "resolution (" + std::to_string(o.resolution) + ") .. 2^24, at least one channel at every resolution");
}

MappingNetworkImpl::MappingNetworkImpl(const GeneratorOptions& o) {
  for (int64_t i = 0; i < o.mapping_layers; ++i) {
    const int64_t in = i == 0 ? o.z_dim : o.w_dim;
    fcs.push_back(register_module("fc" + std::to_string(i),
                                  EqualLinear(in, o.w_dim, true, 0.0, o.mapping_lr_mul, "lrelu")));
  }
}

torch::Tensor MappingNetworkImpl::forward(const torch::Tensor& z) {
  // z: [N, z_dim]; normalize_2nd_moment (Karras 2019, StyleGAN, App. C / pixel norm of Karras 2018).
  auto x = z * (z.square().mean(1, /*keepdim=*/true) + 1e-8).rsqrt();
  for (auto& fc : fcs) x = fc->forward(x);
  return x;
}

SynthesisNetworkImpl::SynthesisNetworkImpl(const GeneratorOptions& o) {
  int64_t in_channels = 0;
  for (int64_t res = 4; res <= o.resolution; res *= 2) {
    const int64_t out_channels = channels_at(res, o.channel_base, o.channel_max);
    blocks.push_back(register_module(
        "b" + std::to_string(res),
        SynthesisBlock(in_channels, out_channels, o.w_dim, res, o.img_channels, o.use_noise, o.conv_clamp)));
    in_channels = out_channels;
  }
}

torch::Tensor SynthesisNetworkImpl::forward(const torch::Tensor& ws, const SynthesisMode& mode) {
  // ws: [N, num_ws, w_dim]; block b uses ws[w_idx .. w_idx + num_conv] (its toRGB shares the w of the next
  // block's first convolution), as in the reference.
  torch::Tensor x, img;
  int64_t w_idx = 0;
  for (auto& block : blocks) {
    std::tie(x, img) = block->forward(x, img, ws.narrow(1, w_idx, block->num_conv() + 1), mode);
    w_idx += block->num_conv();
  }
  return img;
}

GeneratorImpl::GeneratorImpl(const GeneratorOptions& o) : options_(o) {
  validate(o);
  mapping_net_ = register_module("mapping", MappingNetwork(o));
  synthesis_net_ = register_module("synthesis", SynthesisNetwork(o));
  w_avg = register_buffer("w_avg", torch::zeros({o.w_dim}));
}

int64_t GeneratorImpl::num_ws() const { return 2 * log2_of(options_.resolution) - 2; }

torch::Tensor GeneratorImpl::mapping(const torch::Tensor& z, double psi, int64_t truncation_cutoff,
                                     bool update_w_avg) {
  // z: [N, z_dim]
  TORCH_CHECK(z.dim() == 2 && z.size(1) == options_.z_dim, "Generator::mapping: z must be [N, ",
              options_.z_dim, "], got ", z.sizes());
  const auto w = mapping_net_->forward(z);  // [N, w_dim]
  if (update_w_avg) {
    torch::NoGradGuard no_grad;
    // The global batch's mean in a data-parallel step (batch_shard.h), so every rank's w_avg stays one process's.
    const auto wd = w.detach().to(w_avg.scalar_type());
    const auto* shard = active_batch_shard();
    const auto mean = shard == nullptr ? wd.mean(0) : sum_over_shards(wd.sum(0)) / static_cast<double>(shard->total);
    w_avg.copy_(mean.lerp(w_avg, options_.w_avg_beta));
  }
  const int64_t n_ws = num_ws();
  auto ws = w.unsqueeze(1).repeat({1, n_ws, 1});  // [N, num_ws, w_dim]
  if (psi == 1.0) return ws;
  const int64_t cutoff = truncation_cutoff < 0 ? n_ws : std::min(truncation_cutoff, n_ws);
  if (cutoff == 0) return ws;
  const auto avg = w_avg.to(ws.scalar_type()).view({1, 1, -1});
  const auto truncated = avg + psi * (ws.narrow(1, 0, cutoff) - avg);
  return cutoff == n_ws ? truncated : torch::cat({truncated, ws.narrow(1, cutoff, n_ws - cutoff)}, 1);
}

torch::Tensor GeneratorImpl::synthesis(const torch::Tensor& ws, NoiseMode noise) {
  // ws: [N, num_ws, w_dim]
  TORCH_CHECK(ws.dim() == 3 && ws.size(1) == num_ws() && ws.size(2) == options_.w_dim,
              "Generator::synthesis: ws must be [N, ", num_ws(), ", ", options_.w_dim, "], got ", ws.sizes());
  const auto img = synthesis_net_->forward(ws, SynthesisMode{noise, fused_modconv_, channels_last_});
  return img.is_cpu() ? img.contiguous() : img;  // channels-last inside on the CPU (preferred_layout)
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& z, double psi, NoiseMode noise) {
  return synthesis(mapping(z, psi, -1, false), noise);
}

}  // namespace vg
