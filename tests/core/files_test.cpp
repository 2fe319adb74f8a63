#include "vesselgan/core/files.h"

#include "test_support.h"
#include "vesselgan/core/error.h"

namespace vg {

TEST(Files, AtomicWriteReplacesContentAndLeavesNoTempFile) {
  test::ScratchDir dir("files_atomic");
  const auto p = dir.path() / "sub" / "a.txt";
  write_file_atomic(p, "first");
  write_file_atomic(p, "second");
  EXPECT_EQ(read_file(p), "second");
  int n = 0;
  for (const auto& e : fs::directory_iterator(p.parent_path())) n += e.is_regular_file();
  EXPECT_EQ(n, 1);
}

TEST(Files, ReadingAMissingFileNamesIt) {
  try {
    read_file("/nonexistent/x.json");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.json"), std::string::npos);
  }
}

}  // namespace vg
