// Progress reporting from library code to whoever renders it (the CLI draws a bar or plain lines).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace vg {

struct Progress {
  std::string stage;                      // e.g. "train", "validate", "segment"
  int64_t done = 0, total = 0;            // units of `unit` finished and planned in this stage
  int64_t done_at_start = 0;              // of `done`, those finished before this process began (a resumed run)
  std::string unit;                       // e.g. "step", "image"
  double elapsed_s = 0;                   // since the stage started (this process)
  std::map<std::string, double> scalars;  // latest loss, lr, F1, ...
  std::string message;                    // a line worth keeping (epoch summary, checkpoint saved)
};

using ProgressFn = std::function<void(const Progress&)>;

// Seconds left at this process's rate (units done since it began over its elapsed time); NaN before it has
// done one, or for a stage without a total.
double eta_seconds(const Progress& p);

}  // namespace vg
