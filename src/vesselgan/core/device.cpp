#include "vesselgan/core/device.h"

#include <malloc.h>

#include <climits>
#include <thread>

#include "vesselgan/core/error.h"

namespace vg {

torch::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw UserError("device '" + spec + "' requested but CUDA is not available (valid here: auto, cpu)");
    int index = 0;
    if (spec.size() > 5) {
      try {
        index = std::stoi(spec.substr(5));
      } catch (const std::exception&) {
        throw UserError("bad device '" + spec + "' (valid: auto, cpu, cuda, cuda:N)");
      }
    }
    if (index < 0 || index >= static_cast<int>(torch::cuda::device_count()))
      throw UserError("device '" + spec + "' does not exist (this machine has " +
                      std::to_string(torch::cuda::device_count()) + " CUDA devices)");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw UserError("bad device '" + spec + "' (valid: auto, cpu, cuda, cuda:N)");
}

int set_threads(int n) {
  if (n < 0) throw UserError("bad --threads " + std::to_string(n) + " (valid: 0 for all cores, or a positive count)");
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(n);
  return torch::get_num_threads();
}

void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

void configure_backend(const torch::Device& device) {
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
}

}  // namespace vg
