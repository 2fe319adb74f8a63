#include "vesselgan/seg/pixel_contrast.h"

#include <array>
#include <tuple>
#include <vector>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/io/checkpoint.h"

namespace vg {

namespace {

const auto kContrastFields = [](auto& o, auto&& field) {
  field("weight", o.weight, within(0, 10, "0..10 (0 = off)"));
  field("samples", o.samples, within(8, 65536, "8..65536"));
  field("ring", o.ring, rule([](int64_t r) { return r >= 3 && r <= 31 && r % 2 == 1; }, "odd, 3..31"));
  field("embedding", o.embedding, within(8, 1024, "8..1024"));
};

const std::string kContrastPrefix = "contrast/";

torch::nn::Sequential mlp_norm(int64_t in, int64_t out) {
  const int64_t hidden = std::min(in, out);
  return torch::nn::Sequential(torch::nn::Linear(in, hidden), torch::nn::Dropout(0.2),
                               torch::nn::BatchNorm1d(hidden),
                               torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.01)),
                               torch::nn::Linear(hidden, out));
}

torch::Tensor unit_rows(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

// Flat indices (into the N*H*W pixels) of `group`'s pixels split by rank of `score`: {lower half, upper half}
// (the upper one holds the middle pixel of an odd count). Either is empty when the group has fewer than 2 pixels.
std::pair<torch::Tensor, torch::Tensor> halves_by_rank(const torch::Tensor& group, const torch::Tensor& score) {
  const torch::Tensor idx = group.nonzero().squeeze(1);
  if (idx.numel() < 2) return {torch::Tensor(), torch::Tensor()};
  const torch::Tensor order = std::get<1>(score.index_select(0, idx).sort(/*stable=*/true, 0, false));
  const torch::Tensor ranked = idx.index_select(0, order);
  const int64_t low = idx.numel() / 2;
  return {ranked.slice(0, 0, low), ranked.slice(0, low)};
}

torch::Tensor draw(const torch::Tensor& rows, const torch::Tensor& pixels, int64_t samples) {
  const torch::Tensor pick = torch::randint(pixels.numel(), {samples}, torch::TensorOptions().dtype(torch::kLong));
  return rows.index_select(0, pixels.index_select(0, pick.to(pixels.device())));
}

// 2 - <mean of a's unsure vessel rows, mean of b's sure vessel rows> - <the same for the ring's rows>.
torch::Tensor pull(const torch::Tensor& a, const torch::Tensor& b) {
  const auto qa = a.chunk(4, 0), kb = b.chunk(4, 0);
  return 2 - (qa[1].mean(0) * kb[0].mean(0)).sum() - (qa[3].mean(0) * kb[2].mean(0)).sum();
}

}  // namespace

void to_json(nlohmann::json& j, const PixelContrastOptions& o) { j = fields_to_json(o, kContrastFields); }
void from_json(const nlohmann::json& j, PixelContrastOptions& o) { fields_from_json(j, "train.contrast", o, kContrastFields); }
void validate(const PixelContrastOptions& o) { validate_fields("train.contrast", o, kContrastFields); }

torch::Tensor sample_contrast_pixels(const torch::Tensor& features, const torch::Tensor& probability,
                                     const torch::Tensor& label, const torch::Tensor& mask,
                                     const PixelContrastOptions& options) {
  TORCH_CHECK(features.dim() == 4, "sample_contrast_pixels: features must be [N, C, H, W], got ", features.sizes());
  const auto n = features.size(0), h = features.size(2), w = features.size(3);
  for (const auto* t : {&probability, &label, &mask})
    TORCH_CHECK(t->dim() == 4 && t->size(0) == n && t->size(1) == 1 && t->size(2) == h && t->size(3) == w,
                "sample_contrast_pixels: probability, label and mask must be [", n, ", 1, ", h, ", ", w, "], got ",
                t->sizes());
  std::array<torch::Tensor, 4> groups;  // flat pixel indices: vessel sure, vessel unsure, ring sure, ring unsure
  {
    torch::NoGradGuard no_grad;  // the selection reads labels and probabilities only
    const torch::Tensor vessel_map = (label >= 0.5).to(torch::kFloat);
    const torch::Tensor dilated =
        torch::max_pool2d(vessel_map, {options.ring, options.ring}, {1, 1}, {options.ring / 2, options.ring / 2});
    const torch::Tensor inside = (mask > 0.5).reshape(-1);
    const torch::Tensor vessel = (vessel_map > 0.5).reshape(-1) & inside;
    const torch::Tensor ring = (dilated > 0.5).reshape(-1) & (vessel_map < 0.5).reshape(-1) & inside;
    const torch::Tensor p = probability.detach().to(torch::kFloat).reshape(-1);
    std::tie(groups[1], groups[0]) = halves_by_rank(vessel, p);  // low probability: unsure of a vessel
    std::tie(groups[2], groups[3]) = halves_by_rank(ring, p);    // low probability: sure of background
  }
  if (!groups[0].defined() || !groups[2].defined()) return {};
  const torch::Tensor rows = features.permute({0, 2, 3, 1}).reshape({-1, features.size(1)});
  std::vector<torch::Tensor> drawn;
  for (const auto& g : groups) drawn.push_back(draw(rows, g, options.samples));
  return torch::cat(drawn, 0);
}

PixelContrastHeadImpl::PixelContrastHeadImpl(int64_t feature_channels, const PixelContrastOptions& options) {
  TORCH_CHECK(feature_channels > 0, "PixelContrastHead: feature_channels must be positive, got ", feature_channels);
  projector = register_module("projector", mlp_norm(feature_channels, options.embedding));
  predictor = register_module("predictor", mlp_norm(options.embedding, options.embedding));
}

torch::Tensor pixel_contrast_loss(PixelContrastHead& head, const torch::Tensor& rows) {
  TORCH_CHECK(rows.dim() == 2 && rows.size(0) >= 8 && rows.size(0) % 4 == 0,
              "pixel_contrast_loss: rows must be [4 * samples, C] (samples >= 2), got ", rows.sizes());
  const torch::Tensor p = unit_rows(head->projector->forward(rows.to(torch::kFloat)));
  const torch::Tensor q = unit_rows(head->predictor->forward(p));
  return pull(q, p.detach()) + pull(p, q.detach());
}

std::map<std::string, torch::Tensor> contrast_head_tensors(const torch::nn::Module& head) {
  return module_extra_tensors(head, kContrastPrefix, /*buffers=*/true);
}

std::map<std::string, torch::Tensor> contrast_head_tensor_slots(const torch::nn::Module& head) {
  return module_extra_slots(head, kContrastPrefix, /*buffers=*/true);
}

void read_contrast_head_tensors(const std::map<std::string, torch::Tensor>& extra, torch::nn::Module& head) {
  read_module_extra_tensors(extra, kContrastPrefix, head, /*buffers=*/true);
}

}  // namespace vg
