// A segmentation's errors as a picture a person reads at a glance: inside the FOV, correct vessel pixels
// white, missed vessel pixels (false negatives) blue, false vessel pixels (false positives) red, correct
// background black; outside the FOV dark gray.
#pragma once
#include <torch/torch.h>

namespace vg {

// prob, label, mask: [1, H, W] or [H, W] (mask undefined = the whole image). Returns [3, H, W] in [0, 1].
torch::Tensor error_map(const torch::Tensor& prob, const torch::Tensor& label, const torch::Tensor& mask,
                        double threshold = 0.5);

}  // namespace vg
