// The camera's field of view (FOV) for photographs that come without a mask (CHASE_DB1, STARE, a user's own
// photographs), and the FOV's diameter, which sets the scale a model sees.
//
// Estimation (docs/protocol.md "Data notes"): a fundus camera images the retina through a circular
// aperture, so the FOV is a bright, roughly circular region on a dark surround (possibly clipped at the
// top and bottom by the sensor). On a working copy shrunk to at most `work_size` pixels:
//   1. brightness v = max(R, G, B) (the red channel on a fundus, the luminance on a gray photograph),
//      smoothed with a gaussian of `smooth_sigma`;
//   2. the surround's level b = median of v over the four corner patches (every corner lies outside a
//      circular FOV centered in the frame, clipped or not) and the fundus level f = median of v over the
//      central half of the frame; threshold t = b + level * (f - b). Both levels scale with the exposure,
//      so a darkened (x0.3) or over-exposed (x2, clipped) photograph gives the same mask. When b >= 0.5 f
//      there is no dark surround (a photograph cropped inside its FOV): the whole image is the FOV;
//   3. keep the largest 4-connected component of v > t, fill its holes (dark vessels, a dark macula or
//      reflections that touch nothing outside), erode it by `erode` x its diameter (a disc), so the
//      dim, blurred rim of the aperture is left out;
//   4. bring the mask back to the photograph's size (bilinear, >= 0.5).
// Tested against DRIVE's provided masks (mean Dice >= 0.993 over all 40), on phantoms, and on DRIVE
// photographs made hard with known masks: cropped, wide-field and off-centre framings, x0.05 to x3 exposure,
// uneven illumination, blur, JPEG 10 and lesions, each Dice >= 0.985 (tests/data/fov_test.cpp).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>

namespace vg {

struct FovOptions {
  int64_t work_size = 1024;     // longer side of the working copy (larger photographs are shrunk first)
  double smooth_sigma = 0.003;  // gaussian smoothing, fraction of the working copy's longer side
  double corner = 0.05;  // side of the corner patches sampling the surround, fraction of the shorter side
  double level = 0.25;   // threshold between the surround (0) and the fundus (1) level
  double erode = 0.003;  // erosion radius, fraction of the FOV diameter (DRIVE: ~1.6 px)
};
void to_json(nlohmann::json& j, const FovOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, FovOptions& o);
// Throws UserError naming the first out-of-range field and its valid range.
void validate(const FovOptions& o);

// image: [3, H, W] (or [1, H, W]) float in [0, 1], any device -> [1, H, W] float in {0, 1} on the image's
// device: the camera's circular field of view, estimated as described above.
torch::Tensor estimate_fov(const torch::Tensor& image, const FovOptions& o = {});

// mask: [1, H, W] or [H, W], > 0.5 counts. The FOV's diameter in pixels: the larger of the mask's bounding
// box width and height (a circle clipped at the top and bottom keeps its full width). 0 for an empty mask.
double fov_diameter(const torch::Tensor& mask);

// a, b: same shape, > 0.5 counts. Dice = 2|a & b| / (|a| + |b|); 1 when both are empty.
double mask_dice(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace vg
