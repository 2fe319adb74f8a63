#include "cli.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "vesselgan/core/device.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/eval/operating_point.h"

namespace vg::cli {

void add_compute_flags(CLI::App& cmd, ComputeFlags& f) {
  cmd.add_option("--device", f.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd.add_option("--threads", f.threads, "CPU threads (0 = all cores)")->capture_default_str();
}

void add_operating_point_flags(CLI::App& cmd, OperatingPointFlags& f) {
  cmd.add_option("--operating-point", f.rule,
                 "each photograph's threshold from its own map: fixed (0.5) | expected-count (as many pixels above "
                 "it as the map's summed probability times --count-ratio); the map is remapped so it falls on 0.5 "
                 "(default: the rule the model records, `calibrate --operating-point`, else fixed)")
      ->check([](const std::string& v) {
        try {
          check_operating_point_rule(v, "value");
        } catch (const UserError& e) {
          return std::string(e.what());
        }
        return std::string();
      })
      ->capture_default_str();
  cmd.add_option("--count-ratio", f.count_ratio,
                 "with --operating-point expected-count: the network's pixels above 0.5 over its summed "
                 "probability on its training camera's photographs (0: the ratio the model records, "
                 "`calibrate --count-ratio`, else 1; 1: the sum as it is)")
      ->check([](const std::string& v) {
        try {
          if (std::stod(v) >= 0) return std::string();
        } catch (const std::exception&) {
        }
        return "value " + v + " is not a number >= 0";
      })
      ->capture_default_str();
}

void resolve_operating_point(const OperatingPointFlags& f, const Segmenter& seg, PredictOptions& popt) {
  popt.operating_point = seg.resolve_operating_point(f.rule);
  popt.count_ratio = seg.resolve_count_ratio(f.count_ratio);
}

nlohmann::json config_section(const std::string& path, const std::string& section) {
  if (!std::filesystem::exists(path)) throw UserError("--config " + path + " does not exist (give a JSON file)");
  const auto j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (j.is_discarded()) throw UserError("--config " + path + " is not valid JSON");
  if (!j.is_object()) throw UserError("--config " + path + " is not a JSON object of options");
  return j.contains(section) ? j.at(section) : j;
}

torch::Device setup_compute(const ComputeFlags& f) {
  keep_freed_memory();
  const auto device = resolve_device(f.device);
  const int threads = set_threads(f.threads);
  configure_backend(device);
  std::cerr << "device: " << device.str() << (device.is_cpu() ? " (" + std::to_string(threads) + " threads)" : "")
            << "\n";
  return device;
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<long>(std::lround(s));
  char buf[32];
  if (t < 60) std::snprintf(buf, sizeof buf, "%lds", t);
  else if (t < 3600) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  return buf;
}

namespace {

std::string scalars_text(const Progress& p) {
  std::ostringstream ss;
  for (const auto& [k, v] : p.scalars) {
    if (k == "epoch") continue;
    char buf[64];
    if (k == "lr") std::snprintf(buf, sizeof buf, " %s %.1e", k.c_str(), v);
    else std::snprintf(buf, sizeof buf, " %s %.4f", k.c_str(), v);
    ss << buf;
  }
  return ss.str();
}

}  // namespace

ProgressFn make_progress_printer() {
  const bool tty = ::isatty(STDERR_FILENO);
  auto last_line = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto bar_shown = std::make_shared<bool>(false);
  return [tty, last_line, bar_shown](const Progress& p) {
    const double frac = p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(p.total) : 0.0;
    const double eta = eta_seconds(p);
    if (p.stage == "pipeline") {  // a stage starts or is skipped
      if (*bar_shown) std::cerr << "\r\033[K";
      *bar_shown = false;
      std::cerr << "== " << p.message << std::endl;
      return;
    }
    if (p.stage == "epoch" || p.stage == "tick") {  // a line worth keeping
      if (*bar_shown) std::cerr << "\r\033[K";
      *bar_shown = false;
      std::cerr << p.stage << " " << p.done << "/" << p.total << (p.stage == "epoch" ? "" : " " + p.unit)
                << scalars_text(p) << "  [" << format_duration(p.elapsed_s)
                << " elapsed, ETA " << format_duration(eta) << "]" << (p.message.empty() ? "" : "  " + p.message)
                << std::endl;
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (tty) {
      const int width = 24;
      const int filled = static_cast<int>(frac * width);
      std::string bar(filled, '#');
      bar += std::string(width - filled, '.');
      std::cerr << "\r\033[K" << p.stage << " [" << bar << "] " << p.done << "/" << p.total << " " << p.unit << "s"
                << scalars_text(p) << "  ETA " << format_duration(eta) << std::flush;
      *bar_shown = true;
    } else if (std::chrono::duration<double>(now - *last_line).count() >= 10.0 || p.done == p.total) {
      std::cerr << p.stage << " " << p.done << "/" << p.total << " " << p.unit << "s" << scalars_text(p) << "  ETA "
                << format_duration(eta) << std::endl;
      *last_line = now;
    }
  };
}

}  // namespace vg::cli
