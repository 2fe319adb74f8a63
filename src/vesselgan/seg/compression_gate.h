// A second set of ensemble weights for heavily compressed photographs. A network that reads its input through
// CLAHE (model_input.h) lifts JPEG's 8 x 8 blocks into texture and loses more F1 on such photographs than the
// others; a network trained on degraded photographs loses less. An ensemble file may therefore record the
// weights to read a photograph with when its JPEG blockiness (data/jpeg_blockiness.h) lies above a bound:
//   "ensemble": {"weights": [...], "compressed": {"above": 2.0, "weights": [...]}}
// Photographs at or below the bound (every clean DRIVE photograph: 1.08-1.13) are read with "weights" as
// before. A member whose weight is 0 under the photograph's weights is not run for it.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vg {

// Between DRIVE's own photographs (1.08-1.13) and the same photographs recompressed at quality 50 or below
// (1.84 and up; docs/segmenter.md, lever 23): compressed harder than a camera writes its files.
constexpr double kCompressedAboveDefault = 2.0;

struct CompressionGate {
  double above = kCompressedAboveDefault;  // blockiness above which a photograph counts as compressed; > 1
  std::vector<double> weights;             // one per member, >= 0 with a positive sum; empty = no gate
};

bool active(const CompressionGate& g);  // weights given
// Keys exactly: above, weights. to_json writes the weights normalized to sum 1.
void to_json(nlohmann::json& j, const CompressionGate& g);
void from_json(const nlohmann::json& j, CompressionGate& g);
// UserError naming `what`, the field and its valid values: above not > 1 or not finite; weights not one per
// member (members), negative, not finite, or summing to 0. An inactive gate is valid.
void validate(const CompressionGate& g, size_t members, const std::string& what);

// Whether a photograph of this blockiness is read with the gate's weights.
inline bool reads_as_compressed(const CompressionGate& g, double blockiness) {
  return active(g) && blockiness > g.above;
}

}  // namespace vg
