#include "vesselgan/dist/collective.h"

#include <chrono>
#include <thread>

#include "vesselgan/core/error.h"
#include "vesselgan/dist/comm_backend.h"

namespace vg {

struct Collective::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<CommBackend> comm;
  torch::Device device{torch::kCPU};  // where the backend wants its tensors (CUDA for NCCL)
  double busy_s = 0;                  // time spent in collectives
};

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string what_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return first_line(c->what_without_backtrace());
  return first_line(e.what());
}

// Runs one collective, timed into `busy_s`; any failure becomes one line naming the operation and this rank.
template <class F>
void guarded(const char* op, int64_t rank, int64_t size, double& busy_s, F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    f();
    busy_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } catch (const std::exception& e) {
    throw UserError("distributed " + std::string(op) + " failed on rank " + std::to_string(rank) + " of " +
                    std::to_string(size) + ": " + what_of(e) +
                    " (another rank stopped, or waited past VESSELGAN_DIST_TIMEOUT; see its own error)");
  }
}

bool is_loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

#ifdef VG_WITH_GLOO
std::shared_ptr<::gloo::transport::Device> gloo_device(const DistEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  // On one machine the ranks talk over loopback whatever the host name resolves to.
  if (is_loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

// The backend a job uses; a bad name is refused even for a process alone, a backend the build lacks only in a job.
std::string pick_backend(const std::string& requested, const torch::Device& device, bool job) {
  if (requested != "auto" && requested != "gloo" && requested != "nccl")
    throw UserError("distributed backend '" + requested + "' is invalid; valid: auto, gloo or nccl");
  if (!job) return requested;
  if (requested == "auto") return device.is_cuda() && kBuildHasNccl ? "nccl" : pick_backend("gloo", device, job);
  if (requested == "gloo" && !kBuildHasGloo)
    throw UserError("distributed backend gloo: this vesselgan was built without Gloo's headers (Debian: install "
                    "libgloo-dev and rebuild)");
  if (requested == "nccl" && !kBuildHasNccl)
    throw UserError("distributed backend nccl: this vesselgan was built against a LibTorch without NCCL "
                    "(a CPU build); use gloo");
  if (requested == "nccl" && !device.is_cuda())
    throw UserError("distributed backend nccl needs a CUDA device (got " + device.str() + "); use gloo on CPU");
  return requested;
}

}  // namespace

Collective Collective::join(const DistEnv& env, const torch::Device& device, const std::string& backend) {
  const std::string chosen = pick_backend(backend, device, env.distributed());
  Collective c;
  if (!env.distributed()) return c;
  c.rank_ = env.rank;
  c.size_ = env.world_size;
  c.backend_ = chosen;
  auto g = std::make_shared<Group>();
  const std::string master = env.master_addr + ":" + std::to_string(env.master_port);
  const std::string secs = std::to_string(env.timeout.count() / 1000);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0 && !env.agent_store;
    so.numWorkers = static_cast<std::size_t>(env.world_size);
    so.waitWorkers = !env.agent_store;  // the agent's store also counts the agents
    so.timeout = env.timeout;
    g->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    if (env.agent_store)
      g->store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(env.restart_count), g->store);
  } catch (const std::exception& e) {
    throw UserError("distributed rendezvous failed on rank " + std::to_string(env.rank) + " of " +
                    std::to_string(env.world_size) + ": " +
                    (env.rank == 0 && !env.agent_store ? "could not serve " + master + " or not every rank arrived within " + secs + " s"
                                   : "could not reach the master " + master + " within " + secs + " s") +
                    " (" + what_of(e) + "; check MASTER_ADDR, MASTER_PORT and that all WORLD_SIZE ranks start)");
  }
  guarded("setup", env.rank, env.world_size, g->busy_s, [&] {
    if (chosen == "gloo") {
#ifdef VG_WITH_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(env.timeout);
      opts->devices.push_back(gloo_device(env));
      g->comm = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, env.rank, env.world_size, opts);
#endif
    } else {
#ifdef VG_WITH_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = env.timeout;
      g->comm = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, env.rank, env.world_size, opts);
      g->device = device;
#endif
    }
  });
  c.group_ = std::move(g);
  return c;
}

void Collective::all_reduce_sum(torch::Tensor& t) const {
  if (!group_) return;
  guarded("all-reduce", rank_, size_, group_->busy_s, [&] {
    std::vector<torch::Tensor> v{t.to(group_->device).contiguous()};
    group_->comm->allreduce(v)->wait();
    if (!v[0].is_same(t)) t.copy_(v[0]);
  });
}

void Collective::broadcast(torch::Tensor& t, int64_t root) const {
  if (!group_) return;
  guarded("broadcast", rank_, size_, group_->busy_s, [&] {
    std::vector<torch::Tensor> v{t.to(group_->device).contiguous()};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    group_->comm->broadcast(v, o)->wait();
    if (!v[0].is_same(t)) t.copy_(v[0]);
  });
}

std::vector<torch::Tensor> Collective::all_gather(const torch::Tensor& t) const {
  if (!group_) return {t.clone()};
  std::vector<torch::Tensor> out;
  guarded("all-gather", rank_, size_, group_->busy_s, [&] {
    std::vector<torch::Tensor> in{t.to(group_->device).contiguous()};
    std::vector<std::vector<torch::Tensor>> gathered(1);
    for (int64_t r = 0; r < size_; ++r) gathered[0].push_back(torch::empty_like(in[0]));
    group_->comm->allgather(gathered, in)->wait();
    for (auto& x : gathered[0]) out.push_back(x.to(t.device()));
  });
  return out;
}

double Collective::seconds_in_collectives() const { return group_ ? group_->busy_s : 0.0; }

void Collective::barrier() const {
  if (!group_) return;
  guarded("barrier", rank_, size_, group_->busy_s, [&] { group_->comm->barrier()->wait(); });
}

void Collective::mark_done(const std::string& key) const {
  if (!group_ || !is_main()) return;
  guarded("mark", rank_, size_, group_->busy_s, [&] { group_->store->set("vesselgan/done/" + key, std::vector<uint8_t>{1}); });
}

void Collective::wait_until_done(const std::string& key) const {
  if (!group_ || is_main()) return;
  guarded("wait for rank 0", rank_, size_, group_->busy_s, [&] {
    while (!group_->store->check({"vesselgan/done/" + key})) std::this_thread::sleep_for(std::chrono::seconds(1));
  });
}

}  // namespace vg
