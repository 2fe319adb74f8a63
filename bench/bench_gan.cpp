// StyleGAN2-ADA training speed: one JSON line per preset with seconds per kimg (thousand real images shown to
// D) and peak memory, measured by the real trainer (all phases: G main, path length, D main, lazy R1, ADA,
// EMA) on phantom photographs. The first tick (warm-up: allocator, oneDNN / cuDNN autotuning) is excluded.
// Usage: bench_gan [--device cpu|cuda] [--preset toy[,toy64,...]] [--ticks 3] [--tick-kimg K] [--batch B]
//                  [--threads N] [--ada ada|off]
#include <unistd.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vesselgan/core/device.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/seg/sa_unet.h"

namespace {

namespace fs = std::filesystem;

struct Flags {
  std::string device = "cpu";
  std::vector<std::string> presets = {"toy"};
  int ticks = 3;
  double tick_kimg = 0;  // 0: about 8 steps per tick
  int64_t batch = 0;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  std::string ada = "ada";
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench_gan: " << why
            << "\nusage: bench_gan [--device cpu|cuda] [--preset P[,P...]] [--ticks N] [--tick-kimg K] [--batch B]"
               " [--threads N] [--ada ada|off]\n";
  std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    try {
      if (a == "--device") f.device = v;
      else if (a == "--preset") f.presets = split(v);
      else if (a == "--ticks") f.ticks = std::stoi(v);
      else if (a == "--tick-kimg") f.tick_kimg = std::stod(v);
      else if (a == "--batch") f.batch = std::stoll(v);
      else if (a == "--threads") f.threads = std::stoi(v);
      else if (a == "--ada") f.ada = v;
      else usage("unknown flag " + a);
    } catch (const std::invalid_argument&) {
      usage("bad value " + v + " for " + a);
    }
  }
  if (f.ticks < 2) usage("--ticks must be >= 2 (the first is warm-up)");
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse(argc, argv);
  const torch::Device device = vg::resolve_device(f.device);
  vg::set_threads(f.threads);
  vg::configure_backend(device);
  const fs::path scratch = fs::temp_directory_path() / ("bench_gan_" + std::to_string(::getpid()));

  for (const auto& name : f.presets) {
    vg::GanTrainOptions o = vg::gan_preset(name);
    if (f.batch > 0) {
      o.batch = f.batch;
      o.discriminator.mbstd_group = std::min<int64_t>(o.discriminator.mbstd_group, f.batch);
      o.pl_batch_shrink = std::min<int64_t>(o.pl_batch_shrink, f.batch);
    }
    o.ada.mode = f.ada;
    if (f.ada == "ada") o.ada.p = 0.5;  // augmentation cost included, as in a run that needs it
    o.tick_kimg = f.tick_kimg > 0 ? f.tick_kimg : o.batch * 8 / 1000.0;
    o.kimg = o.tick_kimg * f.ticks;
    o.snapshot_kimg = o.kimg;  // one snapshot at the end, outside the timed ticks
    vg::finalize(o);

    // Phantom photographs at the preset's scale: full modes see them resized, patch modes crop them.
    vg::PhantomOptions po;
    po.size = vg::is_patch_mode(o) ? std::max<int64_t>(2 * o.resolution, 256) : std::max<int64_t>(o.resolution, 64);
    std::vector<vg::Sample> data;
    for (int i = 0; i < 8; ++i) {
      auto p = vg::make_phantom(po, 1000 + i);
      data.push_back(vg::Sample{std::to_string(i), p.image, p.label, p.mask, true});
    }
    fs::remove_all(scratch);
    const auto r = vg::train_gan(data, o, scratch, device);
    const auto rows = vg::read_jsonl(scratch / "stats.jsonl");
    std::vector<double> spk;
    for (size_t i = 1; i < rows.size(); ++i) spk.push_back(rows[i]["sec_per_kimg"].get<double>());
    std::sort(spk.begin(), spk.end());
    vg::GanModels m(o);
    nlohmann::json j = {{"bench", "gan_train"},
                        {"preset", name},
                        {"mode", o.mode},
                        {"resolution", o.resolution},
                        {"batch", o.batch},
                        {"ada", o.ada.mode},
                        {"device", device.str()},
                        {"threads", f.threads},
                        {"torch", TORCH_VERSION},
                        {"g_params", vg::count_parameters(*m->G)},
                        {"d_params", vg::count_parameters(*m->D)},
                        {"ticks_timed", spk.size()},
                        {"sec_per_kimg_median", spk.empty() ? 0.0 : spk[spk.size() / 2]},
                        {"sec_per_kimg_min", spk.empty() ? 0.0 : spk.front()},
                        {"peak_rss_mib", rows.empty() ? 0.0 : rows.back()["peak_rss_mib"].get<double>()},
                        {"total_seconds", r.seconds}};
    std::cout << j.dump() << std::endl;
  }
  fs::remove_all(scratch);
  return 0;
}
