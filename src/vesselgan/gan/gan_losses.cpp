#include "vesselgan/gan/gan_losses.h"

#include "vesselgan/dist/batch_shard.h"

#include <torch/torch.h>

#include <cmath>

namespace vg {

namespace F = torch::nn::functional;

torch::Tensor generator_loss(const torch::Tensor& fake_logits) {
  TORCH_CHECK(fake_logits.numel() > 0, "generator_loss: empty logits");
  return F::softplus(-fake_logits).mean();
}

torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits) {
  TORCH_CHECK(real_logits.numel() > 0 && fake_logits.numel() > 0, "discriminator_loss: empty logits (real ",
              real_logits.sizes(), ", fake ", fake_logits.sizes(), ")");
  return F::softplus(fake_logits).mean() + F::softplus(-real_logits).mean();
}

torch::Tensor r1_penalty(const torch::Tensor& real_logits, const torch::Tensor& real_images) {
  TORCH_CHECK(real_images.requires_grad(), "r1_penalty: real_images must require grad");
  TORCH_CHECK(real_images.dim() >= 1 && real_logits.numel() > 0, "r1_penalty: got logits ",
              real_logits.sizes(), " and images ", real_images.sizes());
  const torch::Tensor grad = torch::autograd::grad({real_logits.sum()}, {real_images}, /*grad_outputs=*/{},
                                                   /*retain_graph=*/true, /*create_graph=*/true)[0];
  return grad.square().flatten(1).sum(1);
}

double r1_gamma_auto(int64_t resolution, int64_t batch) {
  TORCH_CHECK(resolution > 0 && batch > 0, "r1_gamma_auto: resolution ", resolution, " and batch ", batch,
              " must be positive");
  return 0.0002 * static_cast<double>(resolution) * static_cast<double>(resolution) /
         static_cast<double>(batch);
}

PathLengthPenalty::PathLengthPenalty(double decay)
    : decay_(decay), pl_mean_(torch::zeros({}, torch::kFloat)) {
  TORCH_CHECK(decay > 0 && decay <= 1, "PathLengthPenalty: decay must be in (0, 1], got ", decay);
}

torch::Tensor PathLengthPenalty::operator()(const torch::Tensor& images, const torch::Tensor& ws,
                                            const torch::Tensor& randn) {
  // images: [N, C, H, W]; ws: [N, num_ws, w_dim]
  TORCH_CHECK(images.dim() == 4, "PathLengthPenalty: images must be [N, C, H, W], got ", images.sizes());
  TORCH_CHECK(ws.dim() == 3 && ws.size(0) == images.size(0),
              "PathLengthPenalty: ws must be [N, num_ws, w_dim] with N = ", images.size(0), ", got ",
              ws.sizes());
  TORCH_CHECK(ws.requires_grad(), "PathLengthPenalty: ws must require grad");
  TORCH_CHECK(!randn.defined() || randn.sizes() == images.sizes(), "PathLengthPenalty: randn must be shaped as ",
              "the images ", images.sizes(), ", got ", randn.sizes());
  const torch::Tensor noise =
      (randn.defined() ? randn.to(images.options()) : draw_rows(images.size(0), [&](int64_t n) {
        auto shape = images.sizes().vec();
        shape[0] = n;
        return torch::randn(shape, images.options());
      })) / std::sqrt(static_cast<double>(images.size(2) * images.size(3)));
  const torch::Tensor grad = torch::autograd::grad({(images * noise).sum()}, {ws}, /*grad_outputs=*/{},
                                                   /*retain_graph=*/true, /*create_graph=*/true)[0];
  const torch::Tensor lengths = grad.square().sum(2).mean(1).sqrt();  // [N]
  if (pl_mean_.device() != lengths.device()) pl_mean_ = pl_mean_.to(lengths.device());
  // Not detached: the penalty's gradient also flows through a's share of this batch's mean length, as in
  // stylegan2-ada-pytorch (training/loss.py; about 1% of the gradient at decay 0.01).
  // The global batch's mean length in a data-parallel step (batch_shard.h; differentiable over the ranks).
  const auto* shard = active_batch_shard();
  const torch::Tensor batch_mean =
      shard == nullptr ? lengths.mean() : sum_over_shards(lengths.sum()) / static_cast<double>(shard->total);
  const torch::Tensor a = torch::lerp(pl_mean_.to(lengths.scalar_type()), batch_mean, decay_);
  pl_mean_ = a.detach().to(torch::kFloat);
  return (lengths - a).square();
}

void PathLengthPenalty::set_pl_mean(const torch::Tensor& a) {
  TORCH_CHECK(a.numel() == 1, "PathLengthPenalty::set_pl_mean: expected a scalar, got ", a.sizes());
  pl_mean_ = a.detach().to(torch::kFloat).reshape({}).clone();
}

}  // namespace vg
