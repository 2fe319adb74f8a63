#include "vesselgan/seg/segmentation_writer.h"

#include "vesselgan/core/error.h"
#include "vesselgan/io/image_io.h"

namespace vg {

torch::Tensor overlay_vessels(const torch::Tensor& image, const torch::Tensor& vessel_mask) {
  TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "overlay expects an image [3,H,W], got ", image.sizes());
  TORCH_CHECK(vessel_mask.dim() == 3 && vessel_mask.size(0) == 1 && vessel_mask.size(1) == image.size(1) &&
                  vessel_mask.size(2) == image.size(2),
              "overlay mask ", vessel_mask.sizes(), " does not fit image ", image.sizes());
  const auto color = torch::tensor({0.2f, 1.0f, 0.3f}).view({3, 1, 1});
  const auto a = vessel_mask.to(torch::kFloat) * 0.7;
  return image * (1 - a) + color * a;
}

SegmentationFiles write_segmentation(const std::filesystem::path& out_dir, const std::string& stem,
                                     const torch::Tensor& image, const torch::Tensor& prob, const torch::Tensor& fov,
                                     double threshold, int prob_bits) {
  if (prob_bits != 8 && prob_bits != 16)
    throw UserError("bad probability bit depth " + std::to_string(prob_bits) + " (valid: 8, 16)");
  auto p = prob.to(torch::kFloat).cpu();
  if (fov.defined()) p = p * fov.to(torch::kFloat).cpu().gt(0.5);
  const auto mask = p.ge(threshold).to(torch::kFloat);
  SegmentationFiles f{out_dir / (stem + "_prob.png"), out_dir / (stem + "_mask.png"), out_dir / (stem + "_overlay.png")};
  write_png(f.prob, p, prob_bits);
  write_png(f.mask, mask, 8);
  write_png(f.overlay, overlay_vessels(image.to(torch::kFloat).cpu(), mask), 8);
  return f;
}

}  // namespace vg
