// Training curves of a run folder (loss and validation scores per epoch) drawn from stats.jsonl rows.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

namespace vg {

// Writes an SVG with two panels side by side: losses (train, validation; log scale) and validation F1 / AUC.
void write_training_curves(const std::filesystem::path& path, const std::vector<nlohmann::json>& rows);

}  // namespace vg
