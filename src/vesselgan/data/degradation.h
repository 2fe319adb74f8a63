// Random acquisition degradations for training batches: defocus blur, under-exposure, gamma, sensor noise
// and JPEG compression, drawn per sample, so a segmenter learns vessels from photographs worse than its
// training set's. The formulas are the acquisition shifts' (data/acquisition_shift.h); here their levels are
// random. Labels and masks are never touched: the vessels are where they were.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace vg {

// p = 0 switches the whole block off. Each degradation whose range is not its identity is applied to each
// sample independently with probability p, its level uniform in its range, in this order:
//   blur      gaussian sigma ~ U[0, blur_max] px (mirrored borders)
//   exposure  x * k, k ~ U[exposure_min, 1]
//   gamma     x ^ g, log g ~ U[-log gamma_max, log gamma_max]
//   noise     x + sigma n, sigma ~ U[0, noise_max], n ~ N(0, 1) per pixel and channel
//   jpeg      baseline JPEG (4:2:0) at quality ~ U{jpeg_min, ..., 100}, encoded and decoded on the CPU
// each result clamped to [0, 1].
struct DegradeOptions {
  double p = 0;
  double blur_max = 0;      // identity 0
  double exposure_min = 1;  // identity 1
  double gamma_max = 1;     // identity 1
  double noise_max = 0;     // identity 0
  int64_t jpeg_min = 100;   // identity 100 (quality 100 is still lossy, so 100 means off)
};
void to_json(nlohmann::json& j, const DegradeOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, DegradeOptions& o);
// Throws UserError naming the first out-of-range field ("augment.degrade.<key>") and its valid range.
void validate(const DegradeOptions& o);
// True when some degradation can be drawn (p > 0 and a range that is not the identity).
bool active(const DegradeOptions& o);

// images: [N, C, H, W] floating point in [0, 1], C = 1 or 3, any device. Every random number (which samples,
// the levels, the noise) comes from the default CPU generator, so a seeded run degrades the same way again on
// any device. Returns the images unchanged when !active(o).
torch::Tensor degrade(const torch::Tensor& images, const DegradeOptions& o);

}  // namespace vg
