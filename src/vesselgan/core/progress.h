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
  std::string unit;                       // e.g. "step", "image"
  double elapsed_s = 0;                   // since the stage started (this process)
  std::map<std::string, double> scalars;  // latest loss, lr, F1, ...
  std::string message;                    // a line worth keeping (epoch summary, checkpoint saved)
};

using ProgressFn = std::function<void(const Progress&)>;

}  // namespace vg
