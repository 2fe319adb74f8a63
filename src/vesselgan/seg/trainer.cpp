#include "vesselgan/seg/trainer.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "vesselgan/core/compat.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/jsonl.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/dist/batch_shard.h"
#include "vesselgan/dist/data_parallel.h"
#include "vesselgan/eval/confusion.h"
#include "vesselgan/eval/ranking_metrics.h"
#include "vesselgan/eval/threshold_metrics.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/distill.h"
#include "vesselgan/seg/patch_sampler.h"
#include "vesselgan/seg/pixel_contrast.h"
#include "vesselgan/seg/training_curves.h"
#include "vesselgan/seg/weight_average.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Samples fitted to one common canvas and stacked on the training device.
struct Stacked {
  torch::Tensor image, label, mask;  // [N,3,H,W], [N,1,H,W], [N,1,H,W]
  std::vector<FitInfo> fit;
  std::vector<std::string> ids;
  std::vector<torch::Tensor> photos;  // the photographs as read, [3,h,w] on the CPU: kept only to re-enhance them
};

// A label fitted like its photograph: a binary label stays binary (the resize is bilinear), a soft one
// (probabilities, pseudo_label "soft") stays soft.
torch::Tensor fit_label(const torch::Tensor& label, const InputOptions& in, int64_t multiple) {
  const bool binary = ((label == 0) | (label == 1)).all().item<bool>();
  const torch::Tensor y = fit_to_canvas(label, in, multiple, nullptr);
  return binary ? y.gt(0.5).to(torch::kFloat) : y.clamp(0, 1);
}

Stacked stack_samples(const std::vector<Sample>& samples, const InputOptions& in, int64_t multiple,
                      const torch::Device& device, bool keep_photos = false) {
  Stacked s;
  if (samples.empty()) return s;
  std::vector<torch::Tensor> im, lb, mk;
  int64_t H = 0, W = 0;
  for (const auto& x : samples) {
    TORCH_CHECK(x.label.defined(), "training sample ", x.id, " has no label");
    FitInfo fi;
    im.push_back(fit_to_canvas(enhance_image(x.image, in), in, multiple, &fi));
    lb.push_back(fit_label(x.label, in, multiple));
    mk.push_back(fit_to_canvas(x.mask, in, multiple, nullptr, /*nearest=*/true));
    s.fit.push_back(fi);
    s.ids.push_back(x.id);
    if (keep_photos) s.photos.push_back(x.image.to(torch::kCPU));
    H = std::max(H, im.back().size(1));
    W = std::max(W, im.back().size(2));
  }
  // Images of different sizes: pad each canvas once more to the largest one.
  for (size_t i = 0; i < im.size(); ++i) {
    if (im[i].size(1) == H && im[i].size(2) == W) continue;
    PadInfo extra;
    im[i] = pad_center(im[i], H, W, &extra);
    lb[i] = pad_center(lb[i], H, W);
    mk[i] = pad_center(mk[i], H, W);
    s.fit[i].pad.top += extra.top;
    s.fit[i].pad.left += extra.left;
  }
  s.image = torch::stack(im).to(device);
  s.label = torch::stack(lb).to(device);
  s.mask = torch::stack(mk).to(device);
  return s;
}

// One photograph enhanced with a drawn clip limit and gamma (data/enhance_jitter.h).
torch::Tensor jittered_enhancement(const torch::Tensor& photo, InputOptions in, const EnhanceJitterOptions& j) {
  const EnhanceDraw d = draw_enhancement(j, in.clahe_clip);
  in.clahe_clip = d.clip;
  const torch::Tensor x = enhance_image(photo, in);
  return d.gamma == 1 ? x : x.clamp(0, 1).pow(d.gamma);
}

// The canvases of the photographs idx of s, each degraded as a.degrade says, then enhanced (with the clip limit
// and gamma a.enhance_jitter draws) and fitted as in stack_samples, so the canvas is the one it would have been
// without them.
torch::Tensor enhanced_canvases(const Stacked& s, const torch::Tensor& idx, const InputOptions& in, int64_t multiple,
                                const AugmentOptions& a, const torch::Device& device) {
  const int64_t H = s.image.size(2), W = s.image.size(3);
  const torch::Tensor rows = idx.to(torch::kCPU);
  std::vector<torch::Tensor> im;
  for (int64_t k = 0; k < rows.size(0); ++k) {
    const torch::Tensor& photo = s.photos.at(static_cast<size_t>(rows[k].item<int64_t>()));
    const torch::Tensor degraded = degrade(photo.unsqueeze(0), a.degrade).squeeze(0);
    const torch::Tensor enhanced =
        active(a.enhance_jitter) ? jittered_enhancement(degraded, in, a.enhance_jitter) : enhance_image(degraded, in);
    im.push_back(pad_center(fit_to_canvas(enhanced, in, multiple, nullptr), H, W));
  }
  return torch::stack(im).to(device);
}

// Patch training: each photograph resized as the recipe says but not padded to a canvas (crops need none).
PatchSampler make_patch_sampler(const std::vector<Sample>& samples, const TrainOptions& opt,
                                const torch::Device& device) {
  InputOptions in = opt.input;
  in.pad_to = 0;
  std::vector<torch::Tensor> im, lb, mk;
  for (const auto& x : samples) {
    TORCH_CHECK(x.label.defined(), "training sample ", x.id, " has no label");
    im.push_back(fit_to_canvas(enhance_image(x.image, in), in, 1, nullptr).to(device));
    lb.push_back(fit_label(x.label, in, 1).to(device));
    mk.push_back(fit_to_canvas(x.mask, in, 1, nullptr, /*nearest=*/true).to(device));
  }
  return PatchSampler(std::move(im), std::move(lb), std::move(mk), opt.patch.size, opt.patch.fov_share);
}

void to_channels_last(torch::nn::Module& m) {
  for (auto& p : m.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
}

struct ValResult {
  double loss = 0, f1 = 0, auc = 0, se = 0, sp = 0;
};

// Validation inside each image's FOV, pooled over the validation images (protocol.md's headline way).
ValResult validate_epoch(SAUNet& model, const Stacked& val, const TrainOptions& opt, const torch::Device& device) {
  ValResult r;
  if (val.ids.empty()) return r;
  torch::NoGradGuard no_grad;
  model->eval();
  Confusion total;
  std::vector<torch::Tensor> scores, truths;
  double loss_sum = 0;
  const int64_t n = val.image.size(0);
  for (int64_t b = 0; b < n; b += opt.batch_size) {
    const int64_t e = std::min(n, b + opt.batch_size);
    auto x = val.image.slice(0, b, e);
    if (device.is_cuda() && opt.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    torch::Tensor logits;
    {
      AutocastGuard autocast(device, opt.bf16);
      logits = model->forward(x);
    }
    logits = logits.to(torch::kFloat);
    loss_sum += segmentation_loss(logits, val.label.slice(0, b, e), opt.loss).item<double>() * (e - b);
    auto prob = torch::sigmoid(logits).cpu();
    for (int64_t i = b; i < e; ++i) {
      const auto& fi = val.fit[i];
      auto p = map_back(prob[i - b], fi);
      auto l = map_back(val.label[i].cpu(), fi).gt(0.5);
      auto m = map_back(val.mask[i].cpu(), fi).gt(0.5);
      total += confusion_at(p, l, m, 0.5);
      scores.push_back(p.masked_select(m));
      truths.push_back(l.masked_select(m));
    }
  }
  const auto tm = threshold_metrics(total);
  r.loss = loss_sum / static_cast<double>(n);
  r.f1 = tm.f1;
  r.se = tm.se;
  r.sp = tm.sp;
  r.auc = roc_auc(torch::cat(scores), torch::cat(truths));
  return r;
}

double selection_score(const std::string& select, const ValResult& v, double train_loss, bool has_val) {
  if (!has_val) return -train_loss;
  if (select == "auc") return v.auc;
  if (select == "loss") return -v.loss;
  return v.f1;
}

// Rank 0's validation on every rank (the others wait): one set of scores decides best.pt everywhere.
ValResult broadcast_validation(const Collective& world, ValResult v) {
  if (!world.distributed()) return v;
  torch::Tensor t = torch::tensor({v.loss, v.f1, v.auc, v.se, v.sp}, torch::TensorOptions().dtype(torch::kDouble));
  world.broadcast(t, 0);
  return {t[0].item<double>(), t[1].item<double>(), t[2].item<double>(), t[3].item<double>(), t[4].item<double>()};
}

// Before anything is written: the batch splits over the ranks, and every rank has the same recipe, data and
// resume state (a rank started with other flags or files would silently train something else).
void check_data_parallel(const Collective& world, const TrainOptions& opt, int64_t per_epoch,
                         const nlohmann::json& config, const std::vector<Sample>& targets,
                         const std::vector<Sample>& val, const nlohmann::json& resume_state) {
  if (!world.distributed()) return;
  if (opt.batch_size % world.size() != 0)
    throw UserError("train.batch_size = " + std::to_string(opt.batch_size) + " does not split over " +
                    std::to_string(world.size()) + " ranks; valid: a multiple of the number of ranks (each rank "
                    "takes batch_size / ranks)");
  const int64_t last = per_epoch % opt.batch_size;
  if (last != 0 && last < world.size())
    throw UserError("the last batch of each epoch holds " + std::to_string(last) + " of " +
                    std::to_string(per_epoch) + " samples, fewer than the " + std::to_string(world.size()) +
                    " ranks; valid: a batch_size that leaves no remainder or at least one sample per rank");
  check_same_job(world, config, samples_fingerprint(targets) + samples_fingerprint(val), resume_state);
}

// The starting weights of a run (train.init_from): a checkpoint of the same network, or, for a cascade, of its
// first stage alone (an SA-UNet without a refiner), whose weights then start the first stage; the refiner keeps
// its initialization (a zero correction, so the cascade starts as that SA-UNet).
void load_init_weights(const std::string& path, SAUNet& model, const torch::Device& device) {
  if (!fs::exists(path))
    throw UserError("train.init_from: " + path + " does not exist (give an SA-UNet checkpoint, or \"\")");
  const CheckpointHeader header = read_checkpoint_header(path, kSegCheckpointKind);
  const bool first_stage_only =
      model->refiner() && header.config.contains("train") && header.config["train"].contains("model") &&
      header.config["train"]["model"].value("refiner_channels", int64_t{0}) == 0;
  if (!first_stage_only) {
    load_checkpoint(path, kSegCheckpointKind, *model, device);
    return;
  }
  SAUNetOptions first = model->options();
  first.refiner_channels = 0;
  SAUNet init(first);
  load_checkpoint(path, kSegCheckpointKind, *init, device);
  const auto missing = copy_named_tensors(*init, *model);
  TORCH_CHECK(missing.empty(), "load_init_weights: the cascade has no ", missing.front());
}

// Weight averaging after an epoch (train.swa_start): `model`'s weights folded into `average`, whose batch-norm
// statistics are then measured on the training photographs `tr` (batches in order, no augmentation).
void update_weight_average(SAUNet& average, SAUNet& model, int64_t count, const Stacked& tr, int64_t batch_size) {
  fold_into_average(*average, *model, count);
  torch::NoGradGuard no_grad;
  average->eval();
  const int64_t n = tr.image.size(0), batches = (n + batch_size - 1) / batch_size;
  measure_running_statistics(*average, batches, [&](int64_t i) {
    average->forward(tr.image.slice(0, i * batch_size, std::min(n, (i + 1) * batch_size)));
  });
}

// A network whose initialization leaves the run's random stream as it was, so a run that averages its weights
// trains exactly as the same run without.
SAUNet network_outside_the_run_rng(const SAUNetOptions& options, const torch::Device& device) {
  const torch::Tensor state = rng_state(torch::kCPU);
  SAUNet net(options);
  set_rng_state(torch::kCPU, state);
  net->to(device);
  return net;
}

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

}  // namespace

TrainResult train_sa_unet(const std::vector<Sample>& train, const std::vector<Sample>& val,
                          const TrainOptions& options_in, const fs::path& run_dir, const torch::Device& device,
                          bool resume, const ProgressFn& progress_in, const Collective& world) {
  const ProgressFn progress = world.is_main() ? progress_in : ProgressFn();  // rank 0 reports for the job
  if (train.empty()) throw UserError("no training images (the training set must hold at least one labelled image)");
  const fs::path ckpt_dir = run_dir / "checkpoints";
  const fs::path last_path = ckpt_dir / "last.pt", best_path = ckpt_dir / "best.pt", swa_path = ckpt_dir / "swa.pt";
  const fs::path stats_path = run_dir / "stats.jsonl";
  const bool resuming = resume && fs::exists(last_path);
  if (!resume && fs::exists(last_path))
    throw UserError("run folder " + run_dir.string() +
                    " already holds a training run (pass --resume to continue it, or choose another --out)");

  TrainOptions opt = options_in;
  CheckpointHeader header;
  if (resuming) {
    header = read_checkpoint_header(last_path, kSegCheckpointKind);
    opt = header.config.at("train").get<TrainOptions>();  // a resumed run keeps its own recipe
  }
  validate(opt);
  // The targets the network learns: the labels, or their blend with a teacher's maps (before anything is written,
  // so a missing teacher refuses the run cleanly).
  const std::vector<Sample> targets =
      opt.distill.teacher.empty() ? train : with_teacher_targets(train, opt.distill, device);

  seed_everything(opt.seed);
  SAUNet model(opt.model);
  model->to(device);
  if (device.is_cuda() && opt.channels_last) to_channels_last(*model);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(lr_at_epoch(opt, 0)).weight_decay(opt.weight_decay));
  // The contrastive term's head (train.contrast) trains beside the network, in Adam's second group, and lives in
  // last.pt's extra tensors, so a resumed run continues it exactly. It never leaves the run.
  PixelContrastHead head = active(opt.contrast) ? PixelContrastHead(opt.model.base_channels, opt.contrast)
                                                : PixelContrastHead(nullptr);
  if (head) {
    head->to(device);
    adam.add_param_group(torch::optim::OptimizerParamGroup(head->parameters()));
  }
  std::vector<torch::Tensor> trained = model->parameters();  // whose gradients the ranks average
  if (head) for (const auto& p : head->parameters()) trained.push_back(p);

  nlohmann::json config = {{"train", opt}};
  config["fov_diameter"] = training_fov_diameter(train, opt.input);  // the scale inference normalizes to
  for (const auto& s : train) config["train_ids"].push_back(s.id);
  config["val_ids"] = nlohmann::json::array();
  for (const auto& s : val) config["val_ids"].push_back(s.id);
  const bool patches = opt.patch.size > 0;
  const int64_t n = patches ? opt.patch.per_epoch : static_cast<int64_t>(targets.size());  // samples per epoch
  check_data_parallel(world, opt, n, config, targets, val, resuming ? header.state : nlohmann::json());
  const bool writer = world.is_main();  // rank 0 alone writes the run folder

  // The weight average (train.swa_start) lives in last.pt beside the weights, so a resumed run continues it exactly.
  const bool averaging = opt.swa_start > 0;
  SAUNet average = averaging ? network_outside_the_run_rng(opt.model, device) : SAUNet(nullptr);
  int64_t average_count = 0;

  int64_t start_epoch = 0, step = 0, best_epoch = -1;
  double best_score = -std::numeric_limits<double>::infinity();
  if (resuming) {
    std::map<std::string, torch::Tensor> rng = {{"rng_cpu", {}}, {"rng_device", {}}};
    if (averaging) rng.merge(average_tensor_slots(*average));
    if (head) rng.merge(contrast_head_tensor_slots(*head));
    header = load_checkpoint(last_path, kSegCheckpointKind, *model, device, &adam, &rng);
    if (head) read_contrast_head_tensors(rng, *head);
    average_count = header.state.value("swa_count", int64_t{0});
    if (average_count > 0) read_average_tensors(rng, *average);
    start_epoch = header.state.at("epoch").get<int64_t>();
    step = header.state.value("step", int64_t{0});
    best_score = header.state.value("best_score", best_score);
    best_epoch = header.state.value("best_epoch", int64_t{-1});
    if (rng["rng_cpu"].defined()) set_rng_state(torch::kCPU, rng["rng_cpu"]);
    if (device.is_cuda() && rng["rng_device"].defined()) set_rng_state(device, rng["rng_device"]);
    // Rows written after the checkpoint (a run killed mid-epoch) would be repeated: drop them.
    if (writer) filter_jsonl(stats_path, [&](const nlohmann::json& row) { return row.value("epoch", int64_t{0}) <= start_epoch; });
  } else {
    if (!opt.init_from.empty()) {
      load_init_weights(opt.init_from, model, device);
      if (device.is_cuda() && opt.channels_last) to_channels_last(*model);
    }
    if (writer) {
      fs::create_directories(ckpt_dir);
      std::error_code ec;
      fs::remove(stats_path, ec);
      write_file_atomic(run_dir / "config.json", config.dump(2) + "\n");
    }
  }
  broadcast_module(world, *model);  // every rank starts from rank 0's weights
  if (head) broadcast_module(world, *head);

  const int64_t multiple = int64_t{1} << opt.model.depth;
  // Whole photographs stacked once, or a sampler of crops; n = images (or crops) per epoch.
  const bool per_batch = enhances_per_batch(opt);  // validate() refuses it with patches
  AugmentOptions canvas_augment = opt.augment;
  if (degrades_before_enhancing(opt)) canvas_augment.degrade.p = 0;  // done on the photographs
  const Stacked tr = patches ? Stacked{} : stack_samples(targets, opt.input, multiple, device, per_batch);
  const std::optional<PatchSampler> sampler =
      patches ? std::optional<PatchSampler>(make_patch_sampler(targets, opt, device)) : std::nullopt;
  const Stacked va = stack_samples(val, opt.input, multiple, device);
  // The photographs the weight average measures its batch-norm statistics on (whole ones, also in patch mode).
  const Stacked statistics_photos =
      averaging && writer ? (patches ? stack_samples(targets, opt.input, multiple, device) : tr) : Stacked{};
  const int64_t steps_per_epoch = (n + opt.batch_size - 1) / opt.batch_size;
  const int64_t start_step = step;  // steps of a resumed run done before this process
  const int64_t epochs = total_epochs(opt);
  const auto t_run = Clock::now();

  TrainResult result;
  result.best = best_path;
  result.last = last_path;
  for (int64_t epoch = start_epoch; epoch < epochs; ++epoch) {
    const auto t_epoch = Clock::now();
    const double comm_at_start = world.seconds_in_collectives();
    const double lr = lr_at_epoch(opt, epoch);
    set_lr(adam, lr);
    model->train();
    const auto perm = patches ? torch::Tensor() : torch::randperm(n, torch::TensorOptions().dtype(torch::kLong));
    double loss_sum = 0, contrast_sum = 0;
    for (int64_t b = 0; b < n; b += opt.batch_size) {
      const int64_t count = std::min(n, b + opt.batch_size) - b;
      SegBatch batch;
      if (patches) {
        sampler->draw(count, &batch.image, &batch.label, &batch.mask);
      } else {
        const auto idx = perm.slice(0, b, b + count).to(device);
        batch = {per_batch ? enhanced_canvases(tr, idx, opt.input, multiple, opt.augment, device)
                           : tr.image.index_select(0, idx),
                 tr.label.index_select(0, idx), tr.mask.index_select(0, idx)};
      }
      batch = augment(batch, canvas_augment);
      adam.zero_grad();
      // Data-parallel: this rank computes its rows of the global batch (batch_shard.h); the gradients and the
      // loss are then averaged over the ranks.
      std::optional<BatchShardScope> shard;
      if (world.distributed()) shard.emplace(world, shard_of(count, world.rank(), world.size()));
      auto x = shard_rows(batch.image);
      if (device.is_cuda() && opt.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      std::vector<torch::Tensor> stages;  // one, or a cascade's two
      torch::Tensor features;             // the last decoder features, for the contrastive term
      {
        AutocastGuard autocast(device, opt.bf16);
        if (head) {
          auto [logits, last_features] = model->forward_with_features(x);
          stages = {std::move(logits)};
          features = std::move(last_features);
        } else {
          stages = model->forward_stages(x);
        }
      }
      // A cascade learns from both stages' losses, summed (the W-Net's deep supervision).
      const torch::Tensor labels = shard_rows(batch.label);
      torch::Tensor loss = segmentation_loss(stages[0].to(torch::kFloat), labels, opt.loss);
      for (size_t s = 1; s < stages.size(); ++s)
        loss = loss + segmentation_loss(stages[s].to(torch::kFloat), labels, opt.loss);
      std::vector<double> scalars = {loss.item<double>(), 0.0};  // the loss, the contrastive term
      if (head) {
        const torch::Tensor rows = sample_contrast_pixels(features.to(torch::kFloat), torch::sigmoid(stages[0].detach()),
                                                          labels, shard_rows(batch.mask), opt.contrast);
        if (rows.defined()) {
          const torch::Tensor term = pixel_contrast_loss(head, rows);
          scalars[1] = term.item<double>();
          loss = loss + opt.contrast.weight * term;
        }
      }
      loss.backward();
      average_gradients(world, trained, &scalars);
      shard.reset();
      const double loss_value = scalars[0];
      if (!std::isfinite(loss_value + scalars[1]))
        throw UserError(std::string("training diverged: the loss is ") + (std::isnan(loss_value + scalars[1]) ? "NaN" : "infinite") + " at epoch " +
                        std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                        " (lower the learning rate; the last good checkpoint is " + last_path.string() + ")");
      adam.step();
      ++step;
      loss_sum += loss_value * static_cast<double>(count);
      contrast_sum += scalars[1] * static_cast<double>(count);
      if (progress) {
        Progress p;
        p.stage = "train";
        p.unit = "step";
        p.done = step;
        p.done_at_start = start_step;
        p.total = epochs * steps_per_epoch;
        p.elapsed_s = seconds_since(t_run);
        p.scalars = {{"epoch", epoch + 1}, {"loss", loss_value}, {"lr", lr}};
        progress(p);
      }
    }
    const double train_loss = loss_sum / static_cast<double>(n);
    const ValResult v = broadcast_validation(world, writer ? validate_epoch(model, va, opt, device) : ValResult{});
    // Every rank holds the same weights, so rank 0 alone averages, measures and validates the average.
    const bool averaged = averaging && writer && epoch + 1 >= opt.swa_start;
    ValResult va_average;
    if (averaged) {
      update_weight_average(average, model, average_count++, statistics_photos, opt.batch_size);
      va_average = validate_epoch(average, va, opt, device);
    }
    const double score = selection_score(opt.select, v, train_loss, !va.ids.empty());
    const bool improved = score > best_score;
    if (improved) {
      best_score = score;
      best_epoch = epoch + 1;
    }
    const double secs = seconds_since(t_epoch);
    nlohmann::json row = {{"epoch", epoch + 1}, {"step", step}, {"lr", lr}, {"train_loss", train_loss},
                          {"seconds", secs}, {"images_per_s", static_cast<double>(n) / secs}};
    if (!va.ids.empty()) {
      row["val_loss"] = v.loss;
      row["val_f1"] = v.f1;
      row["val_auc"] = v.auc;
      row["val_se"] = v.se;
      row["val_sp"] = v.sp;
    }
    if (head) row["train_contrast"] = contrast_sum / static_cast<double>(n);  // the term before its weight
    row["best"] = improved;
    if (averaged) {
      row["swa_count"] = average_count;
      if (!va.ids.empty()) {
        row["swa_val_f1"] = va_average.f1;
        row["swa_val_auc"] = va_average.auc;
        row["swa_val_loss"] = va_average.loss;
      }
    }
    if (world.distributed()) {  // rank 0's time in collectives, waiting for the others included
      row["ranks"] = world.size();
      row["comm_seconds"] = world.seconds_in_collectives() - comm_at_start;
    }

    // The stats row first, then the checkpoints: a kill in between leaves a row past last.pt, which resume drops
    // and redoes with its epoch. (The other order lost the row: resume starts after the checkpointed epoch.)
    if (writer) append_jsonl(stats_path, row);
    CheckpointHeader h;
    h.kind = kSegCheckpointKind;
    h.config = config;
    h.state = {{"epoch", epoch + 1}, {"step", step}, {"best_score", best_score}, {"best_epoch", best_epoch},
               {"val_f1", v.f1}, {"val_auc", v.auc}, {"train_loss", train_loss}};
    std::map<std::string, torch::Tensor> rng = {{"rng_cpu", rng_state(torch::kCPU)}};
    if (device.is_cuda()) rng["rng_device"] = rng_state(device);
    if (writer) {
      if (improved) save_checkpoint(best_path, h, *model, nullptr, {});
      if (averaged) {
        // swa.pt before last.pt: a kill in between redoes this epoch from last.pt's average and rewrites swa.pt.
        CheckpointHeader ha = h;
        ha.state["swa_count"] = average_count;
        ha.state["swa_start"] = opt.swa_start;
        ha.state["val_f1"] = va_average.f1;
        ha.state["val_auc"] = va_average.auc;
        save_checkpoint(swa_path, ha, *average, nullptr, {});
        h.state["swa_count"] = average_count;
        rng.merge(average_tensors(*average));
      }
      if (head) rng.merge(contrast_head_tensors(*head));
      save_checkpoint(last_path, h, *model, &adam, rng);
      write_training_curves(run_dir / "curves.svg", read_jsonl(stats_path));
    }
    result.seconds = seconds_since(t_run);
    if (progress) {
      Progress p;
      p.stage = "epoch";
      p.unit = "epoch";
      p.done = epoch + 1;
      p.done_at_start = start_epoch;
      p.total = epochs;
      p.elapsed_s = result.seconds;
      p.scalars = {{"train_loss", train_loss}, {"lr", lr}};
      if (!va.ids.empty()) p.scalars.insert({{"val_f1", v.f1}, {"val_auc", v.auc}, {"val_loss", v.loss}});
      if (averaged && !va.ids.empty()) p.scalars.insert({{"swa_val_f1", va_average.f1}, {"swa_val_auc", va_average.auc}});
      p.message = improved ? "best so far" : "";
      progress(p);
    }
  }
  result.best_score = best_score;
  result.best_epoch = best_epoch;
  result.epochs_done = epochs;
  result.seconds = seconds_since(t_run);
  return result;
}

}  // namespace vg
