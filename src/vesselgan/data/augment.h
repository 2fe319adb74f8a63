// Random data augmentation for segmentation batches, on the batch's device: one geometric warp per sample,
// shared by image, label and FOV mask, then photometric jitter on the image alone.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "vesselgan/data/degradation.h"
#include "vesselgan/data/enhance_jitter.h"

namespace vg {

// Every knob at 0 (or scale_min = scale_max = 1, flips false) switches that transform off.
struct AugmentOptions {
  bool enabled = true;
  bool hflip = true, vflip = true;          // each with probability 1/2
  double rotate_deg = 180;                  // angle uniform in [-rotate_deg, rotate_deg]
  double scale_min = 0.9, scale_max = 1.1;  // isotropic zoom factor, uniform in [min, max]
  double translate = 0.05;                  // shift uniform in [-t, t] * size, per axis
  double shear_deg = 0;                     // horizontal shear angle uniform in [-s, s]
  double brightness = 0.1;                  // multiply by f ~ U[1 - b, 1 + b]
  double contrast = 0.1;                    // blend with the image's mean gray level, f ~ U[1 - c, 1 + c]
  double saturation = 0.1;                  // blend with the pixel's gray level, f ~ U[1 - s, 1 + s]
  double hue = 0.02;        // rotation of the YIQ chroma plane by U[-h, h] turns (fraction of the hue circle)
  double noise_std = 0.01;  // additive gaussian noise, this standard deviation
  DegradeOptions degrade;   // random blur, exposure, gamma, noise and JPEG (data/degradation.h); off by default
  // A random clip limit and gamma for an enhanced input (data/enhance_jitter.h); the trainer applies it where it
  // enhances the photographs, augment() below does not. Off by default, and absent from the JSON when off.
  EnhanceJitterOptions enhance_jitter;
};
void to_json(nlohmann::json& j, const AugmentOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, AugmentOptions& o);
// Throws UserError naming the first out-of-range field and its valid range.
void validate(const AugmentOptions& o);

struct SegBatch {
  torch::Tensor image;  // [N, C, H, W] float in [0, 1], C = 3 (or 1: then saturation and hue are skipped)
  torch::Tensor label;  // [N, 1, H, W] {0, 1} or soft in [0, 1] (may be undefined)
  torch::Tensor mask;   // [N, 1, H, W] {0, 1} FOV (may be undefined)
};

// One random transform per sample, drawn from the default torch generator of the batch's device (seed it
// with torch::manual_seed or the CUDA equivalent for reproducible output).
// Geometric (pixel coordinates, about the image center): flips, rotation, zoom, shear and translation fused
// into one affine map and applied with one affine_grid + grid_sample per tensor, zeros outside: the image
// bilinear, the label bilinear (re-binarised at >= 0.5 when every input label value was 0 or 1, else left
// soft), the mask nearest. With only flips switched on, the flips are exact index flips instead.
// Photometric, on the image only, in this order, each clamped to [0, 1]: brightness, contrast, saturation,
// hue, noise, then the degradations of `degrade`. enabled = false, or every transform switched off, returns the batch unchanged.
SegBatch augment(const SegBatch& batch, const AugmentOptions& opt);

// Building block of augment, exposed for tests and other warps. All arguments but H, W are [N] float tensors
// on one device: angle and shear in radians (positive angle turns the content counter-clockwise as
// displayed, y pointing down), zoom factor, translation as a fraction of W / H, flips as +1 / -1. Returns
// theta [N, 2, 3] for affine_grid(theta, {N, C, H, W}, align_corners = false): the map from output to input
// normalised coordinates of out = T * R(angle) * Shear * Zoom * Flip * in, in pixel units.
torch::Tensor affine_theta(const torch::Tensor& angle, const torch::Tensor& scale, const torch::Tensor& shear,
                           const torch::Tensor& tx, const torch::Tensor& ty, const torch::Tensor& flip_x,
                           const torch::Tensor& flip_y, int64_t H, int64_t W);

}  // namespace vg
