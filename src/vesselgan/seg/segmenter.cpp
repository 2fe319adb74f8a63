#include "vesselgan/seg/segmenter.h"

#include "vesselgan/core/compat.h"
#include "vesselgan/core/error.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

Segmenter Segmenter::load(const std::filesystem::path& checkpoint, const torch::Device& device) {
  const CheckpointHeader h = read_checkpoint_header(checkpoint, kSegCheckpointKind);
  TrainOptions opt;
  try {
    opt = h.config.at("train").get<TrainOptions>();
    validate(opt);
  } catch (const UserError& e) {
    throw UserError("checkpoint " + checkpoint.string() + " has an unusable config: " + e.what());
  } catch (const std::exception& e) {
    throw UserError("checkpoint " + checkpoint.string() + " has no SA-UNet config (was it written by vesselgan train?)");
  }
  SAUNet model(opt.model);
  model->to(device);
  Segmenter s(model, opt.input, device);
  s.header_ = load_checkpoint(checkpoint, kSegCheckpointKind, *s.model_, device);
  s.model_->eval();
  return s;
}

Segmenter::Segmenter(SAUNet model, InputOptions input, const torch::Device& device)
    : model_(std::move(model)), input_(input), device_(device) {
  model_->eval();
}

torch::Tensor Segmenter::forward_canvas(const torch::Tensor& x, const PredictOptions& opt) const {
  // x: [1, 3, H, W] on device -> probability [1, 1, H, W] float
  auto run = [&](const torch::Tensor& in) {
    AutocastGuard autocast(device_, opt.bf16);
    return torch::sigmoid(model_->forward(in).to(torch::kFloat));
  };
  if (!opt.tta) return run(x);
  // Flips are exact symmetries of the task; the network's response to them is not, so average.
  auto p = run(x);
  p += run(x.flip({3})).flip({3});
  p += run(x.flip({2})).flip({2});
  p += run(x.flip({2, 3})).flip({2, 3});
  return p / 4.0;
}

torch::Tensor Segmenter::forward_tiled(const torch::Tensor& x, const PredictOptions& opt) const {
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t multiple = int64_t{1} << model_->options().depth;
  const int64_t tile = std::max(round_up(opt.tile, multiple), multiple * 4);
  if (H <= tile && W <= tile) return forward_canvas(x, opt);
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
  auto starts = [&](int64_t n) {
    std::vector<int64_t> s;
    for (int64_t p = 0;; p += stride) {
      if (p + tile >= n) {
        s.push_back(std::max<int64_t>(0, n - tile));
        break;
      }
      s.push_back(p);
    }
    return s;
  };
  for (int64_t y : starts(H)) {
    for (int64_t xx : starts(W)) {
      const int64_t th = std::min(tile, H), tw = std::min(tile, W);
      auto patch = x.slice(2, y, y + th).slice(3, xx, xx + tw);
      auto p = forward_canvas(patch, opt);
      auto w = w2d.slice(0, 0, th).slice(1, 0, tw);
      acc.slice(2, y, y + th).slice(3, xx, xx + tw) += p * w;
      wsum.slice(2, y, y + th).slice(3, xx, xx + tw) += w;
    }
  }
  return acc / wsum;
}

torch::Tensor Segmenter::probability(const torch::Tensor& image, const PredictOptions& opt) const {
  TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "Segmenter expects an image [3, H, W], got ", image.sizes());
  torch::NoGradGuard no_grad;
  const int64_t multiple = int64_t{1} << model_->options().depth;
  FitInfo fi;
  auto canvas = fit_to_canvas(image.to(torch::kFloat).cpu(), input_, multiple, &fi).unsqueeze(0).to(device_);
  auto prob = forward_tiled(canvas, opt);
  return map_back(prob[0].cpu(), fi).clamp(0, 1);
}

}  // namespace vg
