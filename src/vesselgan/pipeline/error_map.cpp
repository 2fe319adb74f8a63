#include "vesselgan/pipeline/error_map.h"

namespace vg {

torch::Tensor error_map(const torch::Tensor& prob, const torch::Tensor& label, const torch::Tensor& mask,
                        double threshold) {
  const int64_t H = prob.size(-2), W = prob.size(-1);
  TORCH_CHECK(prob.numel() == H * W && label.numel() == H * W && (!mask.defined() || mask.numel() == H * W),
              "error_map: prob ", prob.sizes(), ", label ", label.sizes(), " and mask must be one [H, W] image");
  const auto p = prob.reshape({H, W}).ge(threshold);
  const auto l = label.reshape({H, W}).gt(0.5);
  const auto fov = mask.defined() ? mask.reshape({H, W}).gt(0.5) : torch::ones({H, W}, torch::kBool);
  auto out = torch::zeros({3, H, W});
  auto paint = [&](const torch::Tensor& where, float r, float g, float b) {
    out[0].masked_fill_(where, r);
    out[1].masked_fill_(where, g);
    out[2].masked_fill_(where, b);
  };
  paint(fov.logical_not(), 0.25f, 0.25f, 0.25f);
  paint(fov & p & l, 1.0f, 1.0f, 1.0f);
  paint(fov & l & p.logical_not(), 0.2f, 0.45f, 1.0f);  // missed vessel
  paint(fov & p & l.logical_not(), 1.0f, 0.2f, 0.1f);   // false vessel
  return out;
}

}  // namespace vg
