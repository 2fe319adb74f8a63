#include "vesselgan/gan/painter_trainer.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/dist/batch_shard.h"
#include "vesselgan/dist/data_parallel.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/image_grid.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The crops the painter learns from, served by the GAN's patch source: photograph + binary label.
GanTrainOptions crop_options(const PainterOptions& o) {
  GanTrainOptions c;
  c.mode = "joint-patch";
  c.resolution = o.resolution;
  c.patch_min_fov = 1;
  c.patch_vessel_bias = o.patch_vessel_bias;
  c.label_blur = 0;
  c.mirror = true;
  return c;
}

struct Batch {
  torch::Tensor rgb, label, appearance;  // [N, 3, R, R], [N, 1, R, R] in {-1, 1}, [N, 3]
};

Batch split(const torch::Tensor& x) {
  Batch b;
  b.rgb = x.narrow(1, 0, 3);
  b.label = x.narrow(1, 3, 1);
  b.appearance = b.rgb.mean({2, 3});
  return b;
}

// Mean absolute error of the painting of this rank's rows `b` against the real photographs, or with
// `balanced` the mean of its vessel-pixel and background means, the pixel counts taken from the whole
// (global) batch's labels `all_labels`: weighted by shard_share() (or, balanced, by the number of ranks), the
// mean over ranks of this loss is the global batch's.
torch::Tensor l1_loss(const torch::Tensor& fake, const Batch& b, const torch::Tensor& all_labels, bool balanced,
                      int64_t ranks) {
  const auto err = (fake - b.rgb).abs().mean(1, true);  // [n, 1, R, R]
  if (!balanced) return err.mean() * shard_share();
  const auto vessel = b.label.gt(0).to(err.dtype());
  const double all_pixels = static_cast<double>(all_labels.numel()),
               all_vessel = all_labels.gt(0).sum().item<double>();
  const auto mean_in = [&](const torch::Tensor& m, double count) {
    return (err * m).sum() * (static_cast<double>(ranks) / std::max(1.0, count));
  };
  return 0.5 * (mean_in(vessel, all_vessel) + mean_in(1 - vessel, all_pixels - all_vessel));
}

// The ranks of a job must split the batch evenly and train the same recipe on the same data from the same
// checkpoint; checked before anything is written.
void check_agreement(const Collective& world, const PainterOptions& o, const std::vector<Sample>& data,
                     const nlohmann::json& config, const nlohmann::json& resume_state) {
  if (!world.distributed()) return;
  check_splits(world, o.batch, "painter.batch");
  check_same_job(world, config, samples_fingerprint(data), resume_state);
}

// Mean and covariance of the appearance codes of `batches` x `n` random crops.
void fit_appearance(Painter& G, GanImageSource& reals, int64_t batches, int64_t n) {
  std::vector<torch::Tensor> codes;
  for (int64_t i = 0; i < batches; ++i) codes.push_back(split(reals.batch(n)).appearance.cpu());
  auto a = torch::cat(codes).to(torch::kDouble);
  auto mean = a.mean(0);
  auto d = a - mean;
  auto cov = torch::matmul(d.t(), d) / static_cast<double>(std::max<int64_t>(1, a.size(0) - 1));
  G->set_appearance_distribution(mean.to(torch::kFloat), cov.to(torch::kFloat));
}

// Rows: the real maps, the painter's photographs of them, the real photographs.
void write_samples(const fs::path& path, Painter& G, const torch::Tensor& reals, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const bool was_training = G->is_training();
  G->eval();
  const Batch b = split(reals);
  auto gen = at::detail::createCPUGenerator(seed);
  auto noise = torch::randn(b.label.sizes(), gen).to(b.label.device());
  auto painted = G->forward(b.label, b.appearance, noise);
  G->train(was_training);
  auto rows = torch::cat({b.label.expand({-1, 3, -1, -1}), painted, b.rgb});
  write_png(path, image_grid(rows, reals.size(0)), 8);
}

}  // namespace

PainterTrainResult train_painter(const std::vector<Sample>& data, const PainterOptions& options_in,
                                 const fs::path& run_dir, const torch::Device& device,
                                 const PainterRunControl& control, const ProgressFn& progress,
                                 const Collective& world) {
  validate(options_in);
  const fs::path ckpt_dir = run_dir / "checkpoints", last_path = ckpt_dir / "last.pt",
                 stats_path = run_dir / "stats.jsonl";
  const bool resume = control.resume && fs::exists(last_path);
  if (!control.resume && fs::exists(last_path))
    throw UserError("run folder " + run_dir.string() +
                    " already holds a painter run (pass --resume to continue it, or choose another --out)");
  PainterOptions o = options_in;
  const CheckpointHeader resumed = resume ? read_checkpoint_header(last_path, kPainterCheckpointKind) : CheckpointHeader{};
  if (resume) {
    o = resumed.config.at("painter").get<PainterOptions>();
    o.steps = std::max(o.steps, options_in.steps);  // a resumed run may be lengthened, nothing else
  }
  seed_everything(o.seed);
  PainterModels models(o);
  models->to(device);
  Painter G = models->G;
  PainterCritic D = models->D;
  torch::optim::Adam g_opt(G->parameters(), torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}));
  torch::optim::Adam d_opt(D->parameters(), torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}));
  GanImageSource reals(data, crop_options(o), device);
  const torch::Tensor grid_reals = reals.first(8);

  nlohmann::json config = {{"painter", o}, {"data_ids", nlohmann::json::array()}};
  for (const auto& s : data) config["data_ids"].push_back(s.id);
  check_agreement(world, o, data, config, resumed.state);
  int64_t step = 0;
  if (resume) {
    std::map<std::string, torch::Tensor> extra = {{"rng_cpu", {}}, {"rng_device", {}}};
    const auto h = load_checkpoint(last_path, kPainterCheckpointKind, *models, device,
                                   NamedOptimizers{{"G", &g_opt}, {"D", &d_opt}}, &extra);
    step = h.state.at("step").get<int64_t>();
    if (extra["rng_cpu"].defined()) set_rng_state(torch::kCPU, extra["rng_cpu"]);
    if (device.is_cuda() && extra["rng_device"].defined()) set_rng_state(device, extra["rng_device"]);
    if (world.is_main() && fs::exists(stats_path))  // rows past the checkpoint (a run killed mid-way) would repeat
      filter_jsonl(stats_path, [&](const nlohmann::json& row) { return row.value("step", int64_t{0}) <= step; });
  } else {
    fit_appearance(G, reals, 64, o.batch);  // the same draws on every rank
    if (world.is_main()) {
      fs::create_directories(ckpt_dir);
      std::error_code ec;
      fs::remove(stats_path, ec);
      write_file_atomic(run_dir / "config.json", config.dump(2) + "\n");
    }
  }
  broadcast_module(world, *models);  // equal anyway (same seed, same checkpoint); rank 0's by construction

  PainterTrainResult r;
  r.last = last_path;
  auto checkpoint = [&] {
    if (!world.is_main()) return;  // rank 0 alone writes (every rank holds the same state)
    CheckpointHeader h;
    h.kind = kPainterCheckpointKind;
    h.config = config;  // {"painter": o, "data_ids": ...}
    h.state = {{"step", step}};
    std::map<std::string, torch::Tensor> extra = {{"rng_cpu", rng_state(torch::kCPU)}};
    if (device.is_cuda()) extra["rng_device"] = rng_state(device);
    save_checkpoint(last_path, h, *models, NamedOptimizers{{"G", &g_opt}, {"D", &d_opt}}, extra);
    char name[48];
    std::snprintf(name, sizeof name, "samples-%06lld.png", static_cast<long long>(step));
    write_samples(run_dir / name, G, grid_reals, o.seed + 1);
  };

  const int64_t last_step = control.stop_after_steps >= 0 ? std::min(o.steps, control.stop_after_steps) : o.steps;
  const auto t0 = Clock::now();
  auto t_log = t0;
  const int64_t start_step = step;
  double sum_l1 = 0, sum_adv = 0, sum_d = 0, sum_real = 0, sum_fake = 0;
  int64_t n_sum = 0;
  G->train();
  D->train();
  const BatchShard shard = shard_of(o.batch, world.rank(), world.size());
  while (step < last_step) {
    // The global batch and its noise on every rank (the random state stays one process's); this rank's rows.
    const torch::Tensor global = reals.batch(o.batch);
    const torch::Tensor global_noise = torch::randn({o.batch, 1, global.size(2), global.size(3)}, global.options());
    std::optional<BatchShardScope> scope;
    if (world.distributed()) scope.emplace(world, shard);
    const Batch b = split(shard_rows(global));
    const auto fake = G->forward(b.label, b.appearance, shard_rows(global_noise));

    // Critic: real pairs against painted ones (non-saturating logistic loss on every patch logit).
    d_opt.zero_grad();
    const auto logit_real = D->forward(b.label, b.appearance, b.rgb);
    const auto logit_fake = D->forward(b.label, b.appearance, fake.detach());
    const auto loss_d = (torch::softplus(-logit_real).mean() + torch::softplus(logit_fake).mean()) * shard_share();
    loss_d.backward();
    std::vector<double> critic = {loss_d.item<double>(), logit_real.mean().item<double>() * shard_share(),
                                  logit_fake.mean().item<double>() * shard_share()};
    average_gradients(world, D->parameters(), &critic);
    d_opt.step();

    // Painter: fool the critic and stay close to the real photograph of the same map.
    g_opt.zero_grad();
    const auto adv = torch::softplus(-D->forward(b.label, b.appearance, fake)).mean() * shard_share();
    const auto l1 = l1_loss(fake, b, global.narrow(1, 3, 1), o.vessel_balanced_l1, world.size());
    (adv + o.l1_weight * l1).backward();
    std::vector<double> painter = {adv.item<double>(), l1.item<double>()};
    average_gradients(world, G->parameters(), &painter);
    g_opt.step();
    scope.reset();
    ++step;

    sum_d += critic[0];
    sum_real += critic[1];
    sum_fake += critic[2];
    sum_adv += painter[0];
    sum_l1 += painter[1];
    ++n_sum;
    const bool end = step >= last_step;
    if (step % o.log_every == 0 || end) {
      const double secs = std::chrono::duration<double>(Clock::now() - t_log).count();
      const double n = static_cast<double>(n_sum);
      nlohmann::json row = {{"step", step},
                            {"l1", sum_l1 / n},
                            {"loss_adv", sum_adv / n},
                            {"loss_d", sum_d / n},
                            {"logits_real", sum_real / n},
                            {"logits_fake", sum_fake / n},
                            {"sec_per_step", secs / n}};
      if (!std::isfinite(sum_l1) || !std::isfinite(sum_adv) || !std::isfinite(sum_d))
        throw UserError("painter training diverged at step " + std::to_string(step) +
                        " (a loss is NaN or infinite; lower painter.lr; the last good checkpoint is " +
                        last_path.string() + ")");
      if (world.is_main()) append_jsonl(stats_path, row);
      r.l1 = sum_l1 / n;
      if (progress) {
        Progress p;
        p.stage = "painter";
        p.unit = "step";
        p.done = step;
        p.done_at_start = start_step;
        p.total = o.steps;
        p.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
        p.scalars = {{"l1", r.l1}, {"loss_adv", sum_adv / n}, {"loss_d", sum_d / n}};
        progress(p);
      }
      sum_l1 = sum_adv = sum_d = sum_real = sum_fake = 0;
      n_sum = 0;
      t_log = Clock::now();
    }
    if (step % o.snapshot_every == 0 || end) checkpoint();
  }
  if (step == start_step && !fs::exists(last_path)) checkpoint();
  r.steps_done = step;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.sec_per_step = step > start_step ? r.seconds / static_cast<double>(step - start_step) : 0;
  r.finished = step >= o.steps;
  return r;
}

Painter load_painter(const fs::path& path, const torch::Device& device) {
  const fs::path file = fs::is_directory(path) ? path / "checkpoints" / "last.pt" : path;
  const auto o = read_checkpoint_header(file, kPainterCheckpointKind).config.at("painter").get<PainterOptions>();
  PainterModels models(o);
  load_checkpoint(file, kPainterCheckpointKind, *models, device);
  Painter G = models->G;
  G->to(device);
  G->eval();
  return G;
}

}  // namespace vg
