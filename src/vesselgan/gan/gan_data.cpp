#include "vesselgan/gan/gan_data.h"

#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/data/preprocess.h"

namespace vg {

namespace {

// The binary label [1, H, W] blurred with a normalized gaussian of `sigma` pixels (separable, radius 3 sigma,
// replicate padding); sigma 0 returns it unchanged.
torch::Tensor blur_label(const torch::Tensor& label, double sigma) {
  if (sigma <= 0) return label;
  const int64_t r = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  auto k = torch::arange(-r, r + 1, torch::kFloat).div(sigma).pow(2).mul(-0.5).exp();
  k = k / k.sum();
  namespace F = torch::nn::functional;
  auto x = F::pad(label.unsqueeze(0), F::PadFuncOptions({r, r, r, r}).mode(torch::kReplicate));
  x = F::conv2d(x, k.view({1, 1, 1, -1}));
  x = F::conv2d(x, k.view({1, 1, -1, 1}));
  return x.squeeze(0);
}

// What the GAN learns of a sample, [C', H, W] in [-1, 1]: the photograph [3, H, W], with the blurred label
// appended in the joint modes, or the blurred label alone in label-patch mode.
torch::Tensor to_signed(const Sample& s, const GanTrainOptions& o) {
  auto x = s.image;
  if (learns_labels(o)) {
    auto label = blur_label(s.label.gt(0.5).to(torch::kFloat), o.label_blur);
    x = is_label_mode(o) ? label : torch::cat({x, label});
  }
  return x.mul(2).sub(1);
}

}  // namespace

GanImageSource::GanImageSource(const std::vector<Sample>& samples, const GanTrainOptions& o,
                               const torch::Device& device)
    : resolution_(o.resolution), channels_(image_channels(o)), patch_(is_patch_mode(o)), mirror_(o.mirror),
      seed_(o.seed), device_(device) {
  if (samples.empty()) throw UserError("no training photographs for the GAN (the data set holds no images)");
  const bool joint = learns_labels(o);
  for (const auto& s : samples)
    if (joint && !s.label.defined())
      throw UserError("GAN mode '" + o.mode + "' needs a vessel label for every photograph; " + s.id +
                      " has none (use --mode full or patch, or add labels)");
  const int64_t R = resolution_;
  std::vector<torch::Tensor> ims;
  if (!patch_) {
    for (const auto& s : samples) {
      auto x = to_signed(s, o);
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
  std::vector<torch::Tensor> masks, vessels;
  for (const auto& s : samples) {
    ims.push_back(pad_center(to_signed(s, o).add(1), H, W).sub(1));
    masks.push_back(pad_center(s.mask, H, W));
    if (o.patch_vessel_bias > 0) {
      if (!s.label.defined())
        throw UserError("gan.patch_vessel_bias draws crops toward vessels and needs a vessel label for every "
                        "photograph; " + s.id + " has none (set patch_vessel_bias to 0)");
      vessels.push_back(pad_center(s.label.gt(0.5).to(torch::kFloat).mul(s.mask), H, W));
    }
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
  if (o.patch_vessel_bias > 0) {
    // Each valid position's vessel fraction, then the mixture of uniform and vessel-proportional draws.
    auto vfrac = torch::avg_pool2d(torch::stack(vessels), {R, R}, {stride, stride}).squeeze(1);
    weights_ = vessel_biased_weights(vfrac.index({ok}), o.patch_vessel_bias);
  }
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

torch::Tensor GanImageSource::next_in_epochs(int64_t n) {
  auto index = torch::empty({n}, torch::kLong);
  auto out = index.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i, ++drawn_) {
    const int64_t epoch = drawn_ / count_;
    if (epoch != order_epoch_) {
      auto gen = at::detail::createCPUGenerator(seed_ ^ (0xd1b54a32d192ed03ULL * static_cast<uint64_t>(epoch + 1)));
      order_ = torch::randperm(count_, gen, torch::TensorOptions().dtype(torch::kLong));
      order_epoch_ = epoch;
    }
    out[i] = order_[drawn_ % count_].item<int64_t>();
  }
  return index;
}

torch::Tensor GanImageSource::batch(int64_t n) {
  TORCH_CHECK(n >= 1, "GanImageSource::batch: n must be >= 1, got ", n);
  const auto cpu_long = torch::TensorOptions().dtype(torch::kLong);
  torch::Tensor x;
  if (patch_) {
    x = crops(weights_.defined() ? torch::multinomial(weights_, n, /*replacement=*/true)
                                 : torch::randint(positions_.size(0), {n}, cpu_long));
  } else {
    x = images_.index_select(0, next_in_epochs(n).to(device_));
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

torch::Tensor vessel_biased_weights(const torch::Tensor& vessel_fraction, double bias) {
  const auto v = vessel_fraction.to(torch::kDouble);
  const double total = v.sum().item<double>();
  auto w = torch::full_like(v, (1 - bias) / static_cast<double>(v.numel()));
  if (total > 0) w = w + v.mul(bias / total);
  return w.to(torch::kFloat);
}

std::vector<Sample> random_fov_crops(const std::vector<Sample>& samples, int64_t size, int64_t count, uint64_t seed) {
  TORCH_CHECK(size >= 1 && count >= 1, "random_fov_crops: need size >= 1 and count >= 1, got ", size, ", ", count);
  std::vector<torch::Tensor> where;  // [P_i, 3] (sample, top, left) per photograph
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& m = samples[i].mask;
    if (m.size(1) < size || m.size(2) < size) continue;
    auto inside = torch::avg_pool2d(m.unsqueeze(0).to(torch::kFloat), {size, size}, {1, 1}).squeeze(0).squeeze(0);
    auto pos = inside.ge(1 - 1e-6).nonzero();
    if (pos.size(0) == 0) continue;
    where.push_back(torch::cat({torch::full({pos.size(0), 1}, static_cast<int64_t>(i), torch::kLong), pos}, 1));
  }
  if (where.empty())
    throw UserError("no photograph has a " + std::to_string(size) + "x" + std::to_string(size) +
                    " crop wholly inside its FOV");
  const auto all = torch::cat(where);
  auto gen = at::detail::createCPUGenerator(seed);
  const auto pick = torch::randint(all.size(0), {count}, gen, torch::TensorOptions().dtype(torch::kLong));
  const auto acc = all.index_select(0, pick).contiguous();
  auto a = acc.accessor<int64_t, 2>();
  std::vector<Sample> out;
  for (int64_t k = 0; k < count; ++k) {
    const Sample& s = samples[static_cast<size_t>(a[k][0])];
    auto crop = [&](const torch::Tensor& t) {
      return t.slice(1, a[k][1], a[k][1] + size).slice(2, a[k][2], a[k][2] + size).contiguous();
    };
    Sample c;
    c.id = "crop" + std::to_string(k);
    c.image = crop(s.image);
    if (s.label.defined()) c.label = crop(s.label);
    c.mask = torch::ones({1, size, size});
    out.push_back(std::move(c));
  }
  return out;
}

torch::Tensor real_views(const std::vector<Sample>& samples, const GanTrainOptions& o, int64_t count, uint64_t seed) {
  if (samples.empty()) throw UserError("no real photographs to compare the generator with");
  std::vector<torch::Tensor> out;
  if (is_patch_mode(o)) {
    for (const auto& c : random_fov_crops(samples, o.resolution, count, seed)) out.push_back(c.image);
  } else {
    for (const auto& s : samples) {
      const int64_t side = std::max(s.image.size(1), s.image.size(2));
      out.push_back(resize_to(pad_center(s.image, side, side), o.resolution, o.resolution).clamp(0, 1));
    }
  }
  return torch::stack(out);
}

}  // namespace vg
