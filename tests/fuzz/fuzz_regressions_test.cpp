// Replays the inputs kept in tests/fuzz_regressions/<target>/ (docs/fuzzing.md): the fuzzers' findings and
// hand-made damaged files, each through its target's entry point (fuzz/fuzz_targets.h), the code the
// fuzzer ran. Each must decode or be refused with a UserError; a crash, a sanitizer report or another
// exception fails the test. Runs in every build, no clang needed.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_targets.h"
#include "test_support.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

const fs::path kRegressions = VG_FUZZ_REGRESSIONS;

bool is_one_of(const std::string& name, const std::vector<std::string>& names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The kept inputs of one target, sorted.
std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  if (fs::is_directory(kRegressions / target)) {
    for (const auto& e : fs::directory_iterator(kRegressions / target))
      if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST(FuzzRegressions, EveryFolderIsATarget) {
  ASSERT_TRUE(fs::is_directory(kRegressions)) << kRegressions;
  for (const auto& e : fs::directory_iterator(kRegressions)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(is_one_of(name, fuzz::image_targets()) || is_one_of(name, fuzz::config_targets()))
        << e.path() << " names no fuzz target (fuzz/fuzz_targets.h)";
  }
}

TEST(FuzzRegressions, ImageInputsDecodeOrAreRefusedWithAUserError) {
  for (const std::string& target : fuzz::image_targets()) {
    const auto files = inputs_of(target);
    EXPECT_FALSE(files.empty()) << "no kept inputs for " << target;
    for (const auto& f : files) {
      try {
        EXPECT_TRUE(fuzz::fuzz_image(target, bytes_of(f))) << f << " is not a " << target << " file";
      } catch (const std::exception& e) {
        ADD_FAILURE() << f << ": " << e.what();
      }
    }
  }
}

TEST(FuzzRegressions, ConfigInputsAreReadOrRefusedWithAUserError) {
  for (const std::string& target : fuzz::config_targets()) {
    const auto files = inputs_of(target);
    EXPECT_FALSE(files.empty()) << "no kept inputs for " << target;
    for (const auto& f : files) {
      try {
        fuzz::fuzz_config(target, bytes_of(f));
      } catch (const std::exception& e) {
        ADD_FAILURE() << f << ": " << e.what();
      }
    }
  }
}

}  // namespace vg
