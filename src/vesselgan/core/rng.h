// Seeding and saving/restoring random-number state, so training runs are repeatable and resume exactly.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

// splitmix64's finalizer: decorrelates neighbouring seeds (seed, seed + 1, or seed ^ index) before they seed a
// generator.
uint64_t mix_seed(uint64_t x);

// Seeds LibTorch's default CPU generator and, where present, the CUDA ones.
void seed_everything(uint64_t seed);

// The default generator state of `device` as a uint8 tensor (CPU), and its inverse.
torch::Tensor rng_state(const torch::Device& device);
void set_rng_state(const torch::Device& device, const torch::Tensor& state);

}  // namespace vg
