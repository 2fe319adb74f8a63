// The ranks of a data-parallel job as one object: rank, size and the few collective operations the
// trainers need (sum across ranks, broadcast from rank 0, gather, barrier). A default-constructed
// Collective is one process alone: every operation leaves its tensor as it is, so trainers call the same
// code with or without a job.
//
// Failures: a rank that died, a master that cannot be reached or a collective that waits longer than the
// job's timeout become a UserError of one line, naming the operation and this rank, on every surviving rank.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "vesselgan/dist/dist_env.h"

namespace vg {

class Collective {
 public:
  Collective() = default;  // one process alone

  // Joins the job `env` describes: a TCP rendezvous store on MASTER_ADDR:MASTER_PORT (rank 0 serves it),
  // then a process group. backend: "auto" (NCCL for a CUDA device where the build has it, else Gloo),
  // "gloo" or "nccl". For env.world_size == 1 it returns the single-process Collective.
  static Collective join(const DistEnv& env, const torch::Device& device, const std::string& backend = "auto");

  int64_t rank() const { return rank_; }
  int64_t size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  bool is_main() const { return rank_ == 0; }
  const std::string& backend() const { return backend_; }

  // In place: t becomes the element-wise sum of every rank's t (same shape and dtype on all ranks).
  void all_reduce_sum(torch::Tensor& t) const;
  // In place: t becomes rank `root`'s t.
  void broadcast(torch::Tensor& t, int64_t root = 0) const;
  // Every rank's t, in rank order (same shape and dtype on all ranks).
  std::vector<torch::Tensor> all_gather(const torch::Tensor& t) const;
  void barrier() const;

  // Work rank 0 does alone, however long it takes (a pipeline stage of hours): rank 0 marks `key` done in the
  // job's rendezvous store, the other ranks wait for the mark with no time limit, asking the store once a
  // second. A rank 0 that dies ends the wait with an error when its process served the store (ranks started
  // by hand); under torchrun or vesselgan launch the launcher ends the waiting ranks. Keys are one-use.
  void mark_done(const std::string& key) const;
  void wait_until_done(const std::string& key) const;

  // Wall time this process has spent inside the operations above (communication and waiting for the other
  // ranks), for the share of a step that data parallelism costs.
  double seconds_in_collectives() const;

 private:
  struct Group;
  std::shared_ptr<Group> group_;
  int64_t rank_ = 0, size_ = 1;
  std::string backend_ = "none";
};

}  // namespace vg
