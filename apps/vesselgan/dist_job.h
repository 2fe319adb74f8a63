// Joining a data-parallel job from a training command: the flag that forces a backend, and the job the
// torchrun variables describe (docs/distributed.md).
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "vesselgan/dist/collective.h"

namespace vg::cli {

struct DistFlags {
  std::string backend = "auto";
};
void add_dist_flags(CLI::App& cmd, DistFlags& f);

// The device this rank trains on: `device`, with a CUDA device's index replaced by LOCAL_RANK in a job (one
// process per GPU).
torch::Device rank_device(const torch::Device& device);

// Joins the job of this process's RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT (the single-process
// Collective without them) and says so on stderr.
Collective join_job(const DistFlags& f, const torch::Device& device);

// For the commands that do not train data-parallel yet: a UserError on every rank when started as ranks of a
// job (N copies would each train alone and write the same run folder).
void refuse_data_parallel(const std::string& command);

}  // namespace vg::cli
