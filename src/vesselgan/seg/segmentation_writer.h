// The files `vesselgan segment` writes per photograph, all at the photograph's size:
//   <stem>_prob.png     vessel probability (8- or 16-bit grayscale), 0 outside the FOV
//   <stem>_mask.png     binary vessel map (probability >= threshold inside the FOV)
//   <stem>_overlay.png  the photograph with the vessel map painted on it
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace vg {

struct SegmentationFiles {
  std::filesystem::path prob, mask, overlay;
};

// image: [3,H,W] float [0,1]; prob: [1,H,W] float [0,1]; fov: [1,H,W] {0,1} (undefined = whole image).
SegmentationFiles write_segmentation(const std::filesystem::path& out_dir, const std::string& stem,
                                     const torch::Tensor& image, const torch::Tensor& prob, const torch::Tensor& fov,
                                     double threshold, int prob_bits);

// The overlay alone: vessels blended in a bright green-yellow over the photograph.
torch::Tensor overlay_vessels(const torch::Tensor& image, const torch::Tensor& vessel_mask);

}  // namespace vg
