// Controlled acquisition shifts: one photograph re-rendered as another camera, exposure or compression
// would have delivered it, with its ground truth kept exact, so a model's robustness can be measured
// (seg/robustness.h). Each shift is a kind and a level; x is the photograph, [3, H, W] in [0, 1], u and
// v in [-1, 1] the normalized column and row coordinates of a pixel center (u = 2(j + 0.5)/W - 1).
// Every result is clamped to [0, 1]. Only "scale" moves pixels; the others leave label and mask untouched.
// The robustness benchmark (seg/robustness.h) uses a scaled sample's image and mask only as the segmenter's
// input and scores the prediction resized back to H x W against the untouched label and mask, so resampled
// labels never enter a score.
//
//   kind          level                formula                                               identity  defaults
//   scale         factor s, 0.1..4     image resized to round(sH) x round(sW) (bilinear,     1         0.6 0.8 1.25 1.6
//                                      antialiased when shrinking); label and mask nearest
//                                      (half-pixel centers), so they stay binary and aligned;
//                                      scored back in H x W (seg/robustness.h)
//   gamma         g, 0.1..10           x^g                                                   1         0.5 0.7 1.4 2
//   contrast      c, 0..4              in the FOV, per channel: mu + c (x - mu), mu the      1         0.5 0.7 1.5
//                                      channel's FOV mean; outside the FOV x is kept
//   blur          sigma, 0..20 px      separable gaussian, radius ceil(3 sigma), mirrored    0         1 2 3
//                                      borders (defocus)
//   jpeg          quality q, 1..100    encoded as a baseline JPEG (4:2:0) and decoded        none      10 30 50
//                 (whole)              (io/image_codec.h)
//   illumination  a, 0..1              x (1 - a w), w = ((u + 1)/2 + (u^2 + v^2)/2) / 2 in   0         0.3 0.6
//                                      [0.19, 1]: dimmer to the right and towards the rim
//   colour        s, 0..1              gains (1 + s, 1 - s/2, 1 - s) on (R, G, B): a warm    0         0.1 0.2
//                                      cast (s = 0.2: 1.2 / 0.9 / 0.8)
//   noise         sigma, 0..1          x + sigma n, n ~ N(0, 1) per pixel and channel from   0         0.02 0.05
//                                      a CPU generator seeded with `seed`
//   dark          exposure k, 0.01..1  k x                                                   1         0.5 0.3
//
// Deterministic: the same sample, shift and seed give the same result (only "noise" draws random numbers).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"

namespace vg {

struct AcquisitionShift {
  std::string kind;  // one of shift_kinds()
  double level = 0;  // in the kind's range (table above)
};
// Keys exactly: kind, level.
void to_json(nlohmann::json& j, const AcquisitionShift& s);
// Both keys required; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, AcquisitionShift& s);
// Throws UserError naming an unknown kind (listing the valid ones) or a level outside the kind's range.
void validate(const AcquisitionShift& s);
// "gamma 0.5", "jpeg 30".
std::string to_string(const AcquisitionShift& s);

// The kinds in the order of the table: scale, gamma, contrast, blur, jpeg, illumination, colour, noise, dark.
const std::vector<std::string>& shift_kinds();
// The level at which `kind` leaves a photograph unchanged (none for jpeg). UserError for an unknown kind.
std::optional<double> identity_level(const std::string& kind);
// Every (kind, default level) of `kinds` in table order within each kind, kinds in the given order (empty:
// all kinds). UserError for an unknown or repeated kind.
std::vector<AcquisitionShift> default_shifts(const std::vector<std::string>& kinds = {});

// s.image: [3, H, W] float in [0, 1] (any device); s.label, when defined, and s.mask: [1, H, W]. Returns the
// sample as acquired under `shift` (id and mask flags kept). Throws UserError for an invalid shift.
Sample apply_shift(const Sample& s, const AcquisitionShift& shift, uint64_t seed = 0);

}  // namespace vg
