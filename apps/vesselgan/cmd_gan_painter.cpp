// vesselgan gan train-painter: the painter of the label-first route (gan/painter.h), trained on the real
// (vessel map, photograph) crops of a data set.
#include <iostream>

#include "cli.h"
#include "dist_job.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/gan/painter_trainer.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct PainterFlags {
  std::string out, config;
  RunData run;
  int64_t steps = 0, batch = 0, resolution = 0, seed = -1;
  bool resume = false;
  ComputeFlags compute;
  DistFlags dist;
};

void run_train_painter(PainterFlags f) {
  const fs::path out(f.out);
  const auto run_json = out / "run.json";
  // Refused before anything is written.
  if (!f.resume && fs::exists(out / "checkpoints" / "last.pt"))
    throw UserError("run folder " + out.string() +
                    " already holds a painter run (pass --resume to continue it, or choose another --out)");
  if (f.resume) recall_run_data(run_json, f.run);
  if (f.run.data.empty()) throw UserError("--data is required (no earlier painter run in " + out.string() + " to resume)");
  PainterOptions o;
  if (!f.config.empty()) {
    from_json(config_section(f.config, "painter"), o);
  }
  if (f.steps > 0) o.steps = f.steps;
  if (f.batch > 0) o.batch = f.batch;
  if (f.resolution > 0) o.resolution = f.resolution;
  if (f.seed >= 0) o.seed = static_cast<uint64_t>(f.seed);
  validate(o);

  const DatasetFiles files = find_run_files(f.run);
  const std::vector<Sample> samples = load_samples(files, /*require_labels=*/true);
  std::cerr << "data: " << files.root.string() << " (" << files.layout << " layout, " << f.run.split
            << " split): " << samples.size() << " photographs with labels, " << o.resolution << " px crops\n";
  const auto device = rank_device(setup_compute(f.compute));
  const Collective world = join_job(f.dist, device);
  if (world.is_main()) {  // rank 0 alone writes the run folder
    fs::create_directories(out);
    write_run_data(run_json, f.run, files);
  }
  PainterRunControl control;
  control.resume = f.resume;
  const PainterTrainResult r =
      train_painter(samples, o, out, device, control, world.is_main() ? make_progress_printer() : ProgressFn(), world);
  if (!world.is_main()) return;  // rank 0 reports for the job
  std::cout << (r.finished ? "trained to step " : "stopped at step ") << r.steps_done << " in "
            << format_duration(r.seconds) << " (" << r.sec_per_step << " s/step), L1 " << r.l1 << "\n"
            << "last checkpoint: " << r.last.string() << "; samples: " << out.string() << "/samples-*.png\n";
}

}  // namespace

void add_gan_painter(CLI::App& gan) {
  auto f = std::make_shared<PainterFlags>();
  auto* cmd = gan.add_subcommand(
      "train-painter",
      "Train the painter of the label-first route: a conditional GAN that paints a photograph around a vessel map");
  cmd->add_option("--data", f->run.data, "data set folder with vessel labels (optional with --resume)");
  cmd->add_option("--out", f->out, "run folder (config.json, stats.jsonl, samples-*.png, checkpoints/)")->required();
  cmd->add_option("--config", f->config, "JSON file of painter options ({\"painter\": {...}} or the object itself)");
  cmd->add_option("--layout", f->run.layout, "data set layout (auto | drive | folder | ...)")->capture_default_str();
  cmd->add_option("--split", f->run.split, "which split's photographs to learn: train | test | all")->capture_default_str();
  cmd->add_option("--exclude", f->run.exclude, "sample ids to leave out, e.g. a segmenter's validation images")
      ->delimiter(',');
  cmd->add_option("--steps", f->steps, "training steps (default 4000)");
  cmd->add_option("--batch", f->batch, "crops per step (default 16)");
  cmd->add_option("--resolution", f->resolution, "crop side in pixels (default 64)");
  cmd->add_option("--seed", f->seed, "random seed");
  cmd->add_flag("--resume", f->resume, "continue the run in --out (it may be lengthened with --steps)");
  add_compute_flags(*cmd, f->compute);
  add_dist_flags(*cmd, f->dist);
  cmd->callback([f] { run_train_painter(*f); });
}

}  // namespace vg::cli
