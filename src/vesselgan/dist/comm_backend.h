// The one place for the differences between LibTorch builds in torch.distributed's C++ engine (c10d):
// Debian's 1.13 (CPU; Gloo is a ProcessGroup) and pip torch 2.x (CUDA; Gloo and NCCL are Backends of a
// ProcessGroup). Included by collective.cpp alone, compiled with USE_C10D_GLOO + VG_WITH_GLOO where Gloo's
// headers exist and USE_C10D_NCCL + VG_WITH_NCCL where the LibTorch has CUDA and NCCL's header exists.
#pragma once
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef VG_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef VG_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace vg {

// What ProcessGroupGloo and ProcessGroupNCCL derive from: the type that runs collectives.
#if TORCH_VERSION_MAJOR >= 2
using CommBackend = c10d::Backend;
#else
using CommBackend = c10d::ProcessGroup;
#endif

constexpr bool kBuildHasGloo =
#ifdef VG_WITH_GLOO
    true;
#else
    false;
#endif

constexpr bool kBuildHasNccl =
#ifdef VG_WITH_NCCL
    true;
#else
    false;
#endif

}  // namespace vg
