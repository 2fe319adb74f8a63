#include "vesselgan/gan/official_networks.h"

#include <cmath>
#include <set>
#include <string>

#include "vesselgan/core/error.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/safetensors.h"

namespace vg {

namespace {

bool exchanged(const std::string& name) {
  const std::string f = "resample_filter";
  return !(name.size() >= f.size() && name.compare(name.size() - f.size(), f.size(), f) == 0);
}

// Parameters and buffers of `net` that the file holds, by our names.
std::map<std::string, torch::Tensor> exchanged_tensors(const torch::nn::Module& net) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : net.named_parameters(true))
    if (exchanged(p.key())) out.emplace(p.key(), p.value());
  for (const auto& b : net.named_buffers(true))
    if (exchanged(b.key())) out.emplace(b.key(), b.value());
  return out;
}

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

std::string official_tensor_name(const std::string& ours) { return ours == "w_avg" ? "mapping.w_avg" : ours; }

OfficialNetworkShape network_shape_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw UserError("networks: expected a JSON object, got " + j.dump());
  OfficialNetworkShape s;
  nlohmann::json g = nlohmann::json::object(), d = nlohmann::json::object();
  static const std::set<std::string> g_keys = {"z_dim", "w_dim", "mapping_layers", "mapping_lr_mul", "w_avg_beta",
                                               "resolution", "img_channels", "channel_base", "channel_max",
                                               "conv_clamp"};
  static const std::set<std::string> d_keys = {"resolution", "img_channels", "channel_base", "channel_max",
                                               "conv_clamp", "mbstd_group", "mbstd_channels"};
  for (const auto& [k, v] : j.items()) {
    if (!g_keys.count(k) && !d_keys.count(k))
      throw UserError("networks." + k + " is not a field (valid: z_dim, w_dim, mapping_layers, mapping_lr_mul, "
                      "w_avg_beta, resolution, img_channels, channel_base, channel_max, conv_clamp, mbstd_group, "
                      "mbstd_channels)");
    if (g_keys.count(k)) g[k] = v;
    if (d_keys.count(k)) d[k] = v;
  }
  from_json(g, s.generator);
  from_json(d, s.discriminator);
  validate(s.generator);
  validate(s.discriminator);
  return s;
}

nlohmann::json network_shape_to_json(const GeneratorOptions& g, const DiscriminatorOptions& d) {
  TORCH_CHECK(g.resolution == d.resolution && g.img_channels == d.img_channels && g.channel_base == d.channel_base &&
                  g.channel_max == d.channel_max && g.conv_clamp == d.conv_clamp,
              "network_shape_to_json: G and D differ in resolution, channels or clamp");
  return {{"z_dim", g.z_dim},
          {"w_dim", g.w_dim},
          {"mapping_layers", g.mapping_layers},
          {"mapping_lr_mul", g.mapping_lr_mul},
          {"w_avg_beta", g.w_avg_beta},
          {"resolution", g.resolution},
          {"img_channels", g.img_channels},
          {"channel_base", g.channel_base},
          {"channel_max", g.channel_max},
          {"conv_clamp", g.conv_clamp},
          {"mbstd_group", d.mbstd_group},
          {"mbstd_channels", d.mbstd_channels}};
}

void load_official_tensors(const std::map<std::string, torch::Tensor>& tensors, const std::string& prefix,
                           torch::nn::Module& net, const std::string& source) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  for (auto& [name, dst] : exchanged_tensors(net)) {
    const std::string key = prefix + "." + official_tensor_name(name);
    const auto it = tensors.find(key);
    if (it == tensors.end()) throw UserError(source + " holds no tensor '" + key + "' (a network of another shape?)");
    if (!it->second.sizes().equals(dst.sizes()))
      throw UserError(source + ": '" + key + "' has shape " + shape_str(it->second) + ", the network needs " +
                      shape_str(dst));
    dst.copy_(it->second.to(dst.options()));
    used.insert(key);
  }
  for (const auto& [key, t] : tensors)
    if (key.rfind(prefix + ".", 0) == 0 && exchanged(key) && !used.count(key))
      throw UserError(source + ": '" + key + "' has no counterpart in vesselgan's network (another architecture?)");
}

void add_official_tensors(std::map<std::string, torch::Tensor>& tensors, const std::string& prefix,
                          const torch::nn::Module& net) {
  for (const auto& [name, t] : exchanged_tensors(net))
    tensors[prefix + "." + official_tensor_name(name)] = t.detach().to(torch::kCPU, torch::kFloat).clone();
}

TensorFile official_networks_file(const GanModelsImpl& models, const std::string& source) {
  TensorFile f;
  add_official_tensors(f.tensors, "G", *models.G);
  add_official_tensors(f.tensors, "G_ema", *models.G_ema);
  add_official_tensors(f.tensors, "D", *models.D);
  f.metadata = {{"format", kOfficialNetworksFormat},
                {"version", "1"},
                {"networks", network_shape_to_json(models.G->options(), models.D->options()).dump()},
                {"source", source}};
  return f;
}

GanTrainOptions convert_official_to_checkpoint(const std::filesystem::path& file, const std::filesystem::path& out,
                                               const std::string& mode) {
  const TensorFile f = read_safetensors(file);
  const auto fmt = f.metadata.find("format");
  const auto nets = f.metadata.find("networks");
  if (fmt == f.metadata.end() || fmt->second != kOfficialNetworksFormat || nets == f.metadata.end())
    throw UserError(file.string() + " is not a StyleGAN2 networks file (metadata format '" +
                    std::string(kOfficialNetworksFormat) + "' with 'networks'; see docs/official.md)");
  nlohmann::json shape_json;
  try {
    shape_json = nlohmann::json::parse(nets->second);
  } catch (const nlohmann::json::exception&) {
    throw UserError(file.string() + ": its 'networks' metadata is not JSON");
  }
  const OfficialNetworkShape shape = network_shape_from_json(shape_json);

  GanTrainOptions o;
  const int64_t c = shape.generator.img_channels;
  o.mode = !mode.empty() ? mode : c == 3 ? "full" : c == 4 ? "joint-patch" : c == 1 ? "label-patch" : "";
  if (o.mode.empty())
    throw UserError(file.string() + ": networks of " + std::to_string(c) +
                    " image channels fit no data mode (3 full or patch, 4 joint, 1 label-patch)");
  o.resolution = shape.generator.resolution;
  o.generator = shape.generator;
  o.discriminator = shape.discriminator;
  o.batch = std::max<int64_t>(o.batch, shape.discriminator.mbstd_group);
  finalize(o);
  if (image_channels(o) != c)
    throw UserError("mode " + o.mode + " needs networks of " + std::to_string(image_channels(o)) +
                    " image channels; " + file.string() + " holds networks of " + std::to_string(c));

  GanModels models(o);
  const std::string source = file.string();
  load_official_tensors(f.tensors, "G", *models->G, source);
  load_official_tensors(f.tensors, "G_ema", *models->G_ema, source);
  load_official_tensors(f.tensors, "D", *models->D, source);
  CheckpointHeader h;
  h.kind = kGanCheckpointKind;
  h.config = {{"gan", o}};
  h.state = {{"nimg", 0}, {"kimg", 0.0}, {"step", 0}, {"converted_from", std::filesystem::absolute(file).string()}};
  if (f.metadata.count("source")) h.state["converted_source"] = f.metadata.at("source");
  // An official training snapshot's place in its run (official_state.py records it from the pickle's name), so
  // `gan track` and `gan generate` report the converted networks at that kimg.
  if (f.metadata.count("kimg")) {
    double kimg = 0;
    try {
      kimg = std::stod(f.metadata.at("kimg"));
    } catch (const std::exception&) {
      throw UserError(source + ": metadata kimg '" + f.metadata.at("kimg") + "' is not a number");
    }
    h.state["kimg"] = kimg;
    h.state["nimg"] = static_cast<int64_t>(std::llround(kimg * 1000));
  }
  save_checkpoint(out, h, *models);
  return o;
}

void convert_checkpoint_to_official(const std::filesystem::path& checkpoint, const std::filesystem::path& out) {
  const auto path = resolve_gan_checkpoint(checkpoint);
  const GanTrainOptions o = with_networks_of(path, GanTrainOptions{});
  GanModels models(o);
  load_init_networks(path, models, torch::Device(torch::kCPU));
  write_safetensors(out, official_networks_file(*models, std::filesystem::absolute(path).string()));
}

}  // namespace vg
