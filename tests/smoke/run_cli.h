// Running the real `vesselgan` program from a smoke test.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "test_support.h"
#include "vesselgan/core/files.h"

namespace vg::test {

struct CliResult {
  int code = -1;
  std::string out, err;
};

// Runs `vesselgan <args>` with stdout / stderr captured in files of `dir`; `env` is prepended ("A=1 B=2").
inline CliResult run_vesselgan(const std::string& args, const ScratchDir& dir, const std::string& env = "") {
  const auto out = dir.path() / "stdout.txt", err = dir.path() / "stderr.txt";
  // Run inside the scratch folder, as a user runs the program in a working folder: outputs with default
  // names (evaluation/, segmented/) land there, not in the test runner's directory.
  const std::string cmd = "cd '" + dir.path().string() + "' && " + env + (env.empty() ? "" : " ") +
                          std::string(VG_CLI) + " " + args + " >" + out.string() + " 2>" + err.string() +
                          " </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace vg::test
