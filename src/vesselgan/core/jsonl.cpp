#include "vesselgan/core/jsonl.h"

#include <fstream>
#include <sstream>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg {

void append_jsonl(const std::filesystem::path& path, const nlohmann::json& row) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::app);
  if (!out) throw UserError("cannot append to " + path.string() + ": the folder is not writable");
  out << row.dump() << '\n';
  out.flush();
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  if (!in) return rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;  // torn line from a killed run
    rows.push_back(std::move(j));
  }
  return rows;
}

void filter_jsonl(const std::filesystem::path& path, const std::function<bool(const nlohmann::json&)>& keep) {
  if (!std::filesystem::exists(path)) return;
  std::ostringstream out;
  for (const auto& row : read_jsonl(path))
    if (keep(row)) out << row.dump() << '\n';
  write_file_atomic(path, out.str());
}

}  // namespace vg
