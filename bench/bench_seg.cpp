// SA-UNet throughput: one JSON line per configuration.
//   train: forward + backward + Adam step on random input with the bce+dice loss (as the Python peer
//          shared/bench/sa_unet_reference.py), warmup steps excluded from the timing;
//   infer: eval mode under NoGradGuard.
// CPU runs in fp32; CUDA runs under bf16 autocast with channels_last tensors (the peer's fast variant).
// Usage: bench_seg [--device cpu|cuda] [--size 592] [--batch 1,2] [--steps 3] [--warmup 1]
//                  [--threads N] [--mode train|infer|both] [--malloc keep|default]
//
// --malloc keep (default) tells glibc to serve large blocks from the heap and keep freed memory mapped, so
// that a step reuses the previous step's pages instead of mapping fresh ones: on the sandboxed CPU machine a
// first touch costs ~2 ms per MB (a fresh 45 MB activation: ~100 ms), several times the compute of the
// layer that fills it. The printed JSON says which setting ran.
#include <malloc.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vesselgan/core/compat.h"
#include "vesselgan/core/device.h"
#include "vesselgan/seg/losses.h"
#include "vesselgan/seg/sa_unet.h"

namespace {

struct Flags {
  std::string device = "cpu";
  int64_t size = 592;
  std::vector<int64_t> batches = {1, 2};
  int steps = 3;
  int warmup = 1;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  std::string mode = "both";
  std::string malloc_policy = "keep";
};

const char* const kUsage =
    "usage: bench_seg [--device cpu|cuda] [--size S] [--batch B[,B...]] [--steps N] [--warmup N]"
    " [--threads N] [--mode train|infer|both] [--malloc keep|default]\n";

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench_seg: " << why << "\n" << kUsage;
  std::exit(2);
}

int64_t to_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used != v.size() || x < 0) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    usage(flag + " expects a non-negative integer, got '" + v + "'");
  }
}

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << "bench_seg: SA-UNet training and inference throughput, one JSON line per configuration\n"
                << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--device") {
      f.device = v;
    } else if (a == "--size") {
      f.size = to_int(a, v);
    } else if (a == "--batch") {
      f.batches.clear();
      std::stringstream ss(v);
      for (std::string item; std::getline(ss, item, ',');) f.batches.push_back(to_int(a, item));
    } else if (a == "--steps") {
      f.steps = static_cast<int>(to_int(a, v));
    } else if (a == "--warmup") {
      f.warmup = static_cast<int>(to_int(a, v));
    } else if (a == "--threads") {
      f.threads = static_cast<int>(to_int(a, v));
    } else if (a == "--mode") {
      f.mode = v;
    } else if (a == "--malloc") {
      f.malloc_policy = v;
    } else {
      usage("unknown flag " + a);
    }
  }
  if (f.device != "cpu" && f.device != "cuda") usage("--device must be cpu or cuda");
  if (f.mode != "train" && f.mode != "infer" && f.mode != "both")
    usage("--mode must be train, infer or both");
  if (f.malloc_policy != "keep" && f.malloc_policy != "default") usage("--malloc must be keep or default");
  if (f.size < 8 || f.size % 8 != 0) usage("--size must be a positive multiple of 8");
  if (f.batches.empty() || f.steps < 1 || f.threads < 1) usage("--batch, --steps and --threads must be >= 1");
  for (int64_t b : f.batches)
    if (b < 1) usage("--batch sizes must be >= 1");
  return f;
}


void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

nlohmann::json common(const Flags& f, const torch::Device& device, int64_t batch, const char* mode) {
  const bool cuda = device.is_cuda();
  return {
      {"impl", "vesselgan-libtorch-cpp"},
      {"mode", mode},
      {"batch", batch},
      {"size", f.size},
      {"bf16", cuda},
      {"channels_last", true},  // CPU: SAUNet runs channels-last internally; CUDA: model and input converted
      {"device",
       cuda ? std::string("cuda") : "cpu x" + std::to_string(torch::get_num_threads()) + " threads"},
      {"malloc", f.malloc_policy},
      {"torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                    std::to_string(TORCH_VERSION_PATCH)}};
}

template <typename Step>
double seconds_per_step(const Flags& f, const torch::Device& device, Step step) {
  for (int i = 0; i < f.warmup; ++i) step();
  sync(device);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < f.steps; ++i) step();
  sync(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / f.steps;
}

nlohmann::json bench(const Flags& f, const torch::Device& device, int64_t batch, bool train) {
  torch::manual_seed(0);
  const bool cuda = device.is_cuda();
  const auto format = cuda ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  vg::SAUNet net(vg::SAUNetOptions{});
  net->to(device);
  if (cuda) {
    // channels_last parameters, as the peer's net.to(memory_format=torch.channels_last)
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  const auto opts = torch::TensorOptions().device(device);
  const torch::Tensor x = torch::rand({batch, 3, f.size, f.size}, opts).contiguous(format);
  const torch::Tensor t = (torch::rand({batch, 1, f.size, f.size}, opts) > 0.88).to(torch::kFloat);
  double dt = 0.0;
  if (train) {
    net->train();
    torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
    const vg::LossOptions loss_opt;  // bce+dice, as the peer
    dt = seconds_per_step(f, device, [&] {
      adam.zero_grad();
      torch::Tensor logits;
      {
        vg::AutocastGuard autocast(device, true);
        logits = net->forward(x);
      }
      vg::segmentation_loss(logits, t, loss_opt).backward();
      adam.step();
    });
  } else {
    net->eval();
    torch::NoGradGuard no_grad;
    dt = seconds_per_step(f, device, [&] {
      vg::AutocastGuard autocast(device, true);
      net->forward(x);
    });
  }
  nlohmann::json j = common(f, device, batch, train ? "train" : "infer");
  j["steps"] = f.steps;
  j["ms_per_step"] = std::round(dt * 1e5) / 100.0;
  j["images_per_s"] = std::round(static_cast<double>(batch) / dt * 1000.0) / 1000.0;
  // Process-wide peak so far (getrusage): inference runs first, in ascending batch order, so its figure is
  // the peak of that configuration; training figures include everything before them.
  j["process_peak_rss_mb"] = std::round(peak_rss_mb());
  j["cuda_peak_memory_mb"] = "n/a";
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse(argc, argv);
  if (f.malloc_policy == "keep") {
    vg::keep_freed_memory();
  }
  torch::set_num_threads(f.threads);
  if (f.device == "cuda" && !torch::cuda::is_available())
    usage("--device cuda, but no CUDA device is available");
  const torch::Device device(f.device == "cuda" ? torch::kCUDA : torch::kCPU);
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
  try {
    if (f.mode != "train")
      for (int64_t b : f.batches) std::cout << bench(f, device, b, /*train=*/false).dump() << std::endl;
    if (f.mode != "infer")
      for (int64_t b : f.batches) std::cout << bench(f, device, b, /*train=*/true).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench_seg: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
