#include "dist_job.h"

#include <iostream>

#include "vesselgan/core/error.h"

namespace vg::cli {

void add_dist_flags(CLI::App& cmd, DistFlags& f) {
  cmd.add_option("--dist-backend", f.backend,
                 "data-parallel backend when started by torchrun or `vesselgan launch`: auto (NCCL on CUDA, Gloo "
                 "on CPU) | gloo | nccl")
      ->capture_default_str();
}

torch::Device rank_device(const torch::Device& device) {
  const DistEnv env = read_dist_env();
  if (!env.distributed() || !device.is_cuda()) return device;
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
}

Collective join_job(const DistFlags& f, const torch::Device& device) {
  const DistEnv env = read_dist_env();
  Collective world = Collective::join(env, device, f.backend);
  if (world.distributed())
    std::cerr << "rank " << world.rank() << " of " << world.size() << " (" << world.backend() << ", master "
              << env.master_addr << ":" << env.master_port << ")\n";
  return world;
}

void refuse_data_parallel(const std::string& command) {
  if (read_dist_env().distributed())
    throw UserError(command + " does not train data-parallel yet (WORLD_SIZE > 1; docs/distributed.md); start it as "
                    "one process, without torchrun or vesselgan launch");
}

}  // namespace vg::cli
