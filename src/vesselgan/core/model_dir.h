// Where vesselgan finds its shipped models (models/*.pt in the source tree), so commands that need a
// model work without --model right after the build.
#pragma once
#include <filesystem>
#include <string>

namespace vg {

// The shipped models' file names.
constexpr const char* kShippedSegmenter = "sa-unet-drive.pt";       // SA-UNet ensemble trained on DRIVE
constexpr const char* kShippedGenerator = "stylegan2-drive-joint.pt";  // joint (RGB + vessels) patch generator

// $VESSELGAN_MODEL_DIR when set, else the models/ folder of the source tree this binary was built from.
std::filesystem::path model_dir();

// model_dir() / name; UserError naming the path and the --model alternative when the file is missing.
std::filesystem::path shipped_model(const std::string& name);

}  // namespace vg
