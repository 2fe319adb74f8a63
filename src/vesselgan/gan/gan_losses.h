// StyleGAN2 losses and regularizers (Karras et al. 2020, "Analyzing and improving the image quality of
// StyleGAN"; defaults from "Training generative adversarial networks with limited data"): the non-saturating
// logistic loss (Goodfellow et al. 2014), the R1 gradient penalty (Mescheder et al. 2018) and the path length
// regularizer (StyleGAN2 sec. 3.2). The caller applies the lazy-regularization schedule and weights.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

// fake_logits: [N] or [N, 1] -> scalar mean softplus(-D(G(z))).
torch::Tensor generator_loss(const torch::Tensor& fake_logits);

// -> scalar mean softplus(D(G(z))) + mean softplus(-D(x)). The two logit tensors may differ in size.
torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits);

// R1 (Mescheder et al. 2018, eq. 9 without gamma / 2): per-sample ||d sum(real_logits) / d real_images||^2,
// shape [N], built with create_graph = true so it can be minimized. real_images: [N, ...] with
// requires_grad, the tensor real_logits was computed from (before the augmentation, which the caller wires in
// between). The graph of real_logits is retained.
torch::Tensor r1_penalty(const torch::Tensor& real_logits, const torch::Tensor& real_images);

// ADA's "auto" R1 weight: gamma = 0.0002 * resolution^2 / batch (e.g. 0.2048 at 256 with batch 64).
double r1_gamma_auto(int64_t resolution, int64_t batch);

// Path length regularization (StyleGAN2 sec. 3.2, eq. 4): E[(||J_w^T y|| - a)^2] with y ~ N(0, I) / sqrt(H W)
// and a the running mean of the lengths (exponential decay `decay`, starting from 0).
class PathLengthPenalty {
 public:
  explicit PathLengthPenalty(double decay = 0.01);

  // images: [N, C, H, W] generated from ws: [N, num_ws, w_dim] (ws requires grad). Draws y with
  // torch::randn_like(images) (the default generator of the images' device; or takes `randn`, a standard normal
  // draw of the images' shape, e.g. another implementation's, and divides it by sqrt(H W)) and measures the length per
  // sample as sqrt(mean over the num_ws rows of the squared norm over w_dim) of J^T y, so a broadcast w
  // counts once. Returns (length - a)^2, shape [N], differentiable (create_graph = true), and updates
  // a <- a + decay * (mean length - a) with the new a used in the penalty, as StyleGAN2 does; the penalty is
  // differentiated through that new a too (stylegan2-ada-pytorch does not detach it).
  torch::Tensor operator()(const torch::Tensor& images, const torch::Tensor& ws, const torch::Tensor& randn = {});

  torch::Tensor pl_mean() const { return pl_mean_; }  // scalar float, on the device of the last call
  void set_pl_mean(const torch::Tensor& a);           // resume; a scalar (any device)
  double decay() const { return decay_; }

 private:
  double decay_;
  torch::Tensor pl_mean_;
};

}  // namespace vg
