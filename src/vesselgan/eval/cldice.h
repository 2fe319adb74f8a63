// clDice, the centerline Dice (Shit et al. 2021, "clDice - a novel topology-preserving loss function for
// tubular structure segmentation", CVPR, eq. 1-3), on hard masks with Zhang-Suen skeletons (skeleton.h):
//   Tprec = |S(P) ∩ L| / |S(P)|,  Tsens = |S(L) ∩ P| / |S(L)|,  clDice = 2 Tprec Tsens / (Tprec + Tsens).
// Restricted to a mask: P and L are first cut to the mask (P ∧ M, L ∧ M), then skeletonized, so nothing
// outside the mask shapes the skeletons. Pooling over images = summing ClDiceCounts, then cldice(counts).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

struct ClDiceCounts {
  int64_t pred_skeleton = 0;           // |S(P)|
  int64_t pred_skeleton_in_label = 0;  // |S(P) ∩ L|
  int64_t label_skeleton = 0;          // |S(L)|
  int64_t label_skeleton_in_pred = 0;  // |S(L) ∩ P|

  ClDiceCounts& operator+=(const ClDiceCounts& o);
};

// pred, label: [H, W] or [1, H, W] binary masks (bool or numeric, foreground iff > 0.5).
// mask: same size (counts iff > 0.5), or undefined (`{}`) for the whole image. CPU tensors.
ClDiceCounts cldice_counts(const torch::Tensor& pred, const torch::Tensor& label, const torch::Tensor& mask);

// Empty skeletons follow threshold_metrics.h: Tprec with an empty S(P) is 1 if S(L) is empty too, else 0;
// Tsens with an empty S(L) is 1 if S(P) is empty too, else 0; clDice is 0 when Tprec + Tsens = 0. So two
// empty masks score 1.
double topology_precision(const ClDiceCounts& c);
double topology_sensitivity(const ClDiceCounts& c);
double cldice(const ClDiceCounts& c);

double cldice(const torch::Tensor& pred, const torch::Tensor& label, const torch::Tensor& mask);

}  // namespace vg
