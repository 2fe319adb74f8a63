#include "vesselgan/core/model_dir.h"

#include <cstdlib>

#include "vesselgan/core/error.h"

namespace vg {

std::filesystem::path model_dir() {
  if (const char* env = std::getenv("VESSELGAN_MODEL_DIR"); env && *env) return env;
  return VG_MODEL_DIR;
}

std::filesystem::path shipped_model(const std::string& name) {
  const auto path = model_dir() / name;
  if (!std::filesystem::is_regular_file(path))
    throw UserError("shipped model " + path.string() +
                    " is missing (set VESSELGAN_MODEL_DIR to the folder holding " + name +
                    ", or pass --model CHECKPOINT)");
  return path;
}

}  // namespace vg
