#include "vesselgan/gan/gan_data.h"

#include "vesselgan/core/error.h"
#include "vesselgan/data/preprocess.h"

namespace vg {

namespace {

// [C, H, W] in [0, 1] (+ label) -> [C', H, W] in [-1, 1].
torch::Tensor to_signed(const Sample& s, bool joint) {
  auto x = s.image;
  if (joint) x = torch::cat({x, s.label.gt(0.5).to(torch::kFloat)});
  return x.mul(2).sub(1);
}

}  // namespace

GanImageSource::GanImageSource(const std::vector<Sample>& samples, const GanTrainOptions& o,
                               const torch::Device& device)
    : resolution_(o.resolution), channels_(image_channels(o)), patch_(is_patch_mode(o)), mirror_(o.mirror),
      device_(device) {
  if (samples.empty()) throw UserError("no training photographs for the GAN (the data set holds no images)");
  const bool joint = is_joint_mode(o);
  for (const auto& s : samples)
    if (joint && !s.label.defined())
      throw UserError("GAN mode '" + o.mode + "' needs a vessel label for every photograph; " + s.id +
                      " has none (use --mode full or patch, or add labels)");
  const int64_t R = resolution_;
  std::vector<torch::Tensor> ims;
  if (!patch_) {
    for (const auto& s : samples) {
      auto x = to_signed(s, joint);
      const int64_t side = std::max(x.size(1), x.size(2));
      x = pad_center(x.add(1), side, side).sub(1);  // pad with black (-1)
      ims.push_back(resize_to(x, R, R));
    }
    images_ = torch::stack(ims).to(device);
    count_ = images_.size(0);
    return;
  }
  // Patch modes: one common canvas, and every crop position whose FOV fraction is high enough.
  int64_t H = 0, W = 0;
  for (const auto& s : samples) {
    H = std::max(H, s.image.size(1));
    W = std::max(W, s.image.size(2));
  }
  if (H < R || W < R)
    throw UserError("GAN patch resolution " + std::to_string(R) + " is larger than the photographs (" +
                    std::to_string(H) + "x" + std::to_string(W) + "); choose --resolution <= " +
                    std::to_string(std::min(H, W)));
  std::vector<torch::Tensor> masks;
  for (const auto& s : samples) {
    ims.push_back(pad_center(to_signed(s, joint).add(1), H, W).sub(1));
    masks.push_back(pad_center(s.mask, H, W));
  }
  const int64_t stride = std::max<int64_t>(1, R / 16);
  auto frac = torch::avg_pool2d(torch::stack(masks), {R, R}, {stride, stride});  // [M, 1, h, w]
  auto ok = frac.squeeze(1).ge(o.patch_min_fov - 1e-6);
  auto where = ok.nonzero();  // [P, 3] (image, row, col) in pooled units
  if (where.size(0) == 0)
    throw UserError("no " + std::to_string(R) + "x" + std::to_string(R) + " crop of the photographs holds " +
                    std::to_string(o.patch_min_fov) + " FOV pixels (lower patch_min_fov or the resolution)");
  where.select(1, 1).mul_(stride);
  where.select(1, 2).mul_(stride);
  positions_ = where.contiguous();
  images_ = torch::stack(ims).to(device);
  count_ = images_.size(0);
}

torch::Tensor GanImageSource::crops(const torch::Tensor& index) const {
  auto pos = positions_.index_select(0, index);
  auto acc = pos.accessor<int64_t, 2>();
  std::vector<torch::Tensor> out;
  out.reserve(pos.size(0));
  for (int64_t i = 0; i < pos.size(0); ++i)
    out.push_back(images_[acc[i][0]]
                      .slice(1, acc[i][1], acc[i][1] + resolution_)
                      .slice(2, acc[i][2], acc[i][2] + resolution_));
  return torch::stack(out);
}

torch::Tensor GanImageSource::batch(int64_t n) {
  TORCH_CHECK(n >= 1, "GanImageSource::batch: n must be >= 1, got ", n);
  const auto cpu_long = torch::TensorOptions().dtype(torch::kLong);
  torch::Tensor x;
  if (patch_) {
    x = crops(torch::randint(positions_.size(0), {n}, cpu_long));
  } else {
    x = images_.index_select(0, torch::randint(count_, {n}, cpu_long).to(device_));
  }
  if (mirror_) {
    auto flip = torch::rand({n, 1, 1, 1}).lt(0.5).to(device_);
    x = torch::where(flip, x.flip({3}), x);
  }
  return x.contiguous();
}

torch::Tensor GanImageSource::first(int64_t n) const {
  n = std::min(n, count_);
  if (!patch_) return images_.slice(0, 0, n);
  // The valid position of each image closest to the middle of its valid positions.
  std::vector<int64_t> rows;
  for (int64_t m = 0; m < count_ && static_cast<int64_t>(rows.size()) < n; ++m) {
    auto of_m = positions_.select(1, 0).eq(m).nonzero().squeeze(1);
    if (of_m.numel() == 0) continue;
    rows.push_back(of_m[of_m.numel() / 2].item<int64_t>());
  }
  return crops(torch::tensor(rows, torch::TensorOptions().dtype(torch::kLong)));
}

}  // namespace vg
