// Adam for a network whose regularizer runs lazily, every `interval` minibatches (Karras et al. 2020, "Analyzing
// and improving the image quality of StyleGAN", App. B "lazy regularization"): the main loss and the
// regularizer step the same optimizer, and its learning rate and betas are scaled by c = interval /
// (interval + 1) so the combined steps behave like the non-lazy optimizer. stylegan2-ada-pytorch
// (training/training_loop.py) applies c to every network that has a regularization interval, G (4) and D (16),
// also when G's path-length weight is 0, and steps Adam with eps 1e-8.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

// lr * c and betas (beta1^c, beta2^c), eps 1e-8, with c = interval / (interval + 1); interval <= 0: no lazy
// regularizer, c = 1.
torch::optim::AdamOptions lazy_adam_options(double lr, double beta1, double beta2, int64_t interval);

}  // namespace vg
