// The libFuzzer entry point of one fuzz target, chosen at compile time (fuzz/CMakeLists.txt builds this file
// once per target): VG_FUZZ_IMAGE names an image format, VG_FUZZ_CONFIG a JSON config (fuzz_targets.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
#if defined(VG_FUZZ_IMAGE)
  return vg::fuzz::fuzz_image(VG_FUZZ_IMAGE, bytes) ? 0 : -1;  // -1: another format, not kept in the corpus
#elif defined(VG_FUZZ_CONFIG)
  vg::fuzz::fuzz_config(VG_FUZZ_CONFIG, bytes);
  return 0;
#else
#error "define VG_FUZZ_IMAGE or VG_FUZZ_CONFIG"
#endif
}
