#include "vesselgan/seg/compression_gate.h"

#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/seg/ensemble.h"

namespace vg {

bool active(const CompressionGate& g) { return !g.weights.empty(); }

void to_json(nlohmann::json& j, const CompressionGate& g) {
  j = {{"above", g.above}, {"weights", active(g) ? normalized_weights(g.weights) : g.weights}};
}

void from_json(const nlohmann::json& j, CompressionGate& g) {
  if (!j.is_object()) throw UserError("ensemble.compressed must be an object {\"above\", \"weights\"}");
  for (const auto& [key, value] : j.items()) {
    if (key == "above") {
      if (!value.is_number()) throw UserError("ensemble.compressed.above must be a number, got " + value.dump());
      g.above = value.get<double>();
    } else if (key == "weights") {
      if (!value.is_array()) throw UserError("ensemble.compressed.weights must be an array, got " + value.dump());
      g.weights.clear();
      for (const auto& w : value) {
        if (!w.is_number()) throw UserError("ensemble.compressed.weights holds a non-number " + w.dump());
        g.weights.push_back(w.get<double>());
      }
    } else {
      throw UserError("unknown key ensemble.compressed." + key + " (valid: above, weights)");
    }
  }
}

void validate(const CompressionGate& g, size_t members, const std::string& what) {
  if (!active(g)) return;
  if (!(g.above > 1) || !std::isfinite(g.above))
    throw UserError(what + ": compressed-photograph bound " + std::to_string(g.above) +
                    " is not valid (valid: a blockiness above 1; clean photographs measure about 1)");
  if (g.weights.size() != members)
    throw UserError(what + ": " + std::to_string(g.weights.size()) + " compressed-photograph weights for " +
                    std::to_string(members) + " members (give one per member)");
  EnsembleOptions weighted;  // the same checks as the ensemble's own weights
  weighted.method = "weighted";
  weighted.weights = g.weights;
  try {
    validate(weighted);
  } catch (const UserError& e) {
    throw UserError(what + ": compressed-photograph weights: " + e.what());
  }
}

}  // namespace vg
