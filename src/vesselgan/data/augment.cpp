#include "vesselgan/data/augment.h"

#include <torch/torch.h>

#include <cmath>

#include "vesselgan/core/option_fields.h"

namespace vg {

namespace F = torch::nn::functional;

namespace {

// ITU-R BT.601 luma, the Y row of YIQ.
torch::Tensor gray(const torch::Tensor& img) {
  if (img.size(1) == 1) return img;
  return img.select(1, 0).unsqueeze(1) * 0.299 + img.select(1, 1).unsqueeze(1) * 0.587 +
         img.select(1, 2).unsqueeze(1) * 0.114;
}

// Resamples x [N, C, H, W] (any dtype) on grid [N, H, W, 2]; computes in the grid's floating dtype when x is
// not floating point and casts back.
torch::Tensor sample(const torch::Tensor& x, const torch::Tensor& grid, bool nearest) {
  const bool fp = x.is_floating_point();
  const torch::Tensor in = fp ? x : x.to(grid.scalar_type());
  auto opts = F::GridSampleFuncOptions().padding_mode(torch::kZeros).align_corners(false);
  opts = nearest ? opts.mode(torch::kNearest) : opts.mode(torch::kBilinear);
  torch::Tensor out = F::grid_sample(in, grid.to(in.scalar_type()), opts);
  return fp ? out : out.to(x.scalar_type());
}

// Per-sample exact flip: where flip[n] is true, x[n] reversed along `dim`.
torch::Tensor flip_where(const torch::Tensor& x, const torch::Tensor& flip, int64_t dim) {
  if (!x.defined()) return x;
  return torch::where(flip.view({-1, 1, 1, 1}), x.flip({dim}), x);
}

}  // namespace

namespace {

const auto kAugmentFields = [](auto& o, auto&& field) {
  field("enabled", o.enabled);
  field("hflip", o.hflip);
  field("vflip", o.vflip);
  field("rotate_deg", o.rotate_deg, within(0, 180, "0..180 degrees"));
  field("scale_min", o.scale_min, within(0.1, 10, "0.1..10"));
  field("scale_max", o.scale_max);  // scale_min..10, checked in validate
  field("translate", o.translate, within(0, 0.5, "0..0.5 (fraction of the size)"));
  field("shear_deg", o.shear_deg, within(0, 60, "0..60 degrees"));
  field("brightness", o.brightness, within(0, 1, "0..1"));
  field("contrast", o.contrast, within(0, 1, "0..1"));
  field("saturation", o.saturation, within(0, 1, "0..1"));
  field("hue", o.hue, within(0, 0.5, "0..0.5 (fraction of the hue circle)"));
  field("noise_std", o.noise_std, within(0, 0.5, "0..0.5"));
  field("degrade", o.degrade, section);
  field("enhance_jitter", o.enhance_jitter, section);
};

}  // namespace

void to_json(nlohmann::json& j, const AugmentOptions& o) {
  j = fields_to_json(o, kAugmentFields);
  if (!active(o.enhance_jitter)) j.erase("enhance_jitter");  // recipes written before it keep their keys
}
void from_json(const nlohmann::json& j, AugmentOptions& o) { fields_from_json(j, "augment", o, kAugmentFields); }

void validate(const AugmentOptions& o) {
  validate_fields("augment", o, kAugmentFields);
  check_field(o.scale_max >= o.scale_min && o.scale_max <= 10, "augment.scale_max", o.scale_max, "scale_min..10");
}

torch::Tensor affine_theta(const torch::Tensor& angle, const torch::Tensor& scale, const torch::Tensor& shear,
                           const torch::Tensor& tx, const torch::Tensor& ty, const torch::Tensor& flip_x,
                           const torch::Tensor& flip_y, int64_t H, int64_t W) {
  TORCH_CHECK(angle.dim() == 1, "affine_theta: expected [N] parameters, got angle ", angle.sizes());
  for (const auto* t : {&scale, &shear, &tx, &ty, &flip_x, &flip_y})
    TORCH_CHECK(t->sizes() == angle.sizes(), "affine_theta: parameter shape ", t->sizes(),
                " != ", angle.sizes());
  TORCH_CHECK(H > 0 && W > 0, "affine_theta: bad size ", H, "x", W);
  // Forward map in centered pixel units: out = A in + t with A = R(a) Sh(k) Z F, where R(a) = [[c, s], [-s,
  // c]] (counter-clockwise as displayed with y down), Sh = [[1, tan k], [0, 1]], Z = z I, F = diag(fx, fy).
  // affine_grid wants the inverse, in = M (out - t) with M = F Z^-1 Sh^-1 R^-1:
  //   M = 1/z [[fx (c - k' s), -fx (s + k' c)], [fy s, fy c]],  k' = tan k.
  // Normalised coordinates are pixel coordinates divided by D = diag(W/2, H/2), so theta = D^-1 M D and
  // theta[:, 2] = -D^-1 M t with t = (tx W, ty H).
  const double aspect = static_cast<double>(H) / static_cast<double>(W);
  const torch::Tensor c = torch::cos(angle), s = torch::sin(angle), k = torch::tan(shear), iz = 1.0 / scale;
  const torch::Tensor m00 = flip_x * iz * (c - k * s), m01 = -flip_x * iz * (s + k * c);
  const torch::Tensor m10 = flip_y * iz * s, m11 = flip_y * iz * c;
  const torch::Tensor t00 = m00, t01 = m01 * aspect, t10 = m10 / aspect, t11 = m11;
  const torch::Tensor t02 = -2.0 * (m00 * tx + m01 * ty * aspect);
  const torch::Tensor t12 = -2.0 * (m10 * tx / aspect + m11 * ty);
  return torch::stack({t00, t01, t02, t10, t11, t12}, 1).view({-1, 2, 3});
}

SegBatch augment(const SegBatch& batch, const AugmentOptions& opt) {
  const torch::Tensor& image = batch.image;
  TORCH_CHECK(image.dim() == 4 && (image.size(1) == 3 || image.size(1) == 1) && image.is_floating_point(),
              "augment: image must be [N, 3 or 1, H, W] floating point, got ", image.sizes(), " ",
              image.scalar_type());
  const int64_t N = image.size(0), H = image.size(2), W = image.size(3);
  for (const auto* t : {&batch.label, &batch.mask}) {
    if (!t->defined()) continue;
    TORCH_CHECK(t->dim() == 4 && t->size(0) == N && t->size(1) == 1 && t->size(2) == H && t->size(3) == W,
                "augment: label / mask must be [", N, ", 1, ", H, ", ", W, "], got ", t->sizes());
    TORCH_CHECK(t->device() == image.device(), "augment: label / mask on ", t->device(), ", image on ",
                image.device());
  }
  TORCH_CHECK(!batch.label.defined() || batch.label.is_floating_point(),
              "augment: label must be floating point, got ", batch.label.scalar_type());
  SegBatch out = batch;
  if (!opt.enabled || N == 0) return out;

  const auto fopt = torch::TensorOptions().dtype(torch::kFloat).device(image.device());
  auto uniform = [&](double lo, double hi) { return torch::rand({N}, fopt) * (hi - lo) + lo; };
  const auto dtype = image.scalar_type();

  // ---- geometric ----
  const bool warp = opt.rotate_deg > 0 || opt.scale_min != 1 || opt.scale_max != 1 || opt.translate > 0 ||
                    opt.shear_deg > 0;
  torch::Tensor hflip =
      opt.hflip ? torch::rand({N}, fopt) < 0.5 : torch::zeros({N}, fopt.dtype(torch::kBool));
  torch::Tensor vflip =
      opt.vflip ? torch::rand({N}, fopt) < 0.5 : torch::zeros({N}, fopt.dtype(torch::kBool));
  if (warp) {
    const auto deg = M_PI / 180.0;
    const torch::Tensor angle =
        opt.rotate_deg > 0 ? uniform(-opt.rotate_deg * deg, opt.rotate_deg * deg) : torch::zeros({N}, fopt);
    const torch::Tensor zoom = uniform(opt.scale_min, opt.scale_max);
    const torch::Tensor tx =
        opt.translate > 0 ? uniform(-opt.translate, opt.translate) : torch::zeros({N}, fopt);
    const torch::Tensor ty =
        opt.translate > 0 ? uniform(-opt.translate, opt.translate) : torch::zeros({N}, fopt);
    const torch::Tensor shear =
        opt.shear_deg > 0 ? uniform(-opt.shear_deg * deg, opt.shear_deg * deg) : torch::zeros({N}, fopt);
    const torch::Tensor fx = 1.0 - 2.0 * hflip.to(torch::kFloat), fy = 1.0 - 2.0 * vflip.to(torch::kFloat);
    const torch::Tensor theta = affine_theta(angle, zoom, shear, tx, ty, fx, fy, H, W);
    const torch::Tensor grid = F::affine_grid(theta.to(dtype), {N, 1, H, W}, /*align_corners=*/false);
    out.image = sample(image, grid, false);
    if (batch.label.defined()) {
      const bool binary = ((batch.label == 0) | (batch.label == 1)).all().item<bool>();
      out.label = sample(batch.label, grid, false);
      if (binary) out.label = (out.label >= 0.5).to(batch.label.scalar_type());
    }
    if (batch.mask.defined()) out.mask = sample(batch.mask, grid, true);
  } else if (opt.hflip || opt.vflip) {
    for (auto* t : {&out.image, &out.label, &out.mask}) *t = flip_where(flip_where(*t, hflip, 3), vflip, 2);
  }

  // ---- photometric, image only ----
  torch::Tensor img = out.image;
  auto factor = [&](double r) { return uniform(1 - r, 1 + r).to(dtype).view({N, 1, 1, 1}); };
  if (opt.brightness > 0) img = (img * factor(opt.brightness)).clamp(0, 1);
  if (opt.contrast > 0) {
    const torch::Tensor f = factor(opt.contrast), m = gray(img).mean({1, 2, 3}, /*keepdim=*/true);
    img = (img * f + m * (1 - f)).clamp(0, 1);
  }
  if (opt.saturation > 0 && img.size(1) == 3) {
    const torch::Tensor f = factor(opt.saturation);
    img = (img * f + gray(img) * (1 - f)).clamp(0, 1);
  }
  if (opt.hue > 0 && img.size(1) == 3) {
    // Hue rotation = rotation of the (I, Q) chroma plane of YIQ about the Y (luma) axis.
    const auto dopt = torch::TensorOptions().dtype(torch::kDouble);
    const torch::Tensor yiq =
        torch::tensor({0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312}, dopt).view({3, 3});
    const torch::Tensor yiq_inv = torch::inverse(yiq);
    const torch::Tensor phi = uniform(-opt.hue * 2 * M_PI, opt.hue * 2 * M_PI).to(torch::kDouble);
    const torch::Tensor c = torch::cos(phi), s = torch::sin(phi), one = torch::ones_like(phi),
                        zero = torch::zeros_like(phi);
    const torch::Tensor rot = torch::stack({one, zero, zero, zero, c, -s, zero, s, c}, 1).view({N, 3, 3});
    const torch::Tensor m = torch::matmul(torch::matmul(yiq_inv.to(phi.device()), rot), yiq.to(phi.device()));
    img = torch::matmul(m.to(dtype), img.reshape({N, 3, H * W})).view({N, 3, H, W}).clamp(0, 1);
  }
  if (opt.noise_std > 0) img = (img + torch::randn_like(img) * opt.noise_std).clamp(0, 1);
  out.image = degrade(img, opt.degrade);
  return out;
}

}  // namespace vg
