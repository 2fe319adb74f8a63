#include "vesselgan/core/files.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "vesselgan/core/error.h"

namespace vg {

fs::path temp_path_for(const fs::path& path) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  return fs::path(path.string() + ".tmp-" + std::to_string(::getpid()));
}

void commit_atomic(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw UserError("cannot write " + path.string() + ": rename failed (" + ec.message() + ")");
  }
}

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = temp_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw UserError("cannot write " + path.string() + ": the folder is not writable");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw UserError("cannot write " + path.string() + ": write failed (disk full?)");
  }
  commit_atomic(tmp, path);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read " + path.string() + ": no such file or not readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vg
