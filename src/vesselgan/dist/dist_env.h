// Where this process stands in a data-parallel job: the variables torchrun sets (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), which `vesselgan launch` sets too. Without WORLD_SIZE (or with
// WORLD_SIZE=1 and no RANK) the process runs alone and nothing else is read.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vg {

struct DistEnv {
  int64_t rank = 0;        // RANK: 0 .. world_size - 1, the global index of this process
  int64_t world_size = 1;  // WORLD_SIZE: processes in the job, >= 1
  int64_t local_rank = 0;  // LOCAL_RANK: index among this machine's processes (picks the GPU)
  std::string master_addr; // MASTER_ADDR: host of rank 0's rendezvous store
  int64_t master_port = 0; // MASTER_PORT: its TCP port, 1..65535
  // VESSELGAN_DIST_TIMEOUT (seconds, default 300): how long a rendezvous or a collective may wait for the
  // other ranks before every surviving rank stops with an error.
  std::chrono::milliseconds timeout{300000};
  // torchrun's agent already serves the store on MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True): every rank
  // is then its client, under the prefix of the agent's restart (TORCHELASTIC_RESTART_COUNT).
  bool agent_store = false;
  int64_t restart_count = 0;

  bool distributed() const { return world_size > 1; }
};

// Reads the variables through `get` (returns nullopt for an unset one; std::getenv by default) and
// validates them: a bad one is a UserError naming the variable, its value and what would be valid.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
DistEnv read_dist_env(const EnvLookup& get = {});

}  // namespace vg
