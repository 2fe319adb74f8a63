// The "bgc" augmentation pipeline of ADA (Karras et al. 2020, "Training generative adversarial networks with
// limited data", appendix B): blit (x-flip, 90-degree rotations, integer translation), general geometric
// (isotropic scaling, rotation, anisotropic scaling, fractional translation) and color (brightness, contrast,
// luma flip, hue rotation, saturation) transforms, every one applied to a sample with probability
// p * multiplier. It sits in front of the discriminator, for reals and fakes alike, and is differentiable
// (twice) with respect to the images so G and the R1 penalty see through it.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace vg {

struct AugmentPipeOptions {
  // Per-op probability multipliers (0 disables the op; the op fires with probability min(1, p * multiplier)).
  double xflip = 1, rotate90 = 1, xint = 1, scale = 1, rotate = 1, aniso = 1, xfrac = 1;
  double brightness = 1, contrast = 1, lumaflip = 1, hue = 1, saturation = 1;
  // Strengths, as in ADA.
  double xint_max = 0.125;      // integer translation uniform in [-xint_max, xint_max] * size, rounded
  double scale_std = 0.2;       // isotropic scale 2^N(0, scale_std^2)
  double rotate_max = 1;        // rotation uniform in [-rotate_max, rotate_max] * pi (pre and post)
  double aniso_std = 0.2;       // anisotropic scale 2^N(0, aniso_std^2) on x, its inverse on y
  double xfrac_std = 0.125;     // fractional translation N(0, xfrac_std^2) * size
  double brightness_std = 0.2;  // additive brightness N(0, brightness_std^2) (images in [-1, 1])
  double contrast_std = 0.5;    // contrast factor 2^N(0, contrast_std^2) about 0
  double hue_max = 1;           // hue rotation about the luma axis, uniform in [-hue_max, hue_max] * pi
  double saturation_std = 1;    // saturation factor 2^N(0, saturation_std^2)
  // One-channel images (a vessel map alone) through the colour ops as stylegan2-ada-pytorch puts its L images
  // through them: the RGB matrix averaged over its rows, so brightness adds, contrast scales and the luma flip
  // negates, while hue and saturation leave grey alone. Off (the default): one-channel images skip the colour
  // stage, as every label-mode run before 2026-12-06 did (docs/gan.md, the label32 recipe in the official code).
  bool one_channel_colour = false;
};
void to_json(nlohmann::json& j, const AugmentPipeOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, AugmentPipeOptions& o);
// Throws UserError naming the first out-of-range field and its valid range.
void validate(const AugmentPipeOptions& o);

class AugmentPipe {
 public:
  explicit AugmentPipe(AugmentPipeOptions o = {});

  // images: [N, C, H, W] float in [-1, 1], H, W >= 2; p in [0, 1]. Returns the same shape.
  // Geometric ops are composed into one affine map per sample (pixel units, about the image center) and
  // applied once to ALL channels with bilinear sampling (grid_sample_2x_differentiable) and reflect padding
  // (coordinates are folded back into the image, which equals unlimited reflect padding; no host sync).
  // Color ops are composed into one 4x4 matrix per sample applied to channels 0..2; channels >= 3 (e.g. a
  // vessel map in joint mode) pass through the color stage untouched, and one-channel images (a vessel map
  // alone) skip it, or with one_channel_colour take the matrix's row mean: x * (row sum) + offset.
  // Once p > 0 every sample goes through the resampling, those whose ops did not fire by the identity map
  // (exact up to rounding of the normalized coordinates). p == 0 returns `images` itself.
  // Randomness comes from the default generator of the images' device, in a fixed order of draws, so
  // seeding (or restoring the generator state) reproduces the output bit for bit.
  // ADA's 2x upsampled wavelet anti-aliasing around the resampling is not done (bilinear only).
  torch::Tensor operator()(const torch::Tensor& images, double p) const;

  const AugmentPipeOptions& options() const { return options_; }

 private:
  torch::Tensor geometric(const torch::Tensor& images, double p) const;
  torch::Tensor color(const torch::Tensor& images, double p) const;
  AugmentPipeOptions options_;
};

}  // namespace vg
