// Appearance beyond DRIVE's for whole synthetic photographs (issue 31): each photograph gets its own
// exposure, colour cast, contrast, uneven illumination, gamma, defocus and sensor noise, drawn from ranges wider than
// the 18 DRIVE training photographs span, so a segmenter trained on them meets more cameras than DRIVE's.
// Labels and masks are untouched. With x the painted photograph in [0, 1], u and v in [-1, 1] the normalised
// column and row of a pixel centre, applied in this order, each result clamped to [0, 1]:
//   exposure      x k                                 k ~ U[exposure_min, exposure_max]
//   colour        x g_c, one gain per channel c       log g_c ~ U[-log colour_max, log colour_max]
//   contrast      m_c + c (x - m_c), m_c the channel's mean over the whole canvas
//                                                     log c ~ U[-log contrast_max, log contrast_max]
//   illumination  x (1 - a w), w = clamp((1 + u cos t + v sin t) / 2, 0, 1): darker toward one side
//                                                     a ~ U[0, illumination_max], t ~ U[0, 2 pi)
//   gamma         x^g                                 log g ~ U[-log gamma_max, log gamma_max]
//   blur          gaussian of sigma px (defocus)      sigma ~ U[0, blur_max]
//   noise         x + s n, n ~ N(0, 1) per pixel      s ~ U[0, noise_max]
// The formulas are this file's own, apart from the gaussian (data/acquisition_shift.h's blur): a colour cast
// in any direction and a gradient in any direction, where the robustness benchmark's shifts are one warm cast
// and one fixed vignette. The ranges, and what they give beside DRIVE's photographs, are in docs/gan.md.
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace vg {

struct AppearanceOptions {
  bool wide = false;  // off: the painted photograph as it is
  double exposure_min = 0.55, exposure_max = 1.45;
  double colour_max = 1.35;
  double contrast_max = 1.8;
  double illumination_max = 0.4;
  double gamma_max = 1.6;
  double blur_max = 2.0;
  double noise_max = 0.03;
};
void to_json(nlohmann::json& j, const AppearanceOptions& o);
// Keys not present keep their values; an unknown key or a wrong type is a UserError.
void from_json(const nlohmann::json& j, AppearanceOptions& o);
// UserError naming the first field out of range ("appearance.<key>") and its valid range.
void validate(const AppearanceOptions& o);

// One photograph's levels.
struct AppearanceDraw {
  double exposure = 1;
  std::array<double, 3> colour{1, 1, 1};
  double contrast = 1;
  double illumination = 0, angle = 0;
  double gamma = 1, blur = 0, noise = 0;
  uint64_t noise_seed = 0;
};

// The levels for `seed` (the same seed draws the same levels); the identity when !o.wide.
AppearanceDraw draw_appearance(const AppearanceOptions& o, uint64_t seed);

// image: [3, H, W] float in [0, 1]; returns it as the draw renders it (the identity draw returns it unchanged).
torch::Tensor apply_appearance(const torch::Tensor& image, const AppearanceDraw& d);

}  // namespace vg
