// Device and thread choice, made once from user-facing strings.
#pragma once
#include <torch/torch.h>

#include <string>

namespace vg {

// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". UserError for anything else or for
// CUDA on a machine without it.
torch::Device resolve_device(const std::string& spec);

// Sets LibTorch's intra-op threads: n > 0 as given, n == 0 all cores (Debian's LibTorch starts with 1).
// Returns the number in effect.
int set_threads(int n);

// Keeps freed memory in the process (glibc malloc: no fresh mmap per large block, no trimming). CPU
// training allocates the same large activations every step; on fresh pages each MB costs ~2 ms to fault in,
// which more than halved throughput when measured (bench_seg --malloc default vs keep). Call once at start.
void keep_freed_memory();

// Enables the per-device speed settings (cudnn benchmark on CUDA); nothing on CPU.
void configure_backend(const torch::Device& device);

}  // namespace vg
