// A pixel-level contrastive term for SA-UNet training, after SkelCon (Tan et al. 2022, "Retinal Vessel Segmentation
// with Skeletal Prior and Contrastive Loss", IEEE TMI 41(9)): the network's last decoder features at sampled
// pixels are projected to unit vectors, and the pixels it is unsure of are pulled towards the ones it is sure of,
// within each class: vessel pixels the network scores low towards vessel pixels it scores high, and background
// pixels of the ring around the vessels (a dilation of the label minus the label: where thin vessels and their
// neighbours are confused) it scores as vessel towards ring pixels it scores as background. As in SkelCon's released
// defaults (its proj/main.py: the "half" sample selection, 512 pixels a group, loss "sim3" at weight 0.1, a 5 x 5
// ring), each class is split at its median probability, and the two projections are trained as SimSiam's
// (Chen & He 2021): a predictor on one side, the other side's output detached, both ways.
//
// Only the loss and the training-time head live here; the trainer adds weight * the term to the segmentation loss.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace vg {

struct PixelContrastOptions {
  double weight = 0;        // the term's weight beside the segmentation loss, 0..10; 0 = off
  int64_t samples = 512;    // pixels drawn from each of the four groups, 8..65536
  int64_t ring = 5;         // side of the square dilation that makes the ring around the vessels, odd, 3..31
  int64_t embedding = 128;  // length of the projected unit vectors, 8..1024
};
void to_json(nlohmann::json& j, const PixelContrastOptions& o);
void from_json(const nlohmann::json& j, PixelContrastOptions& o);  // absent keys keep their values
void validate(const PixelContrastOptions& o);                      // UserError naming "train.contrast.<key>"
inline bool active(const PixelContrastOptions& o) { return o.weight > 0; }

// The four groups of pixels the term compares, each `samples` rows of features, drawn uniformly (with replacement)
// from its group: rows [0, s) vessel pixels the network is sure of (the upper half of the vessel pixels by rank of
// probability), [s, 2s) vessel pixels it is unsure of (the lower half), [2s, 3s) ring pixels it is sure are
// background (the ring's lower half), [3s, 4s) ring pixels it is unsure of (its upper half). Labels are vessel
// where >= 0.5; only pixels inside mask (> 0.5) count. features: [N, C, H, W]; probability, label, mask:
// [N, 1, H, W] (probability is read, not differentiated). Returns [4 * samples, C] rows of features (gradients flow
// into them), or an undefined tensor when a group would be empty (a batch without vessels, say).
torch::Tensor sample_contrast_pixels(const torch::Tensor& features, const torch::Tensor& probability,
                                     const torch::Tensor& label, const torch::Tensor& mask,
                                     const PixelContrastOptions& options);

// Projector and predictor, each Linear -> Dropout(0.2) -> BatchNorm1d -> LeakyReLU -> Linear, output normalised to
// unit length (SkelCon's MlpNorm); hidden width min(in, embedding).
class PixelContrastHeadImpl : public torch::nn::Module {
 public:
  PixelContrastHeadImpl(int64_t feature_channels, const PixelContrastOptions& options);
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
};
TORCH_MODULE(PixelContrastHead);

// The term for rows laid out as sample_contrast_pixels returns them. With p = projector(rows), q = predictor(p):
//   pull(a, b) = 2 - <mean of a's unsure vessel rows, mean of b's sure vessel rows>
//                  - <mean of a's unsure ring rows,   mean of b's sure ring rows>
// (the mean of all pairwise cosine similarities, as SkelCon's), and the term is pull(q, p.detach()) +
// pull(p, q.detach()). It lies in [0, 8]; it is 0 when the predictor carries each class's unsure pixels onto where
// the projector puts its sure ones, and the other way round.
torch::Tensor pixel_contrast_loss(PixelContrastHead& head, const torch::Tensor& rows);

// The head's parameters and buffers as a checkpoint's extra tensors, named "contrast/<name>" (copies), their keys
// alone (undefined tensors, for reading), and back (c10::Error naming a missing one): io/checkpoint.h's
// module_extra_tensors with buffers (the head's batch-norm statistics resume with it).
std::map<std::string, torch::Tensor> contrast_head_tensors(const torch::nn::Module& head);
std::map<std::string, torch::Tensor> contrast_head_tensor_slots(const torch::nn::Module& head);
void read_contrast_head_tensors(const std::map<std::string, torch::Tensor>& extra, torch::nn::Module& head);

}  // namespace vg
