// Versioned checkpoints: one file holding a JSON header (what kind of model, its config, training state),
// the model's parameters and buffers, optionally the optimizer and named extra tensors (RNG state, EMA...).
// Written atomically (temp file + rename), so a killed run leaves the previous checkpoint intact.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vg {

constexpr int kCheckpointFormat = 1;

struct CheckpointHeader {
  std::string kind;        // model family, e.g. "sa-unet"; loading checks it
  int format = kCheckpointFormat;
  std::string version;     // vesselgan version that wrote it
  nlohmann::json config;   // everything needed to rebuild the model and its preprocessing
  nlohmann::json state;    // training state: epoch, step, best score, ...
};

void save_checkpoint(const std::filesystem::path& path, const CheckpointHeader& header,
                     const torch::nn::Module& model, torch::optim::Optimizer* optimizer = nullptr,
                     const std::map<std::string, torch::Tensor>& extra = {});

// Reads only the header. UserError when the file is missing, is not a vesselgan checkpoint, has another
// kind than `expected_kind` (if non-empty), or a newer format.
CheckpointHeader read_checkpoint_header(const std::filesystem::path& path, const std::string& expected_kind = "");

// Loads parameters (and, when given, optimizer state and the extra tensors present) onto `device`.
// The model must already be built from header.config. UserError when the file does not fit the model.
CheckpointHeader load_checkpoint(const std::filesystem::path& path, const std::string& expected_kind,
                                 torch::nn::Module& model, const torch::Device& device,
                                 torch::optim::Optimizer* optimizer = nullptr,
                                 std::map<std::string, torch::Tensor>* extra = nullptr);

// Several optimizers by name (a GAN's generator and discriminator), stored as "optimizer/<name>".
using NamedOptimizers = std::map<std::string, torch::optim::Optimizer*>;
void save_checkpoint(const std::filesystem::path& path, const CheckpointHeader& header,
                     const torch::nn::Module& model, const NamedOptimizers& optimizers,
                     const std::map<std::string, torch::Tensor>& extra = {});
CheckpointHeader load_checkpoint(const std::filesystem::path& path, const std::string& expected_kind,
                                 torch::nn::Module& model, const torch::Device& device,
                                 const NamedOptimizers& optimizers,
                                 std::map<std::string, torch::Tensor>* extra = nullptr);

// Partial loading between networks of one family (a cascade's first stage, a GAN grown in resolution): copies
// every parameter and buffer of `src` into the one `dst` names alike (their shapes must agree: c10::Error
// otherwise) and returns the names of src's tensors that dst lacks, in src's order.
std::vector<std::string> copy_named_tensors(const torch::nn::Module& src, torch::nn::Module& dst);

// A second module kept in a checkpoint's extra tensors (a weight average, a training-time head): its parameters, and
// its buffers when `buffers`, named "<prefix><name>". module_extra_tensors copies them out; module_extra_slots gives
// the same keys with undefined tensors, for load_checkpoint to fill; read_module_extra_tensors copies them back
// (c10::Error naming the first one missing).
std::map<std::string, torch::Tensor> module_extra_tensors(const torch::nn::Module& m, const std::string& prefix,
                                                          bool buffers);
std::map<std::string, torch::Tensor> module_extra_slots(const torch::nn::Module& m, const std::string& prefix,
                                                        bool buffers);
void read_module_extra_tensors(const std::map<std::string, torch::Tensor>& extra, const std::string& prefix,
                               torch::nn::Module& m, bool buffers);

}  // namespace vg
