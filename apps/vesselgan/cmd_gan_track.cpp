// vesselgan gan track: one row of figures per snapshot of a GAN run (gan/snapshot_metrics.h), appended to the
// run's snapshot_metrics.jsonl and printed as a table, so a recipe's progress is read from numbers beside its
// fakes grids. Snapshots already measured are skipped, so it can be rerun while the run trains.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

#include "cli.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/snapshot_metrics.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct GanTrackFlags {
  std::string run, features;
  SnapshotMetricsOptions options;
  ComputeFlags compute;
};

// The run's recipe, from its config.json.
GanTrainOptions run_options(const fs::path& run) {
  const auto path = run / "config.json";
  if (!fs::exists(path)) throw UserError("--run " + run.string() + " is not a GAN run folder (no config.json)");
  auto j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (j.is_discarded() || !j.contains("gan")) throw UserError(path.string() + " is not a GAN run's config (no \"gan\" section)");
  GanTrainOptions o = j["gan"].get<GanTrainOptions>();
  finalize(o);
  return o;
}

// The run's snapshots in the order of their kimg (their names sort that way).
std::vector<fs::path> snapshots_of(const fs::path& run) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(run / "snapshots", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".pt" && it->path().filename().string().rfind("snapshot-", 0) == 0)
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

// The tick row of stats.jsonl at `kimg` (empty when there is none), for D's logits and ADA's p beside the row.
nlohmann::json tick_at(const fs::path& run, double kimg) {
  if (!fs::exists(run / "stats.jsonl")) return {};
  for (const auto& row : read_jsonl(run / "stats.jsonl"))
    if (std::abs(row.value("kimg", -1.0) - kimg) < 1e-6) return row;
  return {};
}

void print_row(const nlohmann::json& r) {
  const auto& fake = r["fake"];
  const auto& real = r["real"];
  std::printf("%9.3f  FD %7.2f (floor %5.2f)  diversity %.2f feat / %.2f px", r["kimg"].get<double>(),
              r["fd"].get<double>(), r["fd_floor"].get<double>(), r["diversity_features"].get<double>(),
              r["diversity_pixels"].get<double>());
  if (fake.contains("vessel_fraction"))
    std::printf("  vessels %.3f [%.3f, %.3f] (real %.3f [%.3f, %.3f])", fake["vessel_fraction"].get<double>(),
                fake["vessel_fraction_p05"].get<double>(), fake["vessel_fraction_p95"].get<double>(),
                real["vessel_fraction"].get<double>(), real["vessel_fraction_p05"].get<double>(),
                real["vessel_fraction_p95"].get<double>());
  if (r.contains("orientation_distance"))
    std::printf("  orientation %.3f (floor %.3f)", r["orientation_distance"].get<double>(),
                r["orientation_floor"].get<double>());
  if (r.contains("logits_real"))
    std::printf("  logits %+.2f / %+.2f", r["logits_real"].get<double>(), r["logits_fake"].get<double>());
  std::printf("\n");
}

void run_gan_track(const GanTrackFlags& f) {
  validate(f.options);
  const fs::path run(f.run);
  const GanTrainOptions opt = run_options(run);
  RunData data;
  recall_run_data(run / "run.json", data);
  if (data.data.empty()) throw UserError("--run " + run.string() + " has no run.json naming its data");
  const auto samples = load_samples(find_run_files(data), learns_labels(opt) || opt.patch_vessel_bias > 0);
  const auto device = setup_compute(f.compute);
  auto net = make_feature_network(f.features, device);

  // Two independent real samples as D sees them (before augmentation), drawn from the row's seed.
  seed_everything(f.options.seed + 1);
  GanImageSource reals(samples, opt, torch::kCPU);
  const auto real_a = reals.batch(f.options.count), real_b = reals.batch(f.options.count);
  const RealReference reference = real_reference(real_a, real_b, *net, f.options.batch);

  const auto out = run / "snapshot_metrics.jsonl";
  std::set<std::string> done;
  if (fs::exists(out))
    for (const auto& row : read_jsonl(out)) done.insert(row.value("snapshot", ""));
  for (const auto& snap : snapshots_of(run)) {
    nlohmann::json row;
    if (done.count(snap.filename().string())) {
      for (const auto& r : read_jsonl(out))
        if (r.value("snapshot", "") == snap.filename().string()) row = r;
    } else {
      const LoadedGenerator g = load_generator(snap, device);
      row = snapshot_metrics(g, reference, *net, f.options, device);
      row["snapshot"] = snap.filename().string();
      row["options"] = f.options;
      const auto tick = tick_at(run, row["kimg"].get<double>());
      for (const char* k : {"logits_real", "logits_fake", "loss_g", "loss_d", "augment_p", "sec_per_kimg"})
        if (tick.contains(k)) row[k] = tick[k];
      append_jsonl(out, row);
    }
    print_row(row);
  }
}

}  // namespace

void add_gan_track(CLI::App& gan) {
  auto f = std::make_shared<GanTrackFlags>();
  auto* cmd = gan.add_subcommand(
      "track", "Figures per snapshot of a GAN run: Frechet distance with its floor, diversity, vessel fraction");
  cmd->add_option("--run", f->run, "GAN run folder (rows go to RUN/snapshot_metrics.jsonl)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--count", f->options.count, "images per side")->capture_default_str();
  cmd->add_option("--truncation", f->options.truncation, "psi of the samples")->capture_default_str();
  cmd->add_option("--seed", f->options.seed, "latents of the samples and the real draws")->capture_default_str();
  cmd->add_option("--features", f->features,
                  "feature network: sa-unet:CKPT | torchscript:FILE | color-stats (default: the shipped SA-UNet)");
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_gan_track(*f); });
}

}  // namespace vg::cli
