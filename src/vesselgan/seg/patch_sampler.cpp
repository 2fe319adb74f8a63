#include "vesselgan/seg/patch_sampler.h"

#include <algorithm>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/preprocess.h"

namespace vg {

namespace {

const auto kPatchFields = [](auto& o, auto&& field) {
  field("size", o.size, rule([](int64_t s) { return s == 0 || (s >= 16 && s <= 4096); }, "0 or 16..4096"));
  field("per_epoch", o.per_epoch);  // checked in validate: only when size is set
  field("fov_share", o.fov_share, within(0, 1, "0..1"));
};

}  // namespace

void to_json(nlohmann::json& j, const PatchOptions& o) { j = fields_to_json(o, kPatchFields); }
void from_json(const nlohmann::json& j, PatchOptions& o) { fields_from_json(j, "train.patch", o, kPatchFields); }
void validate(const PatchOptions& o) {
  validate_fields("train.patch", o, kPatchFields);
  check_field(o.size == 0 || (o.per_epoch >= 1 && o.per_epoch <= 10000000), "train.patch.per_epoch", o.per_epoch,
              "1..10000000 when patch.size is set");
}

namespace {

int64_t rand_below(int64_t n) {  // uniform in [0, n), n >= 1, from the default CPU generator
  return torch::randint(n, {1}, torch::TensorOptions().dtype(torch::kLong)).item<int64_t>();
}

}  // namespace

PatchSampler::PatchSampler(std::vector<torch::Tensor> images, std::vector<torch::Tensor> labels,
                           std::vector<torch::Tensor> masks, int64_t size, double fov_share)
    : size_(size), fov_share_(fov_share) {
  TORCH_CHECK(!images.empty(), "PatchSampler: no images");
  TORCH_CHECK(images.size() == labels.size() && images.size() == masks.size(),
              "PatchSampler: ", images.size(), " images, ", labels.size(), " labels, ", masks.size(), " masks");
  TORCH_CHECK(size >= 1, "PatchSampler: crop size ", size);
  for (size_t i = 0; i < images.size(); ++i) {
    const auto& x = images[i];
    TORCH_CHECK(x.dim() == 3, "PatchSampler: image must be [C, H, W], got ", x.sizes());
    for (const auto* t : {&labels[i], &masks[i]})
      TORCH_CHECK(t->dim() == 3 && t->size(0) == 1 && t->size(1) == x.size(1) && t->size(2) == x.size(2),
                  "PatchSampler: label / mask must be [1, ", x.size(1), ", ", x.size(2), "], got ", t->sizes());
    const int64_t H = std::max(size, x.size(1)), W = std::max(size, x.size(2));
    images_.push_back(pad_center(x, H, W));
    labels_.push_back(pad_center(labels[i], H, W));
    masks_.push_back(pad_center(masks[i], H, W));
    fov_.push_back(masks_.back().reshape({-1}).gt(0.5).nonzero().reshape({-1}).cpu());
  }
}

void PatchSampler::draw(int64_t n, torch::Tensor* image, torch::Tensor* label, torch::Tensor* mask) const {
  std::vector<torch::Tensor> im, lb, mk;
  for (int64_t k = 0; k < n; ++k) {
    const size_t i = static_cast<size_t>(rand_below(samples()));
    const int64_t H = images_[i].size(1), W = images_[i].size(2);
    const bool centred = torch::rand({1}).item<double>() < fov_share_ && fov_[i].numel() > 0;
    int64_t top, left;
    if (centred) {
      const int64_t flat = fov_[i][rand_below(fov_[i].numel())].item<int64_t>();
      top = std::clamp<int64_t>(flat / W - size_ / 2, 0, H - size_);
      left = std::clamp<int64_t>(flat % W - size_ / 2, 0, W - size_);
    } else {
      top = rand_below(H - size_ + 1);
      left = rand_below(W - size_ + 1);
    }
    im.push_back(images_[i].slice(1, top, top + size_).slice(2, left, left + size_));
    lb.push_back(labels_[i].slice(1, top, top + size_).slice(2, left, left + size_));
    mk.push_back(masks_[i].slice(1, top, top + size_).slice(2, left, left + size_));
  }
  *image = torch::stack(im);
  *label = torch::stack(lb);
  *mask = torch::stack(mk);
}

}  // namespace vg
