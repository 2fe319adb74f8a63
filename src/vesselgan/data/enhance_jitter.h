// A random enhancement per training photograph: the clip limit of its CLAHE drawn from a range, and a gamma
// applied to the enhanced image, so a network trained on enhanced photographs sees them enhanced more and less
// strongly than the one recipe it is read with. The idea is SkelCon's training input (Tan et al. 2022: each
// patch through CLAHE and a random gamma); the trainer draws once per photograph and batch
// (seg/trainer.cpp), prediction always uses the input's own clip limit and no gamma.
//
//   clip   uniform in [clip_min, clip_max]   (both 0: the input's own clahe_clip, never drawn)
//   gamma  x^g on the enhanced image, log g uniform in [-log gamma_max, log gamma_max] (1: off)
#pragma once
#include <nlohmann/json.hpp>

namespace vg {

struct EnhanceJitterOptions {
  double clip_min = 0;    // 0 together with clip_max: off; else 1..16, at most clip_max
  double clip_max = 0;    // 0 together with clip_min: off; else clip_min..16
  double gamma_max = 1;   // 1..4 (1 = off)
};
// Keys exactly: clip_min, clip_max, gamma_max. Keys not present keep their current values.
void to_json(nlohmann::json& j, const EnhanceJitterOptions& o);
void from_json(const nlohmann::json& j, EnhanceJitterOptions& o);
// Throws UserError naming the first out-of-range field ("augment.enhance_jitter.<key>") and its valid range.
void validate(const EnhanceJitterOptions& o);
// True when a clip range or a gamma is drawn.
bool active(const EnhanceJitterOptions& o);

// One photograph's enhancement.
struct EnhanceDraw {
  double clip = 0;  // the clip limit to enhance it with
  double gamma = 1;  // the exponent for the enhanced image
};
// Draws from the default CPU generator (a seeded run draws the same again); own_clip is the input's clip limit,
// returned as it is when no clip range is set.
EnhanceDraw draw_enhancement(const EnhanceJitterOptions& o, double own_clip);

}  // namespace vg
