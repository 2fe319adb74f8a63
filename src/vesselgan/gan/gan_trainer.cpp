#include "vesselgan/gan/gan_trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>

#include "vesselgan/core/compat.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/dist/batch_shard.h"
#include "vesselgan/dist/data_parallel.h"
#include "vesselgan/gan/ada_controller.h"
#include "vesselgan/gan/augment_pipe.h"
#include "vesselgan/gan/gan_curves.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/gan_losses.h"
#include "vesselgan/gan/gan_models.h"
#include "vesselgan/gan/grow_networks.h"
#include "vesselgan/gan/image_grid.h"
#include "vesselgan/gan/lazy_regularization.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

std::string kimg_label(double kimg) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010.3f", kimg);
  return buf;
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Peak resident memory of this process in MiB (Linux; 0 where /proc is unavailable).
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

// Gradients to none before each phase, as stylegan2-ada-pytorch's zero_grad(set_to_none=True): a parameter the
// phase's loss does not reach (D's output bias under R1) keeps no gradient, and Adam skips it instead of counting
// a step of zeros (which would advance its step count and decay its second moment).
void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad().reset();
}

// Mapping with style mixing regularization (StyleGAN2 sec. 4 / StyleGAN sec. 3.1): with probability `mixing`
// the ws from a random cutoff on come from a second latent. One cutoff per batch, drawn on the CPU generator.
// Every training mapping (G main, path length and D main) moves w_avg toward its batch mean, as
// stylegan2-ada-pytorch's do; the second latent's mapping never does. z_global: the latents of the global
// batch; in a data-parallel step (batch_shard.h) this rank maps its rows, and draws the second latent for
// the global batch too, so the generator stays one process's.
torch::Tensor mapped_ws(Generator& G, const torch::Tensor& z_global, double mixing) {
  const torch::Tensor z = shard_rows(z_global);
  auto ws = G->mapping(z, 1.0, -1, /*update_w_avg=*/true);
  if (mixing <= 0) return ws;
  const int64_t num_ws = ws.size(1);
  const auto cpu_long = torch::TensorOptions().dtype(torch::kLong);
  int64_t cutoff = torch::randint(1, num_ws, {1}, cpu_long).item<int64_t>();
  if (torch::rand({1}).item<double>() >= mixing) cutoff = num_ws;
  auto z2 = shard_rows(torch::randn_like(z_global));
  if (cutoff >= num_ws) return ws;
  auto ws2 = G->mapping(z2, 1.0, -1, false);
  return torch::cat({ws.slice(1, 0, cutoff), ws2.slice(1, cutoff)}, 1);
}

// Sums over a tick, kept on the device so training never waits for a host sync until the tick ends.
struct TickSums {
  torch::Tensor loss_g, loss_d, r1, pl, logits_real, logits_fake;
  int64_t n_g = 0, n_d = 0, n_r1 = 0, n_pl = 0;
  static void add(torch::Tensor& acc, const torch::Tensor& v) {
    auto d = v.detach().to(torch::kFloat).mean();
    acc = acc.defined() ? acc + d : d;
  }
  static double mean(const torch::Tensor& acc, int64_t n) {
    return acc.defined() && n > 0 ? acc.item<double>() / static_cast<double>(n) : 0.0;
  }
};

void write_grid(const fs::path& path, const torch::Tensor& images, bool joint) {
  auto grid = image_grid(images);
  write_png(path, grid.slice(0, 0, 3), 8);
  if (joint) {
    auto labels_path = path;
    labels_path.replace_extension();
    write_png(labels_path.string() + "-labels.png", grid.slice(0, 3, 4), 8);
  }
}

// Where to start: the checkpoint to resume from, or "" for a fresh run. UserError for a resume_from that names
// nothing, and for a fresh run in a folder that already holds one.
fs::path resume_path_of(const GanRunControl& control, const fs::path& run_dir, const fs::path& last_path) {
  fs::path resume_path;
  if (!control.resume_from.empty()) {
    if (fs::is_directory(control.resume_from)) {
      const auto p = control.resume_from / "checkpoints" / "last.pt";
      if (fs::exists(p)) resume_path = p;
    } else if (fs::is_regular_file(control.resume_from)) {
      resume_path = control.resume_from;
    } else {
      throw UserError("cannot resume from " + control.resume_from.string() +
                      ": no such file or folder (expected a GAN run folder or a snapshot .pt)");
    }
  } else if (fs::exists(last_path)) {
    throw UserError("run folder " + run_dir.string() +
                    " already holds a GAN run (pass --resume to continue it, or choose another --out)");
  }
  return resume_path;
}

// The run's recipe: the given options for a fresh run, the checkpoint's on resume (only its length may grow).
GanTrainOptions options_of(const fs::path& resume_path, const GanTrainOptions& options_in) {
  GanTrainOptions opt = options_in;
  if (!resume_path.empty()) {
    opt = read_checkpoint_header(resume_path, kGanCheckpointKind).config.at("gan").get<GanTrainOptions>();
    // The length of the run may be extended on resume; everything else is the checkpoint's recipe.
    opt.kimg = std::max(opt.kimg, options_in.kimg);
  }
  finalize(opt);
  return opt;
}

// The networks, initialised from the run's seed, on the device.
GanModels seeded_models(const GanTrainOptions& opt, const torch::Device& device) {
  seed_everything(opt.seed);
  GanModels models(opt);
  models->to(device);
  if (device.is_cuda() && opt.channels_last) {
    models->G->set_channels_last(true);
    models->G_ema->set_channels_last(true);
  }
  return models;
}

// The scope of one data-parallel phase over `rows` global rows (none when training alone). UserError when the
// rows do not split evenly (the minibatch-stddev groups and ADA's sums need equal shards).
void enter_phase(std::optional<BatchShardScope>& scope, const Collective& world, int64_t rows, const char* what) {
  if (!world.distributed()) return;
  check_splits(world, rows, what);
  scope.emplace(world, shard_of(rows, world.rank(), world.size()));
}

// One call of train_gan: the networks, optimizers, counters and files its steps share. The constructor decides
// where to start and builds the networks; start() loads a checkpoint or prepares a fresh run folder;
// prepare_images() the real images and the fixed latent grid; train() runs the ticks of steps.
class GanRun {
 public:
  GanRun(const std::vector<Sample>& data_in, const GanTrainOptions& options_in, const fs::path& run_dir_in,
         const torch::Device& device_in, const GanRunControl& control_in, const ProgressFn& progress_in,
         const Collective& world_in)
      : world(world_in),
        data(data_in),
        run_dir(run_dir_in),
        device(device_in),
        control(control_in),
        progress(progress_in),
        resume_path(resume_path_of(control_in, run_dir_in, last_path)),
        opt(options_of(resume_path, options_in)),
        models(seeded_models(opt, device_in)),
        G(models->G),
        G_ema(models->G_ema),
        D(models->D),
        // G's Adam is scaled for its lazy interval whether or not path length is on, as stylegan2-ada-pytorch
        // does (G_reg_interval 4 always: lr 0.0025 -> 0.002, beta2 0.99 -> 0.992 in the `auto` recipe).
        g_opt(G->parameters(), lazy_adam_options(opt.g_lr, opt.beta1, opt.beta2, opt.pl_interval)),
        d_opt(D->parameters(), lazy_adam_options(opt.d_lr, opt.beta1, opt.beta2, opt.r1_interval)),
        augment(opt.augment),
        ada(opt.ada, opt.batch) {}

  // The networks to start from (a checkpoint's, or --init's for a fresh run) and the run folder.
  void start() {
    if (resume_path.empty() && !control.init_from.empty()) {
      if (control.grow)
        load_grown_networks(control.init_from, opt, models);
      else
        load_init_networks(control.init_from, models, device);
    }

    config = {{"gan", opt}};
    if (!control.init_from.empty()) config["init"] = fs::absolute(control.init_from).string();
    if (!control.init_from.empty() && control.grow) config["grow"] = true;
    config["data_ids"] = nlohmann::json::array();
    for (const auto& s : data) config["data_ids"].push_back(s.id);

    check_agreement();
    if (!resume_path.empty())
      resume();
    else if (world.is_main())
      start_fresh();
    broadcast_module(world, *models);  // rank 0's networks (equal anyway from the seed, unless --init differs)
  }

  // The real images, their grid (once per run folder), and the fixed latents of every snapshot's fakes grid.
  void prepare_images() {
    reals.emplace(data, opt, device);
    reals->seek(nimg);  // a resumed run continues the epochs' sequence of images
    if (world.is_main() && !fs::exists(run_dir / "reals.png"))
      write_grid(run_dir / "reals.png", reals->first(opt.grid_size * opt.grid_size), joint);

    // A fixed latent grid for the fakes of every snapshot (its own generator: training randomness is untouched).
    auto grid_gen = at::detail::createCPUGenerator(opt.seed + 0x9e3779b9ULL);
    grid_z = torch::randn({opt.grid_size * opt.grid_size, opt.generator.z_dim}, grid_gen).to(device);
  }

  // Steps until the run's length (or control.stop_after_steps), ending a tick every tick_kimg.
  GanTrainResult train() {
    next_tick = (nimg / tick_nimg + 1) * tick_nimg;
    next_snap = (nimg / snap_nimg + 1) * snap_nimg;
    result.last = last_path;
    t_run = Clock::now();
    t_tick = Clock::now();
    tick_start_nimg = nimg;
    run_start_nimg = nimg;

    G->train();
    D->train();
    // Already as many steps as asked for (e.g. 0: a snapshot of the starting networks, as --init loaded them).
    const bool stop_at_start = control.stop_after_steps >= 0 && step >= control.stop_after_steps;
    if (stop_at_start) end_tick(true);
    while (nimg < total_nimg && !stop_at_start) {
      // The global batch on every rank (the generator stays one process's); each rank uses its rows.
      const torch::Tensor real = shard_rows_of_world(reals->batch(B));
      train_step(real);
      if (progress) progress(images_progress("gan"));
      const bool stop = control.stop_after_steps >= 0 && step >= control.stop_after_steps;
      if (nimg >= next_tick || nimg >= total_nimg || stop) end_tick(stop);
      if (stop) break;
    }

    result.kimg_done = nimg / 1000.0;
    result.steps_done = step;
    result.seconds = seconds_since(t_run);
    const double kimg_run = (nimg - run_start_nimg) / 1000.0;
    result.sec_per_kimg = kimg_run > 0 ? result.seconds / kimg_run : 0;
    result.finished = nimg >= total_nimg;
    return result;
  }

 private:
  // The ranks of a job must train the same recipe on the same data from the same checkpoint.
  void check_agreement() const {
    if (!world.distributed()) return;
    // Every phase splits evenly, checked before anything is written (enter_phase checks again).
    for (const auto& [rows, what] : {std::make_pair(B, "gan.batch"),
                                     std::make_pair(std::max<int64_t>(1, B / opt.pl_batch_shrink),
                                                    "gan.batch / gan.pl_batch_shrink (the path-length batch)")})
      if (pl_on || rows == B) check_splits(world, rows, what);
    check_same_job(world, config, samples_fingerprint(data),
                   resume_path.empty() ? nlohmann::json() : read_checkpoint_header(resume_path, kGanCheckpointKind).state);
  }

  // This rank's rows of a global batch (split as the training phases split it).
  torch::Tensor shard_rows_of_world(const torch::Tensor& global) const {
    if (!world.distributed()) return global;
    const BatchShard s = shard_of(global.size(0), world.rank(), world.size());
    return global.slice(0, s.begin, s.begin + s.count);
  }

  // Resume: the checkpoint's networks, optimizers, counters, ADA state and random state; stats rows past it go.
  void resume() {
    std::map<std::string, torch::Tensor> extra = {{"rng_cpu", {}}, {"rng_device", {}}, {"pl_mean", {}}};
    auto header = load_checkpoint(resume_path, kGanCheckpointKind, *models, device,
                                  NamedOptimizers{{"G", &g_opt}, {"D", &d_opt}}, &extra);
    nimg = header.state.at("nimg").get<int64_t>();
    step = header.state.at("step").get<int64_t>();
    ada.load_state(header.state.at("ada"));
    if (extra["pl_mean"].defined()) path_length.set_pl_mean(extra["pl_mean"].to(device));
    if (extra["rng_cpu"].defined()) set_rng_state(torch::kCPU, extra["rng_cpu"]);
    if (device.is_cuda() && extra["rng_device"].defined()) set_rng_state(device, extra["rng_device"]);
    if (!world.is_main()) return;  // rank 0 alone writes the run folder
    fs::create_directories(ckpt_dir);
    fs::create_directories(snap_dir);
    if (fs::exists(stats_path))  // rows past the checkpoint (a run killed mid-way) would repeat: drop them
      filter_jsonl(stats_path, [&](const nlohmann::json& row) { return row.value("nimg", int64_t{0}) <= nimg; });
    if (!fs::exists(run_dir / "config.json")) write_file_atomic(run_dir / "config.json", config.dump(2) + "\n");
  }

  // A fresh run: empty stats, the run's config.
  void start_fresh() {
    fs::create_directories(ckpt_dir);
    fs::create_directories(snap_dir);
    std::error_code ec;
    fs::remove(stats_path, ec);
    write_file_atomic(run_dir / "config.json", config.dump(2) + "\n");
  }

  // One step: G and D, each with its lazy regularization, ADA, then the images counted and G's EMA.
  void train_step(const torch::Tensor& real) {
    generator_step();
    if (pl_on && step % opt.pl_interval == 0) generator_regularization();
    discriminator_step(real);
    if (opt.r1_interval > 0 && step % opt.r1_interval == 0) discriminator_regularization(real);

    // ADA: adjust p from the sign of D's outputs on reals.
    ada.step();

    update_generator_ema();  // from the images shown before this step, as the official: the first copies G
    nimg += B;
    ++step;
  }

  // G main: non-saturating logistic loss through the augmented D.
  void generator_step() {
    set_requires_grad(*G, true);
    set_requires_grad(*D, false);
    clear_gradients(g_opt);
    {
      std::optional<BatchShardScope> scope;
      enter_phase(scope, world, B, "gan.batch");
      torch::Tensor logits;
      {
        AutocastGuard autocast(device, opt.bf16);
        auto ws = mapped_ws(G, torch::randn({B, opt.generator.z_dim}, z_opts), opt.style_mixing);
        auto fake = G->synthesis(ws);
        logits = D->forward(augment(fake, ada.p()));
      }
      auto loss = generator_loss(logits.to(torch::kFloat));
      (loss * shard_share()).backward();
      TickSums::add(sums.loss_g, loss);
      ++sums.n_g;
    }
    average_gradients(world, G->parameters());
    g_opt.step();
  }

  // G regularization: path length, every pl_interval steps, on a smaller batch, weighted by the interval.
  void generator_regularization() {
    clear_gradients(g_opt);
    const int64_t Bp = std::max<int64_t>(1, B / opt.pl_batch_shrink);
    {
      std::optional<BatchShardScope> scope;
      enter_phase(scope, world, Bp, "gan.batch / gan.pl_batch_shrink (the path-length batch)");
      auto ws = mapped_ws(G, torch::randn({Bp, opt.generator.z_dim}, z_opts), opt.style_mixing);
      auto fake = G->synthesis(ws);
      auto pen = path_length(fake, ws);  // its running mean from the global batch's mean length
      (pen.mean() * (opt.pl_weight * opt.pl_interval * shard_share())).backward();
      TickSums::add(sums.pl, pen);
      ++sums.n_pl;
    }
    average_gradients(world, G->parameters());
    g_opt.step();
  }

  // D main: fakes (no gradient into G) and reals, both augmented with the current p.
  void discriminator_step(const torch::Tensor& real) {
    set_requires_grad(*G, false);
    set_requires_grad(*D, true);
    clear_gradients(d_opt);
    {
      std::optional<BatchShardScope> scope;
      enter_phase(scope, world, B, "gan.batch");
      torch::Tensor fake;
      {
        torch::NoGradGuard no_grad;
        AutocastGuard autocast(device, opt.bf16);
        auto ws = mapped_ws(G, torch::randn({B, opt.generator.z_dim}, z_opts), opt.style_mixing);
        fake = G->synthesis(ws).to(torch::kFloat);
      }
      torch::Tensor logits_fake, logits_real;
      {
        AutocastGuard autocast(device, opt.bf16);
        logits_fake = D->forward(augment(fake, ada.p())).to(torch::kFloat);
        logits_real = D->forward(augment(real, ada.p())).to(torch::kFloat);
      }
      accumulate_real_signs(logits_real);
      auto loss = discriminator_loss(logits_real, logits_fake);
      (loss * shard_share()).backward();
      TickSums::add(sums.loss_d, loss);
      TickSums::add(sums.logits_real, logits_real);
      TickSums::add(sums.logits_fake, logits_fake);
      ++sums.n_d;
    }
    average_gradients(world, D->parameters());
    d_opt.step();
  }

  // ADA's r_t from D's logits on reals, in D main and in R1 (the official reports both). Every rank
  // accumulates the global batch's signs, so r_t, p and the checkpoint's pending sums are one process's.
  void accumulate_real_signs(const torch::Tensor& logits_real) {
    ada.accumulate(world.distributed() ? torch::cat(world.all_gather(logits_real.detach().contiguous()))
                                       : logits_real.detach());
  }

  // D regularization: lazy R1 on the reals before augmentation (the gradient flows back through the
  // augmentation, hence the twice-differentiable grid sampling), weighted by the interval.
  void discriminator_regularization(const torch::Tensor& real) {
    clear_gradients(d_opt);
    {
      std::optional<BatchShardScope> scope;
      enter_phase(scope, world, B, "gan.batch");
      auto real_tmp = real.detach().requires_grad_(true);
      auto logits = D->forward(augment(real_tmp, ada.p()));
      accumulate_real_signs(logits);  // r_t counts this phase too, as the official's Dreg reports them
      auto pen = r1_penalty(logits, real_tmp);
      (pen.mean() * (r1_gamma / 2 * opt.r1_interval * shard_share())).backward();
      TickSums::add(sums.r1, pen);
      ++sums.n_r1;
    }
    average_gradients(world, D->parameters());
    d_opt.step();
  }

  // Generator EMA with ramp-up (half-life ema_kimg, at most ema_rampup of the images shown so far).
  void update_generator_ema() {
    double ema_nimg = ema_nimg_full;
    if (opt.ema_rampup > 0) ema_nimg = std::min(ema_nimg, static_cast<double>(nimg) * opt.ema_rampup);
    const double beta = std::pow(0.5, static_cast<double>(B) / std::max(ema_nimg, 1e-8));
    update_ema(*G_ema, *G, beta);
  }

  Progress images_progress(const char* stage) const {
    Progress p;
    p.stage = stage;
    p.unit = "img";
    p.done = nimg;
    p.done_at_start = run_start_nimg;
    p.total = total_nimg;
    p.elapsed_s = seconds_since(t_run);
    return p;
  }

  // The fakes grid, then the checkpoint (snapshots/snapshot-<kimg>.pt, copied to checkpoints/last.pt).
  void snapshot() {
    if (!world.is_main()) return;  // rank 0 alone writes (every rank holds the same global state)
    const auto label = kimg_label(nimg / 1000.0);
    {  // The grid first: a kill before the checkpoints leaves the snapshot to be redone, grid included.
      torch::NoGradGuard no_grad;
      auto fakes = G_ema->forward(grid_z, 1.0, NoiseMode::kConst);
      write_grid(run_dir / ("fakes-" + label + ".png"), fakes, joint);
    }
    CheckpointHeader h;
    h.kind = kGanCheckpointKind;
    h.config = config;
    h.state = {{"nimg", nimg}, {"kimg", nimg / 1000.0}, {"step", step}, {"ada", ada.state()}};
    std::map<std::string, torch::Tensor> extra = {{"rng_cpu", rng_state(torch::kCPU)},
                                                  {"pl_mean", path_length.pl_mean()}};
    if (device.is_cuda()) extra["rng_device"] = rng_state(device);
    const auto snap_path = snap_dir / ("snapshot-" + label + ".pt");
    save_checkpoint(snap_path, h, *models, NamedOptimizers{{"G", &g_opt}, {"D", &d_opt}}, extra);
    const auto tmp = temp_path_for(last_path);
    fs::copy_file(snap_path, tmp, fs::copy_options::overwrite_existing);
    commit_atomic(tmp, last_path);
    result.snapshots.push_back(snap_path);
  }

  // The end of a tick: its stats row (UserError once the losses diverged), a snapshot when due, the curves and
  // a progress report; then the next tick's sums start.
  void end_tick(bool force_snapshot) {
    const nlohmann::json row = tick_row();
    check_finite(row);  // the row's losses are the global batch's: every rank stops together
    const bool snap = force_snapshot || nimg >= next_snap || nimg >= total_nimg;
    if (world.is_main()) write_tick(row, snap);
    sums = TickSums{};
    t_tick = Clock::now();
    tick_start_nimg = nimg;
    next_tick = (nimg / tick_nimg + 1) * tick_nimg;
    if (snap) next_snap = (nimg / snap_nimg + 1) * snap_nimg;
  }

  void write_tick(const nlohmann::json& row, bool snap) {
    // The row first, then the snapshot: a kill in between leaves a row past the last checkpoint, which resume
    // drops and redoes. (A kill after the snapshot and before its row lost that row: resume starts past it.)
    append_jsonl(stats_path, row);
    if (snap) snapshot();
    write_gan_curves(run_dir / "curves.svg", read_jsonl(stats_path), opt.ada.target);
    if (progress) {
      Progress p = images_progress("tick");
      p.scalars = {{"kimg", nimg / 1000.0}, {"loss_g", row["loss_g"]}, {"loss_d", row["loss_d"]},
                   {"p", ada.p()}, {"sec_per_kimg", row["sec_per_kimg"]}};
      p.message = snap ? "snapshot " + kimg_label(nimg / 1000.0) : "";
      progress(p);
    }
  }

  // The tick's row of stats.jsonl: the means of its sums, ADA's state, speed and memory.
  // In a job the means over ranks (equal shards: the global batch's), one collective on every rank.
  nlohmann::json tick_row() const {
    const double secs = seconds_since(t_tick);
    const double kimg_tick = (nimg - tick_start_nimg) / 1000.0;
    const std::vector<double> m = mean_over_ranks(
        world, {TickSums::mean(sums.loss_g, sums.n_g), TickSums::mean(sums.loss_d, sums.n_d),
                TickSums::mean(sums.r1, sums.n_r1), TickSums::mean(sums.pl, sums.n_pl),
                TickSums::mean(sums.logits_real, sums.n_d), TickSums::mean(sums.logits_fake, sums.n_d)});
    return {{"nimg", nimg},
            {"kimg", nimg / 1000.0},
            {"step", step},
            {"loss_g", m[0]},
            {"loss_d", m[1]},
            {"r1", m[2]},
            {"pl", m[3]},
            {"logits_real", m[4]},
            {"logits_fake", m[5]},
            {"augment_p", ada.p()},
            {"r_t", ada.r_t()},
            {"seconds", secs},
            {"sec_per_kimg", kimg_tick > 0 ? secs / kimg_tick : 0.0},
            {"peak_rss_mib", peak_rss_mib()}};
  }

  // UserError when a loss of the tick's row is NaN or infinite, naming the last good checkpoint.
  void check_finite(const nlohmann::json& row) const {
    for (const char* k : {"loss_g", "loss_d"}) {
      const double v = row[k].get<double>();
      if (!std::isfinite(v))
        throw UserError(std::string("GAN training diverged: ") + k + " is " + (std::isnan(v) ? "NaN" : "infinite") +
                        " at " + std::to_string(nimg / 1000.0) + " kimg (lower the learning rates or raise r1_gamma; " +
                        "the last good checkpoint is " + last_path.string() + ")");
    }
  }

  const Collective& world;
  const std::vector<Sample>& data;
  const fs::path run_dir;
  const torch::Device device;
  const GanRunControl& control;
  const ProgressFn& progress;
  const fs::path ckpt_dir = run_dir / "checkpoints", snap_dir = run_dir / "snapshots";
  const fs::path last_path = ckpt_dir / "last.pt", stats_path = run_dir / "stats.jsonl";

  // Where to start, the recipe, the networks and their optimizers.
  const fs::path resume_path;
  const GanTrainOptions opt;
  const bool joint = is_joint_mode(opt);
  GanModels models;
  Generator G, G_ema;
  Discriminator D;
  const bool pl_on = opt.pl_weight > 0;
  torch::optim::Adam g_opt, d_opt;
  AugmentPipe augment;
  AdaController ada;
  PathLengthPenalty path_length;
  nlohmann::json config;  // the checkpoints' config: the recipe, --init, the training images' ids

  // The images.
  std::optional<GanImageSource> reals;
  torch::Tensor grid_z;

  // The schedule.
  const int64_t B = opt.batch;
  const int64_t total_nimg = std::llround(opt.kimg * 1000);
  const int64_t tick_nimg = std::max<int64_t>(1, std::llround(opt.tick_kimg * 1000));
  const int64_t snap_nimg = std::max<int64_t>(1, std::llround(opt.snapshot_kimg * 1000));
  const double r1_gamma = r1_gamma_of(opt);
  const double ema_nimg_full = ema_kimg_of(opt) * 1000;
  const torch::TensorOptions z_opts = torch::TensorOptions().device(device);

  // Where the run is.
  int64_t nimg = 0, step = 0;
  int64_t next_tick = 0, next_snap = 0;
  GanTrainResult result;
  Clock::time_point t_run, t_tick;
  int64_t tick_start_nimg = 0, run_start_nimg = 0;
  TickSums sums;
};

}  // namespace

GanTrainResult train_gan(const std::vector<Sample>& data, const GanTrainOptions& options_in, const fs::path& run_dir,
                         const torch::Device& device, const GanRunControl& control, const ProgressFn& progress,
                         const Collective& world) {
  GanRun run(data, options_in, run_dir, device, control, progress, world);  // where to start; the networks
  run.start();
  run.prepare_images();
  return run.train();
}

GanTrainOptions gan_recipe_to_run(const GanTrainOptions& options, const fs::path& run_dir,
                                  const GanRunControl& control) {
  return options_of(resume_path_of(control, run_dir, run_dir / "checkpoints" / "last.pt"), options);
}

}  // namespace vg
