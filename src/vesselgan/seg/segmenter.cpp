#include "vesselgan/seg/segmenter.h"

#include <algorithm>
#include <cmath>

#include "vesselgan/core/compat.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/jpeg_blockiness.h"
#include "vesselgan/eval/operating_point.h"
#include "vesselgan/eval/temperature.h"
#include "vesselgan/seg/batch_norm_statistics.h"
#include "vesselgan/seg/ensemble.h"
#include "vesselgan/seg/ensemble_checkpoint.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace {

// The recorded calibration temperature of a checkpoint's header, 1 when none.
double recorded_temperature(const CheckpointHeader& h, const std::filesystem::path& checkpoint) {
  const auto it = h.config.find("calibration");
  if (it == h.config.end()) return 1.0;
  const auto t = it->find("temperature");
  if (t == it->end() || !t->is_number() || !(t->get<double>() > 0))
    throw UserError("checkpoint " + checkpoint.string() +
                    " has a calibration without a positive \"temperature\" (re-run vesselgan calibrate)");
  return t->get<double>();
}

// The recorded count ratio of the expected-count operating point ("predict": {"count_ratio": r}), 1 when none.
double recorded_count_ratio(const CheckpointHeader& h, const std::filesystem::path& checkpoint) {
  const auto it = h.config.find("predict");
  if (it == h.config.end()) return 1.0;
  const auto r = it->find("count_ratio");
  if (r == it->end()) return 1.0;
  if (!r->is_number() || !(r->get<double>() > 0) || !std::isfinite(r->get<double>()))
    throw UserError("checkpoint " + checkpoint.string() +
                    " has a \"predict\".\"count_ratio\" that is not a positive number (re-run vesselgan calibrate "
                    "--count-ratio)");
  return r->get<double>();
}

// The operating-point rule the checkpoint records ("predict": {"operating_point": rule}), "fixed" when none. A rule
// other than "fixed" needs the recorded count ratio it was chosen with.
std::string recorded_operating_point(const CheckpointHeader& h, const std::filesystem::path& checkpoint) {
  const auto it = h.config.find("predict");
  if (it == h.config.end()) return "fixed";
  const auto v = it->find("operating_point");
  if (v == it->end()) return "fixed";
  const std::string what = "checkpoint " + checkpoint.string() + "'s \"predict\".\"operating_point\"";
  if (!v->is_string()) throw UserError(what + " is not a rule's name (re-run vesselgan calibrate --operating-point)");
  check_operating_point_rule(v->get<std::string>(), what);
  if (v->get<std::string>() != "fixed" && !it->contains("count_ratio"))
    throw UserError("checkpoint " + checkpoint.string() + " records the operating point " + v->get<std::string>() +
                    " without its count ratio (re-run vesselgan calibrate --count-ratio --operating-point " +
                    v->get<std::string>() + ")");
  return v->get<std::string>();
}

// Whether the checkpoint records prediction-time image statistics ("predict": {"image_statistics": true}).
bool recorded_image_statistics(const CheckpointHeader& h, const std::filesystem::path& checkpoint) {
  const auto it = h.config.find("predict");
  if (it == h.config.end()) return false;
  const auto v = it->find("image_statistics");
  if (v == it->end()) return false;
  if (!v->is_boolean())
    throw UserError("checkpoint " + checkpoint.string() +
                    " has a \"predict\".\"image_statistics\" that is not true or false (re-export it)");
  return v->get<bool>();
}

// The statistics ranges a checkpoint records ("predict": {"statistics_ranges": [{low, high}, ...]}), none when
// absent.
std::vector<StatisticsRange> recorded_statistics_ranges(const CheckpointHeader& h,
                                                        const std::filesystem::path& checkpoint) {
  const auto it = h.config.find("predict");
  if (it == h.config.end()) return {};
  const auto v = it->find("statistics_ranges");
  if (v == it->end()) return {};
  try {
    return v->get<std::vector<StatisticsRange>>();
  } catch (const nlohmann::json::exception&) {
    throw UserError("checkpoint " + checkpoint.string() +
                    " has \"predict\".\"statistics_ranges\" that are not a list of {\"low\", \"high\"} numbers"
                    " (re-run vesselgan calibrate --statistics-range)");
  }
}

// Sets the recorded ranges on s, naming the checkpoint when they do not fit it.
void apply_recorded_ranges(Segmenter& s, std::vector<StatisticsRange> ranges, const std::filesystem::path& checkpoint) {
  try {
    s.set_statistics_ranges(std::move(ranges));
  } catch (const UserError& e) {
    throw UserError("checkpoint " + checkpoint.string() + ": " + e.what() +
                    " (re-run vesselgan calibrate --statistics-range)");
  }
}

}  // namespace

bool drop_recorded_count_ratio(nlohmann::json& config) {
  const auto it = config.find("predict");
  if (it == config.end() || !it->is_object() || !it->contains("count_ratio")) return false;
  it->erase("count_ratio");
  it->erase("count_ratio_data");
  it->erase("operating_point");
  return true;
}

bool drop_recorded_calibration(nlohmann::json& config) {
  return config.is_object() && config.erase("calibration") > 0;
}

Segmenter Segmenter::load(const std::filesystem::path& checkpoint, const torch::Device& device) {
  const CheckpointHeader h = read_checkpoint_header(checkpoint);
  if (h.kind != kSegCheckpointKind && h.kind != kSegEnsembleKind)
    throw UserError("checkpoint " + checkpoint.string() + " holds a '" + h.kind +
                    "' model (need an SA-UNet: '" + kSegCheckpointKind + "' or '" + kSegEnsembleKind + "')");
  TrainOptions opt;
  try {
    opt = h.config.at("train").get<TrainOptions>();
    validate(opt);
  } catch (const UserError& e) {
    throw UserError("checkpoint " + checkpoint.string() + " has an unusable config: " + e.what());
  } catch (const std::exception& e) {
    throw UserError("checkpoint " + checkpoint.string() + " has no SA-UNet config (was it written by vesselgan train?)");
  }
  const double temperature = recorded_temperature(h, checkpoint);
  const double count_ratio = recorded_count_ratio(h, checkpoint);
  const std::string operating_point = recorded_operating_point(h, checkpoint);
  const bool image_statistics = recorded_image_statistics(h, checkpoint);
  auto ranges = recorded_statistics_ranges(h, checkpoint);
  if (h.kind == kSegEnsembleKind) {
    std::vector<double> weights = ensemble_weights(h, checkpoint);
    SAUNetEnsemble holder(opt.model, static_cast<int64_t>(weights.size()));
    holder->to(device);
    Segmenter s(holder->members(), std::move(weights), opt.input, device);
    try {
      s.set_member_inputs(ensemble_member_inputs(h, checkpoint));
    } catch (const UserError& e) {
      throw UserError("checkpoint " + checkpoint.string() + ": " + e.what());
    }
    s.temperature_ = temperature;
    s.count_ratio_ = count_ratio;
    s.operating_point_ = operating_point;
    s.image_statistics_ = image_statistics;
    s.header_ = load_checkpoint(checkpoint, kSegEnsembleKind, *holder, device);
    apply_recorded_ranges(s, std::move(ranges), checkpoint);
    s.set_compression_gate(ensemble_compression_gate(h, checkpoint));
    for (auto& m : s.members_) m->eval();
    return s;
  }
  SAUNet model(opt.model);
  model->to(device);
  Segmenter s(model, opt.input, device);
  s.temperature_ = temperature;
  s.count_ratio_ = count_ratio;
  s.operating_point_ = operating_point;
  s.image_statistics_ = image_statistics;
  s.header_ = load_checkpoint(checkpoint, kSegCheckpointKind, *s.members_.front(), device);
  apply_recorded_ranges(s, std::move(ranges), checkpoint);
  s.members_.front()->eval();
  return s;
}

Segmenter::Segmenter(SAUNet model, InputOptions input, const torch::Device& device)
    : Segmenter(std::vector<SAUNet>{std::move(model)}, {1.0}, input, device) {}

Segmenter::Segmenter(std::vector<SAUNet> members, std::vector<double> weights, InputOptions input,
                     const torch::Device& device)
    : members_(std::move(members)), weights_(std::move(weights)), input_(input), device_(device) {
  TORCH_CHECK(!members_.empty(), "Segmenter needs at least one network");
  TORCH_CHECK(weights_.size() == members_.size(), "Segmenter: ", weights_.size(), " weights for ",
              members_.size(), " networks");
  double sum = 0;
  for (double w : weights_) {
    TORCH_CHECK(std::isfinite(w) && w >= 0, "Segmenter: weights must be finite and >= 0, got ", w);
    sum += w;
  }
  TORCH_CHECK(sum > 0, "Segmenter: weights sum to 0");
  weights_ = normalized_weights(weights_);
  set_member_inputs({});
  const auto arch = nlohmann::json(members_.front()->options());
  for (auto& m : members_) {
    TORCH_CHECK(nlohmann::json(m->options()) == arch, "Segmenter: ensemble members differ in architecture");
    m->eval();
  }
}

void Segmenter::set_member_inputs(std::vector<InputOptions> inputs) {
  if (inputs.empty()) {
    views_ = {input_};
    view_of_.assign(members_.size(), 0);
    return;
  }
  if (inputs.size() != members_.size())
    throw UserError(std::to_string(inputs.size()) + " input recipes for a model of " +
                    std::to_string(members_.size()) + " networks (need one per network)");
  views_.clear();
  view_of_.clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputOptions& in = inputs[i];
    validate(in);
    if (!same_geometry(in, input_))
      throw UserError("network " + std::to_string(i + 1) + "'s input (resize " + std::to_string(in.resize) +
                      ", pad_to " + std::to_string(in.pad_to) + ") differs from the model's (resize " +
                      std::to_string(input_.resize) + ", pad_to " + std::to_string(input_.pad_to) +
                      "): networks may differ only in their enhancement");
    const auto same = [&](const InputOptions& v) { return nlohmann::json(v) == nlohmann::json(in); };
    const auto it = std::find_if(views_.begin(), views_.end(), same);
    view_of_.push_back(static_cast<size_t>(it - views_.begin()));
    if (it == views_.end()) views_.push_back(in);
  }
}

const InputOptions& Segmenter::member_input(size_t i) const { return views_.at(view_of_.at(i)); }

torch::Tensor Segmenter::member_view(size_t i, const torch::Tensor& x) const {
  if (views_.size() == 1) return x;
  return x.narrow(1, static_cast<int64_t>(3 * view_of_[i]), 3);
}

namespace {

// For its lifetime, every BatchNorm layer of the models normalises with the statistics of the batch it is given
// (training mode with momentum 0: the running statistics stay as they are); everything else stays in
// evaluation mode.
class ImageStatisticsScope {
 public:
  ImageStatisticsScope(const std::vector<SAUNet>& models, bool on) {
    if (!on) return;
    for (const auto& m : models)
      for (auto* bn : batch_norm_layers(*m.ptr())) {
        layers_.push_back({bn, bn->options.momentum()});
        bn->options.momentum(0.0);
        bn->train(true);
      }
  }
  ~ImageStatisticsScope() {
    for (auto& [bn, momentum] : layers_) {
      bn->train(false);
      bn->options.momentum(momentum);
    }
  }
  ImageStatisticsScope(const ImageStatisticsScope&) = delete;
  ImageStatisticsScope& operator=(const ImageStatisticsScope&) = delete;

 private:
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> layers_;
};

}  // namespace

torch::Tensor Segmenter::member_forward(size_t i, const torch::Tensor& canvas, bool adaptive, double* weight) const {
  SAUNet& net = members_[i];
  const torch::Tensor x = member_view(i, canvas);
  *weight = 0;
  if (!adaptive) return net->forward(x);
  const BatchNormStatistics own = input_statistics(*net, [&] { net->forward(x); });
  const double w = image_statistics_weight(statistics_distance(own, running_statistics(*net)), statistics_ranges_[i]);
  *weight = w;
  if (w == 0) return net->forward(x);
  const MixedStatisticsScope mixed(*net, own, w);
  return net->forward(x);
}

torch::Tensor Segmenter::forward_canvas(const torch::Tensor& x, const PredictOptions& opt, bool use_ranges,
                                        const std::vector<double>& weights, WeightTally& tally) const {
  // x: [1, 3, H, W] on device -> probability [1, 1, H, W] float
  const bool full = opt.image_statistics || image_statistics_;
  const ImageStatisticsScope statistics(members_, full);
  const bool adaptive = !full && use_ranges && !statistics_ranges_.empty();
  const bool moved = full || adaptive;  // the statistics may leave the running ones: tally their weights
  if (moved) tally.sum.resize(members_.size(), 0.0);
  auto run = [&](const torch::Tensor& in) {
    AutocastGuard autocast(device_, opt.bf16);
    torch::Tensor p;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (weights[i] == 0) continue;
      double w = 0;
      auto q = torch::sigmoid(member_forward(i, in, adaptive, &w).to(torch::kFloat));
      if (moved) tally.sum[i] += full ? 1.0 : w;
      p = p.defined() ? p.add_(q, weights[i]) : q.mul_(weights[i]);
    }
    ++tally.passes;
    return p;
  };
  if (!opt.tta) return run(x);
  // Flips are exact symmetries of the task; the network's response to them is not, so average.
  auto p = run(x);
  p += run(x.flip({3})).flip({3});
  p += run(x.flip({2})).flip({2});
  p += run(x.flip({2, 3})).flip({2, 3});
  return p / 4.0;
}

namespace {

// Where the tiles of a canvas side of n pixels start: every `stride`, the last flush with the far edge.
std::vector<int64_t> tile_starts(int64_t n, int64_t tile, int64_t stride) {
  std::vector<int64_t> s;
  for (int64_t p = 0;; p += stride) {
    if (p + tile >= n) {
      s.push_back(std::max<int64_t>(0, n - tile));
      break;
    }
    s.push_back(p);
  }
  return s;
}

}  // namespace

int64_t Segmenter::tile_side(const PredictOptions& opt) const {
  const int64_t multiple = int64_t{1} << members_.front()->options().depth;
  return std::max(round_up(opt.tile, multiple), multiple * 4);
}

torch::Tensor Segmenter::forward_tiled(const torch::Tensor& x, const PredictOptions& opt, bool use_ranges,
                                       const std::vector<double>& weights, WeightTally& tally) const {
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t tile = tile_side(opt);
  if (H <= tile && W <= tile) return forward_canvas(x, opt, use_ranges, weights, tally);
  const int64_t overlap = std::min(opt.tile_overlap, tile / 2);
  const int64_t stride = tile - overlap;
  // Linear ramp weights so tiles blend smoothly where they overlap.
  auto ramp = [&](int64_t n) {
    auto r = torch::ones({n});
    if (overlap > 0) {
      auto up = torch::linspace(1.0 / (overlap + 1), 1.0 - 1.0 / (overlap + 1), overlap);
      r.slice(0, 0, overlap).copy_(up);
      r.slice(0, n - overlap, n).copy_(up.flip({0}));
    }
    return r;
  };
  const auto w2d = (ramp(tile).unsqueeze(1) * ramp(tile).unsqueeze(0)).to(x.device());
  auto acc = torch::zeros({1, 1, H, W}, x.options().dtype(torch::kFloat));
  auto wsum = torch::zeros({1, 1, H, W}, x.options().dtype(torch::kFloat));
  for (int64_t y : tile_starts(H, tile, stride)) {
    for (int64_t xx : tile_starts(W, tile, stride)) {
      const int64_t th = std::min(tile, H), tw = std::min(tile, W);
      auto patch = x.slice(2, y, y + th).slice(3, xx, xx + tw);
      auto p = forward_canvas(patch, opt, use_ranges, weights, tally);
      auto w = w2d.slice(0, 0, th).slice(1, 0, tw);
      acc.slice(2, y, y + th).slice(3, xx, xx + tw) += p * w;
      wsum.slice(2, y, y + th).slice(3, xx, xx + tw) += w;
    }
  }
  return acc / wsum;
}

torch::Tensor Segmenter::probability(const torch::Tensor& image, const PredictOptions& opt) const {
  return probability(image, torch::Tensor(), opt);
}

torch::Tensor Segmenter::canvas_for(const torch::Tensor& image, const torch::Tensor& fov, const PredictOptions& opt,
                                    FitInfo& fi, ScaleInfo& si) const {
  TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "Segmenter expects an image [3, H, W], got ", image.sizes());
  TORCH_CHECK(!fov.defined() || (fov.dim() == 3 && fov.size(0) == 1 && fov.size(1) == image.size(1) &&
                                 fov.size(2) == image.size(2)),
              "Segmenter: FOV mask ", fov.sizes(), " does not fit the image ", image.sizes());
  TORCH_CHECK(opt.fov_diameter >= 0, "Segmenter: fov_diameter must be >= 0, got ", opt.fov_diameter);
  const int64_t H = image.size(1), W = image.size(2);
  torch::Tensor x = image.to(torch::kFloat).cpu();
  InputOptions input = input_;
  // A patch (a FOV the frame cuts on all four sides) is not a photograph: its FOV is the frame's size, so it
  // keeps its native pixels, and with its mask given it gets no canvas of the training photographs' size
  // (a 64 px patch on DRIVE's 592 canvas costs 85 times its pixels).
  const torch::Tensor region = fov.defined() ? fov : opt.fov_diameter > 0 ? estimate_fov(x, opt.fov) : torch::Tensor();
  const bool patch = region.defined() && fov_cut_by_frame(region);
  si.patch = patch;
  if (fov.defined() && patch) input.pad_to = 0;
  if (opt.fov_diameter > 0) {
    si.fov_estimated = !fov.defined();
    si.fov_diameter = fov_diameter(region);
    si.scale = patch ? 1.0 : fov_scale(si.fov_diameter, opt.fov_diameter);
    input.resize = 0;  // the FOV sets the scale
    if (si.scale != 1.0) {
      x = resize_to(x, std::max<int64_t>(1, std::llround(static_cast<double>(H) * si.scale)),
                    std::max<int64_t>(1, std::llround(static_cast<double>(W) * si.scale)));
    }
  }
  si.height = x.size(1);
  si.width = x.size(2);
  const int64_t multiple = int64_t{1} << members_.front()->options().depth;
  std::vector<torch::Tensor> views;
  for (const InputOptions& view : views_)  // enhance_image reads the enhancement, fit_to_canvas the geometry
    views.push_back(fit_to_canvas(enhance_image(x, view), input, multiple, &fi));
  return torch::cat(views, 0).unsqueeze(0).to(device_);
}

torch::Tensor Segmenter::probability(const torch::Tensor& image, const torch::Tensor& fov, const PredictOptions& opt,
                                     ScaleInfo* info) const {
  torch::NoGradGuard no_grad;
  FitInfo fi;
  ScaleInfo si;
  if (active(gate_)) {  // on the photograph as given: a resize would blur the block grid away
    si.blockiness = jpeg_blockiness(image, fov);
    si.compressed = reads_as_compressed(gate_, si.blockiness);
  }
  const std::vector<double>& weights = si.compressed ? gate_.weights : weights_;
  auto canvas = canvas_for(image, fov, opt, fi, si);
  WeightTally tally;
  auto prob = map_back(forward_tiled(canvas, opt, /*use_ranges=*/!si.patch, weights, tally)[0].cpu(), fi);
  canvas = torch::Tensor();
  for (double w : tally.sum) si.image_statistics_weights.push_back(w / static_cast<double>(tally.passes));
  const int64_t H = image.size(1), W = image.size(2);
  if (prob.size(1) != H || prob.size(2) != W) prob = resize_to(prob, H, W);
  if (info) *info = si;
  prob = apply_temperature(prob.clamp(0, 1), temperature_);
  if (opt.operating_point == "fixed") return prob;
  const torch::Tensor region = fov.defined() ? fov : estimate_fov(image.to(torch::kFloat).cpu(), opt.fov);
  return apply_operating_point(prob, region, opt.operating_point, opt.count_ratio);
}

std::vector<double> Segmenter::statistics_distances(const torch::Tensor& image, const torch::Tensor& fov,
                                                    const PredictOptions& opt) const {
  torch::NoGradGuard no_grad;
  FitInfo fi;
  ScaleInfo si;
  const auto canvas = canvas_for(image, fov, opt, fi, si);
  const int64_t H = canvas.size(2), W = canvas.size(3), tile = tile_side(opt);
  const int64_t stride = tile - std::min(opt.tile_overlap, tile / 2);
  std::vector<double> d(members_.size(), 0.0);
  int64_t tiles = 0;
  for (int64_t y : tile_starts(H, tile, stride))
    for (int64_t x : tile_starts(W, tile, stride)) {
      const auto part = canvas.slice(2, y, y + std::min(tile, H)).slice(3, x, x + std::min(tile, W));
      AutocastGuard autocast(device_, opt.bf16);
      for (size_t i = 0; i < members_.size(); ++i) {
        SAUNet& net = members_[i];
        const torch::Tensor view = member_view(i, part);
        d[i] += statistics_distance(input_statistics(*net, [&] { net->forward(view); }), running_statistics(*net));
      }
      ++tiles;
    }
  for (double& v : d) v /= static_cast<double>(tiles);
  return d;
}

void Segmenter::set_statistics_ranges(std::vector<StatisticsRange> ranges) {
  if (!ranges.empty() && ranges.size() != members_.size())
    throw UserError(std::to_string(ranges.size()) + " statistics ranges for a model of " +
                    std::to_string(members_.size()) + " networks (need one per network)");
  for (size_t i = 0; i < ranges.size(); ++i) validate(ranges[i], "statistics range " + std::to_string(i + 1));
  statistics_ranges_ = std::move(ranges);
}

void Segmenter::set_compression_gate(CompressionGate gate) {
  validate(gate, members_.size(), "compression gate");
  if (active(gate)) gate.weights = normalized_weights(gate.weights);
  gate_ = std::move(gate);
}

void Segmenter::set_temperature(double t) {
  if (!(t > 0) || !std::isfinite(t))
    throw UserError("calibration temperature " + std::to_string(t) + " is not valid (valid: a positive number)");
  temperature_ = t;
}

double Segmenter::training_fov_diameter() const {
  const auto& c = header_.config;
  if (!c.is_object() || !c.contains("fov_diameter") || !c["fov_diameter"].is_number()) return 0;
  return std::max(0.0, c["fov_diameter"].get<double>());
}

}  // namespace vg
