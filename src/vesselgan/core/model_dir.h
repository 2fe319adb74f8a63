// Where vesselgan finds its shipped models (models/*.pt in the source tree), so commands that need a
// model work without --model right after the build.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace vg {

// The shipped models' file names.
constexpr const char* kShippedSegmenter = "sa-unet-drive.pt";       // SA-UNet ensemble trained on DRIVE
constexpr const char* kShippedGenerator = "generator-drive.pt";  // draws photographs with their vessel labels (generator-drive.md)

// Where shipped models are looked for, in order: $VESSELGAN_MODELS (or the older $VESSELGAN_MODEL_DIR) alone
// when set; else models/ next to the executable, <prefix>/share/vesselgan/models for an installed one
// (<prefix>/bin/vesselgan), and the models/ folder of the source tree the binary was built from.
std::vector<std::filesystem::path> model_dir_candidates();

// The first candidate folder that exists (the last candidate when none does).
std::filesystem::path model_dir();

// model_dir() / name; UserError naming the path and the --model alternative when the file is missing.
std::filesystem::path shipped_model(const std::string& name);

}  // namespace vg
