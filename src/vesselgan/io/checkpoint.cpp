#include "vesselgan/io/checkpoint.h"

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg {

namespace {

// The shape of every parameter and buffer of `model`, by name.
std::map<std::string, std::vector<int64_t>> tensor_shapes(const torch::nn::Module& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : model.named_parameters(true)) shapes[t.key()] = t.value().sizes().vec();
  for (const auto& t : model.named_buffers(true)) shapes[t.key()] = t.value().sizes().vec();
  return shapes;
}

const char* kHeaderKey = "vesselgan_header";

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

torch::serialize::InputArchive open_archive(const std::filesystem::path& path, const torch::Device& device) {
  if (!std::filesystem::is_regular_file(path))
    throw UserError("cannot read checkpoint " + path.string() + ": no such file (expected a .pt file written by vesselgan)");
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path.string(), device);
  } catch (const c10::Error& e) {
    throw UserError("cannot read checkpoint " + path.string() +
                    ": not a LibTorch archive or truncated (expected a .pt file written by vesselgan)");
  }
  return ar;
}

CheckpointHeader parse_header(torch::serialize::InputArchive& ar, const std::filesystem::path& path,
                              const std::string& expected_kind) {
  c10::IValue v;
  if (!ar.try_read(kHeaderKey, v) || !v.isString())
    throw UserError("checkpoint " + path.string() + " was not written by vesselgan (no header)");
  auto j = nlohmann::json::parse(v.toStringRef(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw UserError("checkpoint " + path.string() + " has a corrupt header");
  CheckpointHeader h;
  h.kind = j.value("kind", "");
  h.format = j.value("format", 0);
  h.version = j.value("version", "");
  h.config = j.value("config", nlohmann::json::object());
  h.state = j.value("state", nlohmann::json::object());
  if (h.format > kCheckpointFormat || h.format < 1)
    throw UserError("checkpoint " + path.string() + " has format " + std::to_string(h.format) +
                    " (this vesselgan " VG_VERSION " reads format 1.." + std::to_string(kCheckpointFormat) + ")");
  if (!expected_kind.empty() && h.kind != expected_kind)
    throw UserError("checkpoint " + path.string() + " holds a '" + h.kind + "' model (expected '" + expected_kind + "')");
  return h;
}

// Archive key of an optimizer: "optimizer" for the single unnamed one, "optimizer/<name>" otherwise.
std::string optimizer_key(const std::string& name) { return name.empty() ? "optimizer" : "optimizer/" + name; }

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const CheckpointHeader& header,
                     const torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const std::map<std::string, torch::Tensor>& extra) {
  NamedOptimizers opts;
  if (optimizer) opts[""] = optimizer;
  save_checkpoint(path, header, model, opts, extra);
}

CheckpointHeader load_checkpoint(const std::filesystem::path& path, const std::string& expected_kind,
                                 torch::nn::Module& model, const torch::Device& device,
                                 torch::optim::Optimizer* optimizer, std::map<std::string, torch::Tensor>* extra) {
  NamedOptimizers opts;
  if (optimizer) opts[""] = optimizer;
  return load_checkpoint(path, expected_kind, model, device, opts, extra);
}

void save_checkpoint(const std::filesystem::path& path, const CheckpointHeader& header,
                     const torch::nn::Module& model, const NamedOptimizers& optimizers,
                     const std::map<std::string, torch::Tensor>& extra) {
  nlohmann::json j = {{"kind", header.kind},     {"format", kCheckpointFormat}, {"version", VG_VERSION},
                      {"config", header.config}, {"state", header.state}};
  torch::serialize::OutputArchive ar;
  ar.write(kHeaderKey, c10::IValue(j.dump()));
  torch::serialize::OutputArchive model_ar;
  model.save(model_ar);
  ar.write("model", model_ar);
  for (const auto& [name, optimizer] : optimizers) {
    torch::serialize::OutputArchive opt_ar;
    optimizer->save(opt_ar);
    ar.write(optimizer_key(name), opt_ar);
  }
  for (const auto& [name, t] : extra) ar.write("extra/" + name, t.detach().cpu());
  const auto tmp = temp_path_for(path);
  try {
    ar.save_to(tmp.string());
  } catch (const c10::Error& e) {
    std::filesystem::remove(tmp);
    throw UserError("cannot write checkpoint " + path.string() + ": " + first_line(e.what_without_backtrace()));
  }
  commit_atomic(tmp, path);
}

CheckpointHeader read_checkpoint_header(const std::filesystem::path& path, const std::string& expected_kind) {
  auto ar = open_archive(path, torch::kCPU);
  return parse_header(ar, path, expected_kind);
}

CheckpointHeader load_checkpoint(const std::filesystem::path& path, const std::string& expected_kind,
                                 torch::nn::Module& model, const torch::Device& device,
                                 const NamedOptimizers& optimizers, std::map<std::string, torch::Tensor>* extra) {
  auto ar = open_archive(path, device);
  CheckpointHeader h = parse_header(ar, path, expected_kind);
  try {
    torch::serialize::InputArchive model_ar;
    ar.read("model", model_ar);
    // Module::load replaces each tensor whatever its shape, so a checkpoint of other widths would load
    // silently: every parameter and buffer must keep its shape.
    const auto want = tensor_shapes(model);
    model.load(model_ar);
    for (const auto& [name, shape] : tensor_shapes(model))
      if (shape != want.at(name))
        throw UserError("checkpoint " + path.string() + " does not fit this model (" + name + " is " +
                        c10::str(c10::IntArrayRef(shape)) + " in the checkpoint, " +
                        c10::str(c10::IntArrayRef(want.at(name))) + " in the model)");
    for (const auto& [name, optimizer] : optimizers) {
      torch::serialize::InputArchive opt_ar;
      if (!ar.try_read(optimizer_key(name), opt_ar))
        throw UserError("checkpoint " + path.string() + " holds no optimizer state, so training cannot resume from it");
      optimizer->load(opt_ar);
    }
    if (extra) {
      for (auto& [name, t] : *extra) {
        torch::Tensor v;
        if (ar.try_read("extra/" + name, v)) t = v.cpu();
      }
    }
  } catch (const c10::Error& e) {
    throw UserError("checkpoint " + path.string() + " does not fit this model (" +
                    first_line(e.what_without_backtrace()) + ")");
  }
  return h;
}

std::vector<std::string> copy_named_tensors(const torch::nn::Module& src, torch::nn::Module& dst) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> missing;
  auto copy = [&](const auto& from, auto& to) {
    for (const auto& t : from) {
      auto* d = to.find(t.key());
      if (!d) {
        missing.push_back(t.key());
        continue;
      }
      TORCH_CHECK(d->sizes() == t.value().sizes(), "copy_named_tensors: ", t.key(), " is ", t.value().sizes(),
                  " in the source and ", d->sizes(), " in the destination");
      d->copy_(t.value());
    }
  };
  auto dst_params = dst.named_parameters(true);
  auto dst_buffers = dst.named_buffers(true);
  copy(src.named_parameters(true), dst_params);
  copy(src.named_buffers(true), dst_buffers);
  return missing;
}

namespace {

// Every tensor a module keeps in a checkpoint's extra tensors: its parameters, then its buffers when asked.
std::vector<std::pair<std::string, torch::Tensor>> kept_tensors(const torch::nn::Module& m, bool buffers) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  if (buffers)
    for (const auto& b : m.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

}  // namespace

std::map<std::string, torch::Tensor> module_extra_tensors(const torch::nn::Module& m, const std::string& prefix,
                                                          bool buffers) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : kept_tensors(m, buffers)) out[prefix + name] = t.detach().clone();
  return out;
}

std::map<std::string, torch::Tensor> module_extra_slots(const torch::nn::Module& m, const std::string& prefix,
                                                        bool buffers) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& kept : kept_tensors(m, buffers)) out[prefix + kept.first] = torch::Tensor();
  return out;
}

void read_module_extra_tensors(const std::map<std::string, torch::Tensor>& extra, const std::string& prefix,
                               torch::nn::Module& m, bool buffers) {
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : kept_tensors(m, buffers)) {
    const auto it = extra.find(prefix + name);
    TORCH_CHECK(it != extra.end() && it->second.defined(), "read_module_extra_tensors: no ", prefix, name);
    t.copy_(it->second);
  }
}

}  // namespace vg
