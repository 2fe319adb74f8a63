// Append-only JSON-lines statistics files (stats.jsonl), one object per line, flushed per line.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <vector>

namespace vg {

void append_jsonl(const std::filesystem::path& path, const nlohmann::json& row);

// Reads every complete line; a torn last line (killed mid-write) is ignored.
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);

// Rewrites the file atomically keeping only the rows for which keep(row) is true (used on resume to drop
// rows written after the checkpoint being resumed).
void filter_jsonl(const std::filesystem::path& path, const std::function<bool(const nlohmann::json&)>& keep);

}  // namespace vg
