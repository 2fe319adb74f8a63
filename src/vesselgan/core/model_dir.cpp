#include "vesselgan/core/model_dir.h"

#include <cstdlib>
#include <system_error>

#include "vesselgan/core/error.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

// The folder of the running executable (Linux /proc/self/exe); empty when it cannot be read.
fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::vector<fs::path> model_dir_candidates() {
  std::vector<fs::path> out;
  for (const char* var : {"VESSELGAN_MODELS", "VESSELGAN_MODEL_DIR"})
    if (const char* env = std::getenv(var); env && *env) return {fs::path(env)};
  const fs::path exe = executable_dir();
  if (!exe.empty()) {
    out.push_back(exe / "models");
    out.push_back(exe.parent_path() / "share" / "vesselgan" / "models");
  }
  out.push_back(VG_MODEL_DIR);
  return out;
}

fs::path model_dir() {
  const auto candidates = model_dir_candidates();
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_directory(c, ec)) return c;
  }
  return candidates.back();
}

fs::path shipped_model(const std::string& name) {
  const auto path = model_dir() / name;
  if (!fs::is_regular_file(path)) {
    std::string looked;
    for (const auto& c : model_dir_candidates()) looked += (looked.empty() ? "" : ", ") + c.string();
    throw UserError("shipped model " + path.string() + " is missing (looked in " + looked +
                    "; set VESSELGAN_MODELS to the folder holding it, or pass --model CHECKPOINT)");
  }
  return path;
}

}  // namespace vg
