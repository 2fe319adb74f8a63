#include "vesselgan/dist/data_parallel.h"

#include <cstring>

#include "vesselgan/core/error.h"

namespace vg {

namespace {

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace

void broadcast_module(const Collective& world, torch::nn::Module& module) {
  if (!world.distributed()) return;
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    torch::Tensor d = p.data();
    world.broadcast(d, 0);
  }
  for (auto& b : module.buffers()) world.broadcast(b, 0);
}

void average_gradients(const Collective& world, const std::vector<torch::Tensor>& params, std::vector<double>* scalars) {
  if (!world.distributed()) return;
  torch::NoGradGuard no_grad;
  TORCH_CHECK(!params.empty(), "average_gradients: no parameters");
  const auto opts = params.front().options().dtype(torch::kFloat);
  std::vector<torch::Tensor> parts;
  std::vector<float> has;  // per parameter: 1 where this rank has a gradient (summed: how many ranks have one)
  for (const auto& p : params) {
    has.push_back(p.grad().defined() ? 1.0F : 0.0F);
    parts.push_back(p.grad().defined() ? p.grad().to(torch::kFloat).reshape({-1}) : torch::zeros({p.numel()}, opts));
  }
  parts.push_back(torch::tensor(has, opts));
  if (scalars != nullptr && !scalars->empty()) {
    std::vector<float> s(scalars->begin(), scalars->end());
    parts.push_back(torch::tensor(s, opts));
  }
  torch::Tensor flat = torch::cat(parts);
  world.all_reduce_sum(flat);
  int64_t at = 0;
  for (const auto& p : params) at += p.numel();
  const torch::Tensor with_grad = flat.slice(0, at, at + static_cast<int64_t>(params.size())).cpu().clone();
  flat.div_(static_cast<double>(world.size()));
  at = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const torch::Tensor mean = flat.slice(0, at, at + p.numel()).view(p.sizes());
    at += p.numel();
    // A parameter no rank reached keeps no gradient (an optimizer skips it, as in one process).
    if (with_grad[static_cast<int64_t>(i)].item<float>() == 0.0F) continue;
    if (p.grad().defined()) p.mutable_grad().copy_(mean);
    else p.mutable_grad() = mean.to(p.dtype()).clone();
  }
  at += static_cast<int64_t>(params.size());
  if (scalars != nullptr)
    for (auto& v : *scalars) v = flat[at++].item<double>();
}

std::vector<double> mean_over_ranks(const Collective& world, std::vector<double> values) {
  if (!world.distributed() || values.empty()) return values;
  torch::Tensor t = torch::tensor(values, torch::TensorOptions().dtype(torch::kDouble));
  world.all_reduce_sum(t);
  t.div_(static_cast<double>(world.size()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = t[static_cast<int64_t>(i)].item<double>();
  return values;
}

void check_same_on_all_ranks(const Collective& world, const std::string& what, const std::string& text) {
  if (!world.distributed()) return;
  const uint64_t h = fnv1a(text.data(), text.size());
  const torch::Tensor mine = torch::tensor({static_cast<int64_t>(h)}, torch::TensorOptions().dtype(torch::kLong));
  const auto all = world.all_gather(mine);
  for (size_t r = 1; r < all.size(); ++r) {
    if (all[r].item<int64_t>() != all[0].item<int64_t>())
      throw UserError("ranks disagree on " + what + ": rank " + std::to_string(r) + " differs from rank 0 " +
                      "(start every rank with the same command, config and data)");
  }
}

void check_same_job(const Collective& world, const nlohmann::json& config, const std::string& data,
                    const nlohmann::json& resume_state) {
  check_same_on_all_ranks(world, "the training recipe (config)", config.dump());
  check_same_on_all_ranks(world, "the training data (image files)", data);
  check_same_on_all_ranks(world, "the resume state (checkpoints/last.pt must be the same file on every rank)",
                          resume_state.dump());
}

std::string broadcast_text(const Collective& world, const std::string& text) {
  if (!world.distributed()) return text;
  torch::Tensor size = torch::tensor({static_cast<int64_t>(text.size())}, torch::TensorOptions().dtype(torch::kLong));
  world.broadcast(size);
  torch::Tensor bytes = torch::zeros({size.item<int64_t>()}, torch::TensorOptions().dtype(torch::kUInt8));
  if (world.is_main() && !text.empty()) std::memcpy(bytes.data_ptr(), text.data(), text.size());
  world.broadcast(bytes);
  return std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel()));
}

uint64_t tensor_fingerprint(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().cpu().contiguous();
  uint64_t h = fnv1a(c.sizes().data(), c.sizes().size() * sizeof(int64_t));
  return fnv1a(c.data_ptr(), c.numel() * c.element_size(), h);
}

std::string samples_fingerprint(const std::vector<Sample>& samples) {
  const auto of = [](const torch::Tensor& t) { return std::to_string(t.defined() ? tensor_fingerprint(t) : 0); };
  std::string text;
  for (const auto& x : samples) text += x.id + ":" + of(x.image) + ":" + of(x.label) + ":" + of(x.mask) + ";";
  return text;
}

}  // namespace vg
