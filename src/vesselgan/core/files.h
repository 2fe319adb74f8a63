// Small filesystem helpers: atomic writes (temp file + rename, so a killed run never leaves a half-written
// file under the final name) and whole-file reads with user-facing errors.
#pragma once
#include <filesystem>
#include <string>

namespace vg {

namespace fs = std::filesystem;

// Writes `bytes` to `path` atomically: to `path.tmp-<pid>` first, then renamed over `path`.
// Creates missing parent directories. Throws UserError naming the path on failure.
void write_file_atomic(const fs::path& path, const std::string& bytes);

// Reads a whole file; throws UserError naming the path when it is missing or unreadable.
std::string read_file(const fs::path& path);

// Temporary file name next to `path`, for writers (libpng, torch::save) that need a path to write to
// before the atomic rename; commit_atomic renames it into place.
fs::path temp_path_for(const fs::path& path);
void commit_atomic(const fs::path& tmp, const fs::path& path);

}  // namespace vg
