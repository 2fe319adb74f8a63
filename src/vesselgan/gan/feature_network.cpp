#include "vesselgan/gan/feature_network.h"

#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "vesselgan/core/error.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/train_options.h"

namespace vg {
namespace {

namespace F = torch::nn::functional;

constexpr const char* kDefaultModel = "sa-unet-drive.pt";
constexpr const char* kValidSpecs =
    "valid: sa-unet:CHECKPOINT, torchscript:FILE, color-stats, or empty for the shipped SA-UNet";

void check_images(const torch::Tensor& images, const char* who) {
  TORCH_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 3, who,
              ": images must be [N, 3, H, W] float in [0, 1], got ",
              images.defined() ? images.sizes() : torch::IntArrayRef{});
}

// x: [N, C, H, W] float -> [N, C, h, w]; area averaging when both sides shrink, else bilinear.
torch::Tensor resize(const torch::Tensor& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;
  auto opt = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w});
  if (h <= x.size(2) && w <= x.size(3)) return F::interpolate(x, opt.mode(torch::kArea));
  return F::interpolate(x, opt.mode(torch::kBilinear).align_corners(false));
}

// Per row of x [B, L] (L >= 1), the linearly interpolated quantiles qs -> [B, qs.size()].
torch::Tensor row_quantiles(const torch::Tensor& x, const std::vector<double>& qs) {
  const torch::Tensor sorted = std::get<0>(x.sort(-1));
  const int64_t n = x.size(-1);
  std::vector<torch::Tensor> out;
  for (double q : qs) {
    const double pos = q * static_cast<double>(n - 1);
    const int64_t lo = static_cast<int64_t>(std::floor(pos)), hi = std::min(lo + 1, n - 1);
    const double t = pos - static_cast<double>(lo);
    out.push_back(sorted.select(-1, lo) * (1.0 - t) + sorted.select(-1, hi) * t);
  }
  return torch::stack(out, -1);
}

// x: [B, L] -> [B, 2 + qs]: mean, population standard deviation, quantiles.
torch::Tensor summary(const torch::Tensor& x, const std::vector<double>& qs) {
  const torch::Tensor mean = x.mean(-1);
  const torch::Tensor std = (x - mean.unsqueeze(-1)).square().mean(-1).sqrt();
  return torch::cat({mean.unsqueeze(-1), std.unsqueeze(-1), row_quantiles(x, qs)}, -1);
}

class ColorStatsNetwork : public FeatureNetwork {
 public:
  explicit ColorStatsNetwork(const torch::Device& device) : device_(device) {}
  std::string name() const override { return "color-stats"; }

  torch::Tensor features(const torch::Tensor& images) override {
    // images: [N, 3, H, W] float in [0, 1], H, W >= 8
    check_images(images, "color-stats");
    TORCH_CHECK(images.size(2) >= 8 && images.size(3) >= 8, "color-stats: images must be at least 8x8, got ",
                images.size(2), "x", images.size(3));
    torch::NoGradGuard no_grad;
    const int64_t n = images.size(0);
    torch::Tensor x = images.to(device_, torch::kFloat);
    std::vector<torch::Tensor> parts;
    for (int scale = 0; scale < 3; ++scale) {
      if (scale > 0) x = torch::avg_pool2d(x, 2);
      const int64_t h = x.size(2), w = x.size(3);
      parts.push_back(summary(x.reshape({n * 3, h * w}), {0.1, 0.5, 0.9}).view({n, -1}));
      const torch::Tensor base = x.slice(2, 0, h - 1).slice(3, 0, w - 1);
      const torch::Tensor dx = x.slice(2, 0, h - 1).slice(3, 1, w) - base;
      const torch::Tensor dy = x.slice(2, 1, h).slice(3, 0, w - 1) - base;
      const torch::Tensor grad = (dx.square() + dy.square()).sqrt();
      parts.push_back(summary(grad.reshape({n * 3, (h - 1) * (w - 1)}), {0.5, 0.9}).view({n, -1}));
    }
    return torch::cat(parts, 1).to(torch::kCPU).contiguous();  // [N, 3 * (3 * 5 + 3 * 4)] = [N, 81]
  }

 private:
  torch::Device device_;
};

class SAUNetEncoderNetwork : public FeatureNetwork {
 public:
  SAUNetEncoderNetwork(const std::string& checkpoint, const torch::Device& device)
      : checkpoint_(checkpoint), segmenter_(Segmenter::load(checkpoint, device)) {
    // Segmenter::load has already validated the config; only the input scaling is needed from it.
    resize_longer_ = segmenter_.header().config.at("train").get<TrainOptions>().input.resize;
  }
  std::string name() const override { return "sa-unet-encoder(" + checkpoint_ + ")"; }

  torch::Tensor features(const torch::Tensor& images) override {
    // images: [N, 3, H, W] float in [0, 1]
    check_images(images, "sa-unet-encoder");
    torch::NoGradGuard no_grad;
    SAUNet& net = segmenter_.model();
    net->eval();
    const int64_t m = net->size_multiple(), h = images.size(2), w = images.size(3);
    const double scale =
        resize_longer_ > 0 ? static_cast<double>(resize_longer_) / static_cast<double>(std::max(h, w)) : 1.0;
    auto fit = [m, scale](int64_t side) {
      return std::max(m, static_cast<int64_t>(std::llround(static_cast<double>(side) * scale / m)) * m);
    };
    const torch::Tensor x = resize(images.to(segmenter_.device(), torch::kFloat), fit(h), fit(w));
    std::vector<torch::Tensor> parts;
    for (const torch::Tensor& level : net->encode(x)) {
      // level: [N, C, h, w] -> mean and population std over pixels, [N, 2C]
      const torch::Tensor f = level.to(torch::kFloat).flatten(2);
      const torch::Tensor mean = f.mean(-1);
      parts.push_back(mean);
      parts.push_back((f - mean.unsqueeze(-1)).square().mean(-1).sqrt());
    }
    return torch::cat(parts, 1).to(torch::kCPU).contiguous();
  }

 private:
  std::string checkpoint_;
  Segmenter segmenter_;
  int64_t resize_longer_ = 0;
};

class TorchScriptNetwork : public FeatureNetwork {
 public:
  static constexpr int64_t kSide = 299;

  TorchScriptNetwork(const std::string& file, const torch::Device& device) : file_(file), device_(device) {
    if (!std::filesystem::is_regular_file(file))
      throw UserError("torchscript feature network " + file +
                      " does not exist (expected a torch.jit.save file)");
    try {
      module_ = torch::jit::load(file, device);
    } catch (const c10::Error& e) {
      const std::string msg = e.what_without_backtrace();
      throw UserError("torchscript feature network " + file + " cannot be loaded (" +
                      msg.substr(0, msg.find('\n')) + "); expected a torch.jit.save file");
    }
    module_.eval();
  }
  std::string name() const override { return "torchscript(" + file_ + ")"; }

  torch::Tensor features(const torch::Tensor& images) override {
    // images: [N, 3, H, W] float in [0, 1] -> the module sees [N, 3, 299, 299] float in [0, 1]
    check_images(images, "torchscript");
    torch::NoGradGuard no_grad;
    const int64_t n = images.size(0);
    const torch::Tensor x = resize(images.to(device_, torch::kFloat), kSide, kSide).contiguous();
    torch::jit::IValue out;
    try {
      out = module_.forward({x});
    } catch (const c10::Error& e) {
      const std::string msg = e.what_without_backtrace();
      throw UserError("torchscript feature network " + file_ + " failed on [" + std::to_string(n) +
                      ", 3, 299, 299] input in [0, 1] (" + msg.substr(0, msg.find('\n')) + ")");
    }
    if (out.isTuple()) {
      const torch::jit::IValue first = out.toTuple()->elements().at(0);
      out = first;
    }
    if (!out.isTensor())
      throw UserError("torchscript feature network " + file_ +
                      " returned no tensor (expected [N, D] features, or a tuple starting with them)");
    const torch::Tensor f = out.toTensor();
    if (f.dim() < 2 || f.size(0) != n)
      throw UserError("torchscript feature network " + file_ + " returned shape " + c10::str(f.sizes()) +
                      " for " + std::to_string(n) + " images (expected [N, D] or [N, D, 1, 1])");
    return f.reshape({n, -1}).to(torch::kCPU, torch::kFloat).contiguous();
  }

 private:
  std::string file_;
  torch::Device device_;
  torch::jit::Module module_;
};

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::unique_ptr<FeatureNetwork> make_color_stats_network(const torch::Device& device) {
  return std::make_unique<ColorStatsNetwork>(device);
}

std::unique_ptr<FeatureNetwork> make_sa_unet_encoder_network(const std::string& checkpoint,
                                                             const torch::Device& device) {
  if (checkpoint.empty())
    throw UserError("feature network 'sa-unet:' names no checkpoint (valid: sa-unet:FILE.pt)");
  return std::make_unique<SAUNetEncoderNetwork>(checkpoint, device);
}

std::unique_ptr<FeatureNetwork> make_torchscript_network(const std::string& file,
                                                         const torch::Device& device) {
  if (file.empty())
    throw UserError("feature network 'torchscript:' names no file (valid: torchscript:FILE.pt)");
  return std::make_unique<TorchScriptNetwork>(file, device);
}

std::unique_ptr<FeatureNetwork> make_feature_network(const std::string& spec, const torch::Device& device) {
  if (spec.empty()) {
    const std::filesystem::path path = model_dir() / kDefaultModel;
    if (!std::filesystem::is_regular_file(path))
      throw UserError("default feature network: shipped model " + path.string() +
                      " is missing (set VESSELGAN_MODELS to its folder, or choose --features "
                      "sa-unet:CHECKPOINT, torchscript:FILE or color-stats)");
    return make_sa_unet_encoder_network(path.string(), device);
  }
  if (spec == "color-stats") return make_color_stats_network(device);
  const std::string sa = "sa-unet:", ts = "torchscript:";
  if (starts_with(spec, sa)) return make_sa_unet_encoder_network(spec.substr(sa.size()), device);
  if (starts_with(spec, ts)) return make_torchscript_network(spec.substr(ts.size()), device);
  throw UserError("unknown feature network '" + spec + "' (" + kValidSpecs + ")");
}

}  // namespace vg
