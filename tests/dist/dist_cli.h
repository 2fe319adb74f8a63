// The real program started as the ranks of a data-parallel job, for the distributed tests.
#pragma once
#include <string>

#include "smoke/run_cli.h"

namespace vg::test {

// `vesselgan launch --nproc N -- vesselgan <args>`: N ranks on this machine.
inline std::string launch(int nproc, const std::string& args) {
  return "launch --nproc " + std::to_string(nproc) + " -- vesselgan " + args;
}

// `args` run as one process (ranks 1) or as a job of `ranks` ranks.
inline CliResult run_ranks(int ranks, const std::string& args, const ScratchDir& dir) {
  return run_vesselgan(ranks == 1 ? args : launch(ranks, args), dir);
}

}  // namespace vg::test
