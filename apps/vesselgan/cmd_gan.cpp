// vesselgan gan train | generate (| metrics, in cmd_gan_metrics.cpp): StyleGAN2-ADA on fundus photographs.
#include <iostream>

#include "cli.h"
#include "dist_job.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/gan_trainer.h"
#include "vesselgan/gan/grow_networks.h"
#include "vesselgan/gan/sampler.h"
#include "vesselgan/gan/whole_photograph.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct GanTrainFlags {
  std::string out, preset = "toy", config, mode, ada;
  RunData run;
  DistFlags dist;
  int64_t resolution = 0, batch = 0, seed = -1;
  double kimg = 0, snapshot_kimg = 0, r1_gamma = -2, target = -1, ada_speed = -1, ada_p = -1;
  std::string resume, init;
  bool resume_given = false, no_mirror = false, grow = false;
  ComputeFlags compute;
};

GanTrainOptions resolve_options(const GanTrainFlags& f) {
  // Precedence: preset < config file < flags (design.md).
  GanTrainOptions opt = gan_preset(f.preset);
  if (!f.config.empty()) {
    from_json(config_section(f.config, "gan"), opt);
  }
  if (f.resolution > 0) opt.resolution = f.resolution;
  if (!f.mode.empty()) opt.mode = f.mode;
  if (f.kimg > 0) opt.kimg = f.kimg;
  if (f.batch > 0) {
    opt.batch = f.batch;
    opt.discriminator.mbstd_group = std::min<int64_t>(opt.discriminator.mbstd_group, f.batch);
    opt.pl_batch_shrink = std::min<int64_t>(opt.pl_batch_shrink, f.batch);
  }
  if (f.seed >= 0) opt.seed = static_cast<uint64_t>(f.seed);
  if (f.snapshot_kimg > 0) opt.snapshot_kimg = f.snapshot_kimg;
  if (f.r1_gamma >= -1) opt.r1_gamma = f.r1_gamma;
  if (!f.ada.empty()) opt.ada.mode = f.ada;
  if (f.target >= 0) opt.ada.target = f.target;
  if (f.ada_speed >= 0) opt.ada.speed_kimg = f.ada_speed;
  if (f.ada_p >= 0) {
    opt.ada.p = f.ada_p;
    if (f.ada.empty()) opt.ada.mode = "fixed";  // a p given alone is a fixed p
  }
  if (f.no_mirror) opt.mirror = false;
  finalize(opt);
  return opt;
}

void run_gan_train(GanTrainFlags f) {
  const fs::path out(f.out);
  const auto run_json = out / "run.json";
  GanRunControl control;
  // Refused before anything is written: a refused command must leave the existing run's run.json alone.
  if (!f.resume_given && fs::exists(out / "checkpoints" / "last.pt"))
    throw UserError("run folder " + out.string() +
                    " already holds a GAN run (pass --resume to continue it, or choose another --out)");
  if (f.resume_given) {
    control.resume_from = f.resume.empty() ? out : fs::path(f.resume);
    recall_run_data(run_json, f.run);
  }
  if (f.run.data.empty()) throw UserError("--data is required (no earlier GAN run in " + out.string() + " to resume)");
  // On resume the checkpoint's recipe runs (only --kimg may lengthen it): the data and the header follow it.
  GanTrainOptions asked = resolve_options(f);
  if (f.resume_given) asked.kimg = f.kimg;  // a preset's length must not lengthen a resumed run unasked
  GanTrainOptions opt = gan_recipe_to_run(asked, out, control);
  if (f.grow && f.init.empty()) throw UserError("--grow needs --init (the lower-resolution run to grow from)");
  if (!f.init.empty() && !f.resume_given) {
    control.init_from = f.init;
    control.grow = f.grow;
    if (f.grow)
      check_growable(f.init, opt);
    else
      opt = with_networks_of(f.init, opt);
  }

  const DatasetFiles files = find_run_files(f.run);
  const std::vector<Sample> samples = load_samples(files, /*require_labels=*/learns_labels(opt) ||
                                                              (is_patch_mode(opt) && opt.patch_vessel_bias > 0));
  std::cerr << "data: " << files.root.string() << " (" << files.layout << " layout, " << f.run.split
            << " split): " << samples.size() << " photographs, mode " << opt.mode << " at " << opt.resolution
            << "x" << opt.resolution << "\n";
  const auto device = rank_device(setup_compute(f.compute));
  const Collective world = join_job(f.dist, device);
  if (world.is_main()) {  // rank 0 alone writes the run folder
    fs::create_directories(out);
    write_run_data(run_json, f.run, files);
    GanModels probe(opt);
    std::cerr << "networks: G " << count_parameters(*probe->G) << " parameters, D " << count_parameters(*probe->D)
              << " parameters; " << opt.kimg << " kimg, batch " << opt.batch << ", ADA " << opt.ada.mode << "\n";
  }
  const GanTrainResult r =
      train_gan(samples, opt, out, device, control, world.is_main() ? make_progress_printer() : ProgressFn(), world);
  if (!world.is_main()) return;  // rank 0 reports for the job
  std::cout << (r.finished ? "trained to " : "stopped at ") << r.kimg_done << " kimg (" << r.steps_done
            << " steps) in " << format_duration(r.seconds) << ", " << r.sec_per_kimg << " s/kimg\n"
            << "last checkpoint: " << r.last.string() << "\n"
            << "stats: " << (out / "stats.jsonl").string() << ", fakes: " << out.string() << "/fakes-*.png\n";
}

struct GanExportFlags {
  std::string model, out, painter, maps = "stylegan2";
  int64_t size = 128;
};

void run_gan_export(const GanExportFlags& f) {
  const fs::path out(f.out);
  if (fs::exists(out)) throw UserError("--out " + out.string() + " exists already (choose another name; nothing was written)");
  if (f.maps == "procedural") {
    if (f.painter.empty() || !f.model.empty())
      throw UserError("--maps procedural takes a --painter and no --model (the maps come from procedural trees)");
    export_procedural_generator(f.painter, f.size, ProceduralMapOptions{}, out);
    std::cout << "wrote a label-first generator (procedural maps of " << f.size << " px, the painter of "
              << f.painter << ") to " << out.string() << " (" << fs::file_size(out) / 1024 << " KiB)\n";
    return;
  }
  if (f.model.empty()) throw UserError("--model is required (a GAN run folder or checkpoint), unless --maps procedural");
  const fs::path from = export_generator(f.model, out, f.painter);
  std::cout << "wrote the generator of " << from.string() << (f.painter.empty() ? "" : " with the painter of " + f.painter)
            << " to " << out.string() << " ("
            << fs::file_size(out) / 1024 << " KiB)\n";
}

struct GanGenerateFlags {
  std::string model, out;
  GenerateOptions gen;
  int64_t seed = 0;
  bool whole = false;
  WholeOptions whole_options;
  ComputeFlags compute;
};

void run_gan_generate(const GanGenerateFlags& f) {
  GenerateOptions o = f.gen;
  o.seed = static_cast<uint64_t>(f.seed);
  if (!f.whole && f.whole_options.appearance.wide)
    throw UserError("--appearance varies whole photographs: it goes with --whole");
  if (!f.whole && !f.whole_options.texture) throw UserError("--no-texture is for whole photographs: it goes with --whole");
  validate(o);
  const auto device = setup_compute(f.compute);
  const fs::path model = f.model.empty() ? shipped_model(kShippedGenerator) : fs::path(f.model);
  const LoadedGenerator g = load_generator(model, device);
  std::cerr << "generator: " << g.path.string() << " (" << g.options.mode << ", " << g.options.resolution << "x"
            << g.options.resolution;
  if (g.painter)
    std::cerr << ", label-first: " << g.maps << " maps painted by a painter)\n";
  else
    std::cerr << ", " << g.state.value("kimg", 0.0) << " kimg)\n";
  if (f.whole) {
    WholeOptions w = f.whole_options;
    w.count = o.count;
    w.seed = o.seed;
    const int64_t written = generate_whole(g, f.out, w, device, make_progress_printer());
    std::cout << "wrote " << written << " whole " << w.width << "x" << w.height << " photographs with labels and "
              << "masks to " << f.out << " (" << o.count - written << " already there); read them with --data "
              << f.out << "\n";
    return;
  }
  const GenerateResult r = generate_images(g, f.out, o, device, make_progress_printer());
  std::cout << "wrote " << r.written << " images to " << r.out.string() << " (" << r.skipped
            << " already there); read them with --data " << r.out.string() << "\n";
}

}  // namespace

void add_gan(CLI::App& app) {
  auto* gan = app.add_subcommand("gan", "StyleGAN2-ADA: train on fundus photographs, generate, measure");
  gan->require_subcommand(1);

  auto f = std::make_shared<GanTrainFlags>();
  auto* train = gan->add_subcommand("train", "Train StyleGAN2 with adaptive discriminator augmentation");
  train->add_option("--data", f->run.data, "data set folder (any layout `train` reads); optional with --resume")
      ->check(CLI::ExistingDirectory);
  train->add_option("--out", f->out, "run folder (config.json, stats.jsonl, snapshots/, fakes-*.png)")->required();
  std::string presets;
  for (const auto& n : gan_preset_names()) presets += (presets.empty() ? "" : " | ") + n;
  train->add_option("--preset", f->preset, "starting recipe: " + presets)->capture_default_str();
  train->add_option("--config", f->config, "JSON file overriding the preset (a run's config.json works)");
  train->add_option("--layout", f->run.layout, "data set layout (auto | drive | folder | ...)")->capture_default_str();
  train->add_option("--split", f->run.split, "which split's photographs to learn: train | test | all")->capture_default_str();
  train->add_option("--resolution", f->resolution, "image side, a power of two 32..1024");
  train->add_option("--mode", f->mode, "full | patch | joint | joint-patch | label-patch");
  train->add_option("--kimg", f->kimg, "training length in thousands of real images shown (fractions allowed)");
  train->add_option("--batch", f->batch, "minibatch size");
  train->add_option("--seed", f->seed, "random seed");
  train->add_option("--snapshot-kimg", f->snapshot_kimg, "snapshot every this many kimg");
  train->add_option("--r1-gamma", f->r1_gamma, "R1 weight (-1 = auto: 0.0002 * res^2 / batch)");
  train->add_option("--ada", f->ada, "ada | fixed | off");
  train->add_option("--ada-target", f->target, "ADA target for r_t = E[sign(D(real))]");
  train->add_option("--ada-speed", f->ada_speed, "ADA: kimg for p to go from 0 to 1 (official 500; the native-scale presets 25 or 100)");
  train->add_option("--ada-p", f->ada_p, "ADA: starting p; alone (without --ada) a fixed p");
  train->add_option("--init", f->init,
                    "transfer learning: start from this GAN checkpoint or generator file (its networks; the "
                    "recipe from --preset / --config / flags)")
      ->check(CLI::ExistingFile | CLI::ExistingDirectory);
  train->add_flag("--grow", f->grow,
                  "with --init: grow a lower-resolution run to this run's resolution (the networks from --preset / "
                  "--config / flags; the blocks both have are copied, the new top blocks start fresh)");
  train->add_option("--exclude", f->run.exclude, "sample ids to leave out, e.g. a segmenter's validation images")
      ->delimiter(',');
  train->add_flag("--no-mirror", f->no_mirror, "no x-flip dataset augmentation");
  auto* resume = train->add_option("--resume", f->resume,
                                   "continue a run: bare = the one in --out; or a run folder / snapshot .pt")
                     ->expected(0, 1);
  add_compute_flags(*train, f->compute);
  add_dist_flags(*train, f->dist);
  train->callback([f, resume] {
    f->resume_given = resume->count() > 0;
    run_gan_train(*f);
  });

  auto g = std::make_shared<GanGenerateFlags>();
  auto* gen = gan->add_subcommand("generate", "Sample synthetic fundus images from a trained GAN");
  gen->add_option("--model", g->model,
                  std::string("GAN checkpoint, generator file or run folder (default: the shipped ") +
                      kShippedGenerator + ")");
  gen->add_option("--n", g->gen.count, "number of images")->capture_default_str();
  gen->add_option("--out", g->out, "output folder (images/, masks/, labels/ for joint GANs)")->required();
  gen->add_option("--truncation", g->gen.truncation, "psi: 1 = none, smaller = closer to the mean image")
      ->capture_default_str();
  gen->add_option("--seed", g->seed, "seed; image i depends only on (seed, i)")->capture_default_str();
  gen->add_option("--batch", g->gen.batch, "images per forward pass")->capture_default_str();
  gen->add_option("--grid", g->gen.grid, "also write OUT/grid.png of the first N images (above their labels)")
      ->capture_default_str();
  gen->add_flag("--whole", g->whole,
                "whole photographs (procedural whole vessel trees painted by the generator's painter) with exact "
                "labels and FOV masks, instead of the generator's crops");
  gen->add_option("--width", g->whole_options.width, "with --whole: photograph width")->capture_default_str();
  gen->add_option("--height", g->whole_options.height, "with --whole: photograph height")->capture_default_str();
  gen->add_flag("--no-texture{false}", g->whole_options.texture,
                "with --whole: leave out the background's grain and mottle (DRIVE's, measured; docs/gan.md)");
  gen->add_flag("--appearance", g->whole_options.appearance.wide,
                "with --whole: each photograph its own exposure, colour cast, contrast, illumination gradient, gamma, "
                "blur and noise, from ranges wider than DRIVE's (docs/gan.md)");
  add_compute_flags(*gen, g->compute);
  gen->callback([g] { run_gan_generate(*g); });

  auto x = std::make_shared<GanExportFlags>();
  auto* exp = gan->add_subcommand("export", "Write the slim generator file of a GAN run (G_ema for sampling, D for --init)");
  exp->add_option("--model", x->model, "GAN run folder or checkpoint (not with --maps procedural)");
  exp->add_option("--out", x->out, "generator file to write (refused when it exists)")->required();
  exp->add_option("--painter", x->painter,
                  "painter run folder or checkpoint (gan train-painter), or a label-first generator file (its "
                  "painter): with a label-patch run, a label-first generator that draws vessel maps and paints "
                  "photographs around them");
  exp->add_option("--maps", x->maps,
                  "label-first vessel maps: stylegan2 (the --model run's) or procedural (grown trees, no --model)")
      ->check(CLI::IsMember({"stylegan2", "procedural"}))
      ->capture_default_str();
  exp->add_option("--size", x->size, "with --maps procedural: the side of the painted crops (a power of two)")
      ->capture_default_str();
  exp->callback([x] { run_gan_export(*x); });

  add_gan_metrics(*gan);
  add_gan_painter(*gan);
  add_gan_track(*gan);
  add_gan_trees(*gan);
  add_gan_convert(*gan);
}

}  // namespace vg::cli
