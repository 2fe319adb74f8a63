#include "vesselgan/gan/augment_pipe.h"

#include "vesselgan/dist/batch_shard.h"

#include <torch/torch.h>

#include <cmath>

#include "vesselgan/core/compat.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/gan/grid_sample.h"

namespace vg {

namespace {

using T = torch::Tensor;

// [N, 3, 3] homogeneous 2-D affine matrices from per-sample entries [N] (last row 0 0 1).
T affine2d(const T& a, const T& b, const T& c, const T& d, const T& e, const T& f) {
  const T z = torch::zeros_like(a), o = torch::ones_like(a);
  return torch::stack({a, b, c, d, e, f, z, z, o}, 1).view({-1, 3, 3});
}
T translate2d(const T& tx, const T& ty) {
  const T z = torch::zeros_like(tx), o = torch::ones_like(tx);
  return affine2d(o, z, tx, z, o, ty);
}
T scale2d(const T& sx, const T& sy) {
  const T z = torch::zeros_like(sx);
  return affine2d(sx, z, z, z, sy, z);
}
T rotate2d(const T& cos_t, const T& sin_t) {
  const T z = torch::zeros_like(cos_t);
  return affine2d(cos_t, -sin_t, z, sin_t, cos_t, z);
}

// Folds coordinates into [0, m] as mirror images about 0 and m (period 2m): sampling bilinearly at the folded
// coordinate equals sampling a reflect-padded image ('reflect': the edge pixel is not repeated), for any
// distance outside the image.
T fold(const T& x, double m) {
  if (m <= 0) return torch::zeros_like(x);
  const T t = x - 2 * m * torch::floor(x / (2 * m));
  return m - torch::abs(t - m);
}

// Per-sample draws [N, ...]: in a data-parallel step the global batch's, this rank's rows of them (batch_shard.h).
T rand_rows(std::vector<int64_t> shape, const torch::TensorOptions& fopt) {
  return draw_rows(shape[0], [&](int64_t n) { shape[0] = n; return torch::rand(shape, fopt); });
}
T randn_rows(std::vector<int64_t> shape, const torch::TensorOptions& fopt) {
  return draw_rows(shape[0], [&](int64_t n) { shape[0] = n; return torch::randn(shape, fopt); });
}

// Per-sample Bernoulli(prob) as a bool [N] (prob >= 1: always, <= 0: never).
T fires(int64_t n, double prob, const torch::TensorOptions& fopt) { return rand_rows({n}, fopt) < prob; }

}  // namespace

namespace {

const auto kPipeFields = [](auto& o, auto&& field) {
  const auto multiplier = within(0, 100, "0..100 (probability multiplier, 0 = off)");
  field("xflip", o.xflip, multiplier);
  field("rotate90", o.rotate90, multiplier);
  field("xint", o.xint, multiplier);
  field("scale", o.scale, multiplier);
  field("rotate", o.rotate, multiplier);
  field("aniso", o.aniso, multiplier);
  field("xfrac", o.xfrac, multiplier);
  field("brightness", o.brightness, multiplier);
  field("contrast", o.contrast, multiplier);
  field("lumaflip", o.lumaflip, multiplier);
  field("hue", o.hue, multiplier);
  field("saturation", o.saturation, multiplier);
  field("xint_max", o.xint_max, within(0, 0.5, "0..0.5 (fraction of the size)"));
  field("scale_std", o.scale_std, within(0, 2, "0..2 (log2 units)"));
  field("rotate_max", o.rotate_max, within(0, 1, "0..1 (fraction of pi)"));
  field("aniso_std", o.aniso_std, within(0, 2, "0..2 (log2 units)"));
  field("xfrac_std", o.xfrac_std, within(0, 1, "0..1 (fraction of the size)"));
  field("brightness_std", o.brightness_std, within(0, 2, "0..2"));
  field("contrast_std", o.contrast_std, within(0, 2, "0..2 (log2 units)"));
  field("hue_max", o.hue_max, within(0, 1, "0..1 (fraction of pi)"));
  field("saturation_std", o.saturation_std, within(0, 4, "0..4 (log2 units)"));
  field("one_channel_colour", o.one_channel_colour);
};

}  // namespace

void to_json(nlohmann::json& j, const AugmentPipeOptions& o) { j = fields_to_json(o, kPipeFields); }
void from_json(const nlohmann::json& j, AugmentPipeOptions& o) {
  fields_from_json(j, "augment_pipe", o, kPipeFields);
}
void validate(const AugmentPipeOptions& o) { validate_fields("augment_pipe", o, kPipeFields); }

AugmentPipe::AugmentPipe(AugmentPipeOptions o) : options_(o) { validate(options_); }

torch::Tensor AugmentPipe::operator()(const torch::Tensor& images, double p) const {
  // images: [N, C, H, W] float in [-1, 1]; colour ops need C >= 3
  TORCH_CHECK(images.dim() == 4 && images.size(1) >= 1 && images.size(2) >= 2 && images.size(3) >= 2,
              "AugmentPipe: images must be [N, C, H >= 2, W >= 2], got ", images.sizes());
  TORCH_CHECK(images.is_floating_point(), "AugmentPipe: images must be floating point, got ",
              images.scalar_type());
  TORCH_CHECK(p >= 0 && p <= 1, "AugmentPipe: p must be in [0, 1], got ", p);
  if (p == 0 || images.size(0) == 0) return images;
  return color(geometric(images, p), p);
}

// ADA appendix B, blit + geom: G_inv maps output pixel coordinates (origin at the image center) to input
// coordinates; each op right-multiplies its inverse, so the first op is the first applied to the image.
torch::Tensor AugmentPipe::geometric(const torch::Tensor& images, double p) const {
  const AugmentPipeOptions& o = options_;
  if (o.xflip <= 0 && o.rotate90 <= 0 && o.xint <= 0 && o.scale <= 0 && o.rotate <= 0 && o.aniso <= 0 &&
      o.xfrac <= 0) {
    return images;
  }
  // The affine maps, the sampling grid and the resampling run in fp32 (or fp64) even inside a bf16 autocast
  // region: bf16 coordinates would be off by up to half a pixel at 256 px.
  AutocastOff fp32;
  const int64_t N = images.size(0), H = images.size(2), W = images.size(3);
  const auto fopt = torch::TensorOptions().dtype(torch::kFloat).device(images.device());  // random draws
  const auto mdtype = images.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const auto mopt = fopt.dtype(mdtype);
  auto m = [&](const T& t) { return t.to(mdtype); };
  T G = torch::eye(3, mopt).expand({N, 3, 3});

  if (o.xflip > 0) {  // x-flip with probability 1/2
    T i = torch::floor(rand_rows({N}, fopt) * 2);
    i = torch::where(fires(N, o.xflip * p, fopt), i, torch::zeros_like(i));
    G = torch::matmul(G, scale2d(m(1 - 2 * i), torch::ones({N}, mopt)));
  }
  if (o.rotate90 > 0) {  // rotation by k * 90 degrees, k uniform in 0..3, with exact cos / sin
    T k = torch::floor(rand_rows({N}, fopt) * 4);
    k = torch::where(fires(N, o.rotate90 * p, fopt), k, torch::zeros_like(k));
    const T cos_k = m(k.eq(0).to(torch::kFloat) - k.eq(2).to(torch::kFloat));
    const T sin_k = m(k.eq(1).to(torch::kFloat) - k.eq(3).to(torch::kFloat));
    G = torch::matmul(G, rotate2d(cos_k, sin_k));
  }
  if (o.xint > 0) {  // integer translation, uniform in [-xint_max, xint_max] * size, rounded to pixels
    T t = (rand_rows({N, 2}, fopt) * 2 - 1) * o.xint_max;
    t = torch::where(fires(N, o.xint * p, fopt).unsqueeze(1), t, torch::zeros_like(t));
    G = torch::matmul(
        G, translate2d(m(-torch::round(t.select(1, 0) * W)), m(-torch::round(t.select(1, 1) * H))));
  }
  if (o.scale > 0) {  // isotropic scaling, log-normal
    T s = torch::exp2(randn_rows({N}, fopt) * o.scale_std);
    s = torch::where(fires(N, o.scale * p, fopt), s, torch::ones_like(s));
    G = torch::matmul(G, scale2d(m(1 / s), m(1 / s)));
  }
  // Pre- and post-rotation each fire with p_rot so that P(at least one) = rotate * p.
  const double p_rot = 1 - std::sqrt(std::min(std::max(1 - o.rotate * p, 0.0), 1.0));
  auto rotation = [&]() {
    T theta = (rand_rows({N}, fopt) * 2 - 1) * (M_PI * o.rotate_max);
    theta = m(torch::where(fires(N, p_rot, fopt), theta, torch::zeros_like(theta)));
    return rotate2d(torch::cos(theta), torch::sin(theta));  // inverse of the rotation by -theta
  };
  if (o.rotate > 0) G = torch::matmul(G, rotation());
  if (o.aniso > 0) {  // anisotropic scaling: s on x, 1 / s on y
    T s = torch::exp2(randn_rows({N}, fopt) * o.aniso_std);
    s = torch::where(fires(N, o.aniso * p, fopt), s, torch::ones_like(s));
    G = torch::matmul(G, scale2d(m(1 / s), m(s)));
  }
  if (o.rotate > 0) G = torch::matmul(G, rotation());
  if (o.xfrac > 0) {  // fractional translation, normal with std xfrac_std * size
    T t = randn_rows({N, 2}, fopt) * o.xfrac_std;
    t = torch::where(fires(N, o.xfrac * p, fopt).unsqueeze(1), t, torch::zeros_like(t));
    G = torch::matmul(G, translate2d(m(-t.select(1, 0) * W), m(-t.select(1, 1) * H)));
  }

  // Sampling grid: output pixel centers (x, y, 1) relative to the center -> input pixel index -> folded
  // (reflect padding) -> normalized for align_corners = false: u = (2 i + 1) / size - 1.
  const double cx = (W - 1) / 2.0, cy = (H - 1) / 2.0;
  const T xs = (torch::arange(W, mopt) - cx).view({1, W}).expand({H, W});
  const T ys = (torch::arange(H, mopt) - cy).view({H, 1}).expand({H, W});
  const T base = torch::stack({xs, ys, torch::ones({H, W}, mopt)}, -1).view({1, H * W, 3});
  const T src = torch::matmul(base, G.narrow(1, 0, 2).transpose(1, 2));  // [N, H*W, 2]
  const T px = fold(src.select(2, 0) + cx, W - 1);
  const T py = fold(src.select(2, 1) + cy, H - 1);
  const T grid = torch::stack({(2 * px + 1) / W - 1, (2 * py + 1) / H - 1}, -1).view({N, H, W, 2});
  return grid_sample_2x_differentiable(images.to(mdtype), grid);
}

// ADA appendix B, color: M (4x4, acting on homogeneous RGB) accumulates each op on the left.
torch::Tensor AugmentPipe::color(const torch::Tensor& images, double p) const {
  const AugmentPipeOptions& o = options_;
  if (o.brightness <= 0 && o.contrast <= 0 && o.lumaflip <= 0 && o.hue <= 0 && o.saturation <= 0)
    return images;
  if (images.size(1) < 3 && !(images.size(1) == 1 && o.one_channel_colour)) return images;  // see the header
  const int64_t N = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  const auto fopt = torch::TensorOptions().dtype(torch::kFloat).device(images.device());
  const auto mdtype = images.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const auto mopt = fopt.dtype(mdtype);
  auto m = [&](const T& t) { return t.to(mdtype).view({N, 1, 1}); };

  // Constants are built on the device (a host-to-device copy of a small table would synchronize the stream).
  const T I4 = torch::eye(4, mopt);
  const T I3 = torch::constant_pad_nd(torch::eye(3, mopt), {0, 1, 0, 1});  // identity on R, G, B only
  const T e3 = I4 - I3;                                                    // the homogeneous corner
  const double a = 1 / std::sqrt(3.0);
  const T v = torch::constant_pad_nd(torch::full({3}, a, mopt), {0, 1});  // luma axis (1, 1, 1, 0) / sqrt(3)
  const T vv = torch::outer(v, v);
  T M = I4.expand({N, 4, 4});

  if (o.brightness > 0) {  // add b to R, G, B
    T b = randn_rows({N}, fopt) * o.brightness_std;
    b = torch::where(fires(N, o.brightness * p, fopt), b, torch::zeros_like(b));
    const T shift = torch::constant_pad_nd(torch::ones({3, 1}, mopt), {3, 0, 0, 1});  // column 3, rows 0..2
    M = torch::matmul(I4 + shift * m(b), M);
  }
  if (o.contrast > 0) {  // scale R, G, B about 0 by c
    T c = torch::exp2(randn_rows({N}, fopt) * o.contrast_std);
    c = torch::where(fires(N, o.contrast * p, fopt), c, torch::ones_like(c));
    M = torch::matmul(I3 * m(c) + e3, M);
  }
  if (o.lumaflip > 0) {  // Householder reflection across the plane orthogonal to the luma axis
    T i = torch::floor(rand_rows({N}, fopt) * 2);
    i = torch::where(fires(N, o.lumaflip * p, fopt), i, torch::zeros_like(i));
    M = torch::matmul(I4 - 2 * vv * m(i), M);
  }
  if (o.hue > 0) {  // rotation about the luma axis (Rodrigues: cos I + sin [v]x + (1 - cos) v v^T)
    T theta = (rand_rows({N}, fopt) * 2 - 1) * (M_PI * o.hue_max);
    theta = torch::where(fires(N, o.hue * p, fopt), theta, torch::zeros_like(theta));
    // [v]x for v = a (1, 1, 1) is a (P^T - P), P the cyclic permutation (eye rolled by one column).
    const T P = torch::eye(3, mopt).roll(1, 1);
    const T cross = torch::constant_pad_nd(a * (P.t() - P), {0, 1, 0, 1});
    M = torch::matmul(torch::cos(m(theta)) * (I3 - vv) + torch::sin(m(theta)) * cross + vv + e3, M);
  }
  if (o.saturation > 0) {  // scale the chroma (orthogonal to the luma axis) by s
    T s = torch::exp2(randn_rows({N}, fopt) * o.saturation_std);
    s = torch::where(fires(N, o.saturation * p, fopt), s, torch::ones_like(s));
    M = torch::matmul(vv + e3 + (I3 - vv) * m(s), M);
  }

  const T Mi = M.to(images.scalar_type());
  if (C == 1) {  // grey: the RGB rows averaged (stylegan2-ada-pytorch's L images)
    const T rows = Mi.narrow(1, 0, 3);
    const T gain = rows.narrow(2, 0, 3).sum(2).mean(1).view({N, 1, 1, 1});
    const T offset = rows.narrow(2, 3, 1).mean(1).view({N, 1, 1, 1});
    return images * gain + offset;
  }
  const T rgb = images.narrow(1, 0, 3).reshape({N, 3, H * W});
  const T out = (torch::matmul(Mi.narrow(1, 0, 3).narrow(2, 0, 3), rgb) + Mi.narrow(1, 0, 3).narrow(2, 3, 1))
                    .view({N, 3, H, W});
  if (C == 3) return out;
  return torch::cat({out, images.narrow(1, 3, C - 3)}, 1);
}

}  // namespace vg
