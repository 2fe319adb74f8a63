// How photographs are fitted to the network and predictions mapped back: optional resize, then centered
// zero padding to a canvas whose sides are multiples of 2^depth (the SA-UNet reference pads DRIVE's
// 565x584 to 592x592). Training and inference share this so a model always sees what it was trained on.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"
#include "vesselgan/data/preprocess.h"

namespace vg {

struct InputOptions {
  int64_t resize = 0;  // scale so the longer side is this many pixels before padding; 0 = native size
  int64_t pad_to = 0;  // square canvas side when the (resized) image fits; 0 = smallest multiple of 2^depth
  // What the network sees of a photograph: "none" (its RGB as it is) or "green-clahe" (its green channel
  // enhanced by CLAHE, data/clahe.h, copied into all three channels). JSON carries the three enhance fields
  // only when enhance is not "none", so configs and checkpoints without it read and write as before.
  std::string enhance = "none";
  double clahe_clip = 2.0;   // CLAHE clip limit, >= 1 (OpenCV's default 2)
  int64_t clahe_tile = 64;   // CLAHE tile side in pixels at the network's scale, 8..1024
};
void to_json(nlohmann::json& j, const InputOptions& o);
void from_json(const nlohmann::json& j, InputOptions& o);
void validate(const InputOptions& o);

// Where a fitted image came from, to map a prediction back.
struct FitInfo {
  int64_t orig_h = 0, orig_w = 0;  // the photograph
  int64_t res_h = 0, res_w = 0;    // after resize (== orig when not resized)
  PadInfo pad;                     // where the resized image sits in the canvas
};

// Whether a and b fit photographs to the same canvas (resize, pad_to), whatever each one's enhancement: the
// members of one ensemble must (seg/ensemble_checkpoint.h), since they share each photograph's canvas.
bool same_geometry(const InputOptions& a, const InputOptions& b);

// A photograph [3, H, W] float in [0, 1] as opt.enhance says, before it is fitted to the canvas (training and
// prediction alike; labels and masks are never enhanced). "none" returns it unchanged.
torch::Tensor enhance_image(const torch::Tensor& image, const InputOptions& opt);

// x: [C, H, W] float. Returns [C, H', W'] on the canvas; `nearest` for masks.
torch::Tensor fit_to_canvas(const torch::Tensor& x, const InputOptions& opt, int64_t multiple, FitInfo* info,
                            bool nearest = false);

// p: [C, H', W'] canvas-sized prediction -> [C, orig_h, orig_w].
torch::Tensor map_back(const torch::Tensor& p, const FitInfo& info);

// ---- scale: photographs come at very different resolutions (DRIVE's FOV is ~540 px across, CHASE_DB1's
// ~900, HRF's ~3300), so a model is fed each photograph resized until its FOV is as wide as the training
// photographs' FOV were, and its prediction is resized back to the photograph's pixels. ----

// The resize factor that brings an FOV `fov_diameter` pixels across to `target` pixels: 1 when target is 0
// (normalization off), the diameter is unknown (<= 0), or the factor is within 2% of 1 (not worth a resample).
double fov_scale(double fov_diameter, double target);

// mask [1, H, W] or [H, W], > 0.5 counts: true when the FOV reaches all four edges of the image, so its
// diameter is the frame's, not the photograph's.
bool fov_cut_by_frame(const torch::Tensor& mask);

// The training scale of a model: the mean FOV diameter (data/fov.h fov_diameter) of its training samples
// as the network sees them, i.e. after InputOptions::resize. The trainer records it in the checkpoint's
// config as "fov_diameter" (Segmenter::training_fov_diameter reads it). Samples whose FOV the frame cuts on
// all four sides (fov_cut_by_frame: a patch generator's tile, a crop, a mask-less image) say nothing about
// the scale and are left out; 0 when no sample is left.
double training_fov_diameter(const std::vector<Sample>& train, const InputOptions& input);

}  // namespace vg
