// Confusion counts of a thresholded probability map against a binary label, restricted to a FOV mask.
// Every other metric (threshold_metrics.h) is computed from these counts, so pooling over images is
// just summing Confusion values.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

struct Confusion {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;

  Confusion& operator+=(const Confusion& o);
  int64_t total() const { return tp + fp + tn + fn; }
  int64_t positives() const { return tp + fn; }            // in the truth
  int64_t predicted_positives() const { return tp + fp; }  // in the prediction
};

Confusion operator+(Confusion a, const Confusion& b);
bool operator==(const Confusion& a, const Confusion& b);

// prob:  [H, W] or [1, H, W], any floating dtype, in [0, 1]; a pixel is predicted positive iff
//        prob >= threshold (so a binary {0, 1} map scores exactly at any threshold in (0, 1]).
// label: same [H, W] (or [1, H, W]); float / bool / uint8; positive iff label > 0.5.
// mask:  same [H, W] (or [1, H, W]); a pixel counts iff mask > 0.5. An undefined tensor (`{}`) means
//        "every pixel counts" (whole-image protocol).
// All tensors on the CPU. Throws c10::Error (TORCH_CHECK) on mismatched shapes or prob outside [0, 1].
Confusion confusion_at(const torch::Tensor& prob, const torch::Tensor& label, const torch::Tensor& mask,
                       double threshold = 0.5);

// The binary prediction: prob >= threshold, compared in double (the same rule confusion_at counts with).
// prob: [H, W] or [1, H, W] floating in [0, 1]. Returns [H, W] bool.
torch::Tensor binarize(const torch::Tensor& prob, double threshold = 0.5);

namespace detail {
// Shared by the eval module: `t` as a contiguous [H, W] tensor (drops a leading 1 channel), checked.
torch::Tensor as_hw(const torch::Tensor& t, const char* name);
// `t` > 0.5 as a contiguous [H, W] bool tensor (bool input is taken as is).
torch::Tensor as_binary_hw(const torch::Tensor& t, const char* name);
// prob as contiguous [H, W] float32, checked to lie in [0, 1] (no NaN).
torch::Tensor as_prob_hw(const torch::Tensor& prob);
}  // namespace detail

}  // namespace vg
