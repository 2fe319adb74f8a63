// The one place for LibTorch version differences (Debian's 1.13 on CPU, pip torch 2.x on the GPU machine).
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace vg {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline bool cuda_autocast_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
inline void set_cuda_autocast_enabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
inline at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
inline void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }
#else
inline bool cuda_autocast_enabled() { return at::autocast::is_enabled(); }
inline void set_cuda_autocast_enabled(bool on) { at::autocast::set_enabled(on); }
inline at::ScalarType cuda_autocast_dtype() { return at::autocast::get_autocast_gpu_dtype(); }
inline void set_cuda_autocast_dtype(at::ScalarType t) { at::autocast::set_autocast_gpu_dtype(t); }
#endif

// Mixed precision for the forward pass on CUDA (bf16 autocast); a no-op on CPU or when disabled.
// RAII: restores the previous state and clears the autocast weight cache when it goes out of scope.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, bool bf16) : active_(bf16 && device.is_cuda()) {
    if (!active_) return;
    prev_enabled_ = cuda_autocast_enabled();
    prev_dtype_ = cuda_autocast_dtype();
    set_cuda_autocast_enabled(true);
    set_cuda_autocast_dtype(at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_cuda_autocast_enabled(prev_enabled_);
    set_cuda_autocast_dtype(prev_dtype_);
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
  AutocastOff() : prev_(cuda_autocast_enabled()) {
    if (prev_) set_cuda_autocast_enabled(false);
  }
  ~AutocastOff() {
    if (prev_) set_cuda_autocast_enabled(true);
  }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool prev_;
};

}  // namespace vg
