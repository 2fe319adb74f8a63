// StyleGAN2 networks exchanged with NVIDIA's stylegan2-ada-pytorch through a plain tensor file (the
// safetensors layout, io/safetensors.h; docs/official.md): tensors "G.<name>", "G_ema.<name>", "D.<name>" named
// as in the official networks' state_dict, and metadata "format" = kOfficialNetworksFormat, "version" = "1",
// "networks" = the shape in vesselgan's terms (z_dim, w_dim, mapping_layers, mapping_lr_mul, w_avg_beta,
// resolution, img_channels, channel_base, channel_max, conv_clamp, mbstd_group, mbstd_channels).
// scripts/official/official_state.py moves the same file into and out of the official networks and pickles.
//
// The names pair up one to one because vesselgan's networks follow the official ones (generator.h,
// discriminator.h): the only difference is the generator's tracked mean w, "w_avg" here and "mapping.w_avg"
// there. The constant FIR "resample_filter" buffers are not exchanged.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "vesselgan/gan/discriminator.h"
#include "vesselgan/gan/gan_options.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/generator.h"
#include "vesselgan/io/safetensors.h"

namespace vg {

constexpr const char* kOfficialNetworksFormat = "vesselgan-stylegan2-networks";

// The official name of one of our tensor names (parameters and buffers of Generator / Discriminator).
std::string official_tensor_name(const std::string& ours);

// The shape of the networks, as in the file's "networks" metadata. Fields left out keep the defaults of
// GeneratorOptions / DiscriminatorOptions; unknown fields and invalid values are UserErrors.
struct OfficialNetworkShape {
  GeneratorOptions generator;
  DiscriminatorOptions discriminator;
};
OfficialNetworkShape network_shape_from_json(const nlohmann::json& j);
nlohmann::json network_shape_to_json(const GeneratorOptions& g, const DiscriminatorOptions& d);

// Copies the tensors "<prefix>.<official name>" of `tensors` into every parameter and buffer of `net` (a
// Generator or Discriminator) except resample_filter. UserError, naming `source`, for a missing tensor, one of
// another shape, or a tensor under `prefix` that `net` does not have.
void load_official_tensors(const std::map<std::string, torch::Tensor>& tensors, const std::string& prefix,
                           torch::nn::Module& net, const std::string& source);
// The reverse: `net`'s parameters and buffers (less resample_filter) as "<prefix>.<official name>", float32 on
// the CPU, added to `tensors`.
void add_official_tensors(std::map<std::string, torch::Tensor>& tensors, const std::string& prefix,
                          const torch::nn::Module& net);

// The networks file's content for G, G_ema and D of `models` (metadata "source" = `source`).
TensorFile official_networks_file(const GanModelsImpl& models, const std::string& source);

// `gan convert`: a networks file -> a vesselgan run checkpoint holding G, G_ema and D (what `gan train --init`
// and `gan generate --model` read) of data mode `mode` ("" = from the channels: 3 full, 4 joint-patch, 1
// label-patch). Returns the run's options. UserError when the file is not a networks file or does not fit.
GanTrainOptions convert_official_to_checkpoint(const std::filesystem::path& file, const std::filesystem::path& out,
                                               const std::string& mode = "");
// `gan convert` the other way: a run checkpoint, run folder or generator file -> a networks file (a generator
// file holds no G: its G_ema is written as both).
void convert_checkpoint_to_official(const std::filesystem::path& checkpoint, const std::filesystem::path& out);

}  // namespace vg
