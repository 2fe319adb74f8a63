// The fuzz targets (docs/fuzzing.md): what one input does in each. Shared by the libFuzzer programs
// (fuzzer_main.cpp, built by clang with -DVG_BUILD_FUZZ=ON, scripts/fuzz.sh) and by the test that replays
// tests/fuzz_regressions/<target>/ in every build (tests/fuzz/fuzz_regressions_test.cpp), so a kept input
// runs through exactly the code that found it.
// An entry point returns normally for every input the code handles as designed: decoded or read, or refused
// with a UserError. Anything else is a finding: a crash, a sanitizer report, another exception type, or a
// broken output invariant (reported as std::logic_error).
#pragma once
#include <string>
#include <vector>

namespace vg::fuzz {

// Image decoder targets, one per format: "png", "jpeg", "tiff", "gif", "pnm".
std::vector<std::string> image_targets();
// Feeds `bytes` to decode_image (io/image_codec.h) and checks the image it returns. Returns false, doing
// nothing, when the bytes do not start like a file of `format` (decode_image dispatches on content, so each
// target keeps to its own decoder).
bool fuzz_image(const std::string& format, const std::string& bytes);

// JSON config targets: "train_options" (seg/train_options.h), "gan_options" (gan/gan_options.h),
// "pipeline_config" (pipeline/pipeline_config.h).
std::vector<std::string> config_targets();
// Parses `bytes` as JSON and, over every preset of that config, reads it the way the CLI reads --config
// (preset, then from_json, then validation). A config that is accepted must survive its run folder's
// config.json round trip (dump, parse, read over another preset) unchanged.
void fuzz_config(const std::string& config, const std::string& bytes);

}  // namespace vg::fuzz
