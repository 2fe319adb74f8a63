// vesselgan train: SA-UNet on a labelled data set (validation held out of its training split).
#include <iostream>

#include "cli.h"
#include "dist_job.h"
#include "train_common.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/json_fields.h"

namespace vg::cli {

namespace {

struct TrainFlags {
  std::string data, out, preset = "drive", config, layout = "auto", loss, variant;
  int64_t epochs = 0, batch = 0, val_count = -1, resize = -1, pad_to = -1, refiner = -1;
  double lr = 0;
  int64_t seed = -1, split_seed = -1;
  bool resume = false, no_augment = false;
  ComputeFlags compute;
  DistFlags dist;
};

void run_train(const TrainFlags& f) {
  const std::filesystem::path out(f.out);
  // Precedence: preset < config file < flags (design.md).
  TrainOptions opt = train_preset(f.preset);
  if (!f.config.empty()) {
    from_json(config_section(f.config, "train"), opt);
  }
  if (f.epochs > 0) opt.schedule = {{f.epochs, f.lr > 0 ? f.lr : opt.schedule.front().lr}};
  else if (f.lr > 0) scale_schedule(opt, f.lr);
  if (f.batch > 0) opt.batch_size = f.batch;
  if (f.val_count >= 0) opt.val_count = f.val_count;
  if (f.resize >= 0) opt.input.resize = f.resize;
  if (f.pad_to >= 0) opt.input.pad_to = f.pad_to;
  if (f.seed >= 0) opt.seed = static_cast<uint64_t>(f.seed);
  if (f.split_seed >= 0) opt.split_seed = f.split_seed;
  if (!f.loss.empty()) opt.loss.kind = f.loss;
  if (!f.variant.empty()) opt.model.variant = f.variant;
  if (f.refiner >= 0) opt.model.refiner_channels = f.refiner;
  if (f.no_augment) opt.augment.enabled = false;

  const auto device = rank_device(setup_compute(f.compute));
  const Collective world = join_job(f.dist, device);
  const TrainOutcome r = train_on_data(f.data, f.layout, out, opt, device, f.resume, make_progress_printer(), world);
  if (!world.is_main()) return;  // rank 0 reports for the job
  std::cout << "trained " << r.result.epochs_done << " epochs in " << format_duration(r.result.seconds) << "; best epoch "
            << r.result.best_epoch << " (validation " << r.select << " " << r.result.best_score << ")\n"
            << "best model: " << r.result.best.string() << "\nlast model: " << r.result.last.string() << "\n"
            << "stats: " << (out / "stats.jsonl").string() << ", curves: " << (out / "curves.svg").string() << "\n";
}

}  // namespace

void add_train(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train SA-UNet on a labelled data set");
  cmd->add_option("--data", f->data, "data set folder (DRIVE layout or images/ labels/ masks/); "
                                     "optional with --resume")->check(CLI::ExistingDirectory);
  cmd->add_option("--out", f->out, "run folder (config.json, stats.jsonl, checkpoints/, curves.svg)")->required();
  cmd->add_option("--preset", f->preset, "starting recipe: drive (Guo et al. 2020) | quick")->capture_default_str();
  cmd->add_option("--config", f->config, "JSON file overriding the preset (a run's config.json works)");
  cmd->add_option("--layout", f->layout, "auto | drive | chase | stare | hrf | folder (photos has no labels to train on)")
      ->capture_default_str();
  cmd->add_option("--epochs", f->epochs, "one stage of N epochs at --lr (replaces the preset's schedule)");
  cmd->add_option("--lr", f->lr, "learning rate (with --epochs) or the schedule's first rate (scales the others)");
  cmd->add_option("--batch", f->batch, "batch size");
  cmd->add_option("--val-count", f->val_count, "training images held out for validation");
  cmd->add_option("--resize", f->resize, "longer side in pixels before padding (0 = native)");
  cmd->add_option("--pad-to", f->pad_to, "square canvas side (0 = next multiple of 8)");
  cmd->add_option("--seed", f->seed, "random seed");
  cmd->add_option("--split-seed", f->split_seed,
                  "seed of the train/validation split (default: --seed); runs that share it hold out the "
                  "same validation images");
  cmd->add_option("--loss", f->loss, "bce | dice | bce+dice");
  cmd->add_option("--variant", f->variant, "sa-unet | sd-unet (no attention) | unet (no DropBlock, no attention)");
  cmd->add_option("--refiner", f->refiner,
                  "cascade: base channels of a small U-Net that refines the SA-UNet's map from the photograph "
                  "and that map (W-Net style; 0 = none, the seed's SA-UNet)");
  cmd->add_flag("--no-augment", f->no_augment, "train without online augmentation");
  cmd->add_flag("--resume", f->resume, "continue the run in --out where it stopped (no-op if it finished)");
  add_compute_flags(*cmd, f->compute);
  add_dist_flags(*cmd, f->dist);
  cmd->callback([f] { run_train(*f); });
}

}  // namespace vg::cli
