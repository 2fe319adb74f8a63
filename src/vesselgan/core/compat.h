// The one place for LibTorch version differences (Debian's 1.13 on CPU, pip torch 2.x on the GPU machine).
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace vg {

// Mixed precision for the forward pass on CUDA (bf16 autocast); a no-op on CPU or when disabled.
// RAII: restores the previous state and clears the autocast weight cache when it goes out of scope.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, bool bf16) : active_(bf16 && device.is_cuda()) {
    if (!active_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    prev_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    prev_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
    prev_enabled_ = at::autocast::is_enabled();
    prev_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, prev_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, prev_dtype_);
#else
    at::autocast::set_enabled(prev_enabled_);
    at::autocast::set_autocast_gpu_dtype(prev_dtype_);
#endif
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kFloat;
};

// Turns CUDA autocast off for a scope (restoring it after): for computations whose precision matters inside
// an autocast region, e.g. sampling coordinates, where bf16's 8-bit mantissa is half a pixel at 256 px.
class AutocastOff {
 public:
  AutocastOff() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    prev_ = at::autocast::is_autocast_enabled(at::kCUDA);
    if (prev_) at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    prev_ = at::autocast::is_enabled();
    if (prev_) at::autocast::set_enabled(false);
#endif
  }
  ~AutocastOff() {
    if (!prev_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    at::autocast::set_enabled(true);
#endif
  }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool prev_ = false;
};

}  // namespace vg
