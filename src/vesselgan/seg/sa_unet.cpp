#include "vesselgan/seg/sa_unet.h"

#include <cmath>
#include <set>
#include <sstream>

#include "vesselgan/core/error.h"
#include "vesselgan/dist/sync_batch_norm.h"

namespace vg {

namespace {

const char* const kVariants[] = {"sa-unet", "sd-unet", "unet"};

bool known_variant(const std::string& v) {
  for (const char* k : kVariants)
    if (v == k) return true;
  return false;
}

// Reads j[key] into out when present; a wrong type becomes a UserError naming the field.
template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    throw UserError(std::string("SAUNetOptions.") + key + ": invalid value " + it->dump() + " (wrong type)");
  }
}

}  // namespace

void to_json(nlohmann::json& j, const SAUNetOptions& o) {
  j = nlohmann::json{
      {"in_channels", o.in_channels}, {"base_channels", o.base_channels}, {"depth", o.depth},
      {"variant", o.variant},         {"block_size", o.block_size},       {"keep_prob", o.keep_prob}};
  if (o.refiner_channels > 0) {
    j["refiner_channels"] = o.refiner_channels;
    j["refiner_depth"] = o.refiner_depth;
  }
}

void from_json(const nlohmann::json& j, SAUNetOptions& o) {
  if (!j.is_object()) throw UserError("SAUNetOptions: expected a JSON object, got " + j.dump());
  static const std::set<std::string> keys = {"in_channels", "base_channels",    "depth",        "variant",
                                             "block_size",  "keep_prob",        "refiner_channels", "refiner_depth"};
  for (const auto& item : j.items()) {
    if (keys.count(item.key()) == 0)
      throw UserError("SAUNetOptions: unknown key '" + item.key() +
                      "'; valid keys: in_channels, base_channels, depth, variant, block_size, keep_prob, "
                      "refiner_channels, refiner_depth");
  }
  read_field(j, "in_channels", o.in_channels);
  read_field(j, "base_channels", o.base_channels);
  read_field(j, "depth", o.depth);
  read_field(j, "variant", o.variant);
  read_field(j, "block_size", o.block_size);
  read_field(j, "keep_prob", o.keep_prob);
  read_field(j, "refiner_channels", o.refiner_channels);
  read_field(j, "refiner_depth", o.refiner_depth);
}

void validate(const SAUNetOptions& o) {
  auto bad = [](const std::string& field, const std::string& value, const std::string& valid) {
    throw UserError("SAUNetOptions." + field + " = " + value + " is invalid; valid: " + valid);
  };
  if (!known_variant(o.variant)) bad("variant", "'" + o.variant + "'", "sa-unet, sd-unet or unet");
  if (o.in_channels < 1) bad("in_channels", std::to_string(o.in_channels), "an integer >= 1");
  if (o.base_channels < 1) bad("base_channels", std::to_string(o.base_channels), "an integer >= 1");
  if (o.depth < 1 || o.depth > 6) bad("depth", std::to_string(o.depth), "an integer in 1..6");
  if (o.block_size < 1 || o.block_size % 2 == 0)
    bad("block_size", std::to_string(o.block_size), "an odd integer >= 1");
  if (!(o.keep_prob > 0.0 && o.keep_prob <= 1.0)) {
    std::ostringstream v;
    v << o.keep_prob;
    bad("keep_prob", v.str(), "a number in (0, 1]");
  }
  if (o.refiner_channels < 0)
    bad("refiner_channels", std::to_string(o.refiner_channels), "an integer >= 0 (0: no cascade)");
  if (o.refiner_channels > 0 && (o.refiner_depth < 1 || o.refiner_depth > o.depth))
    bad("refiner_depth", std::to_string(o.refiner_depth), "an integer in 1..depth (" + std::to_string(o.depth) + ")");
}

namespace {

// The refiner of a cascade: a plain U-Net over the photograph and the first stage's probability.
SAUNetOptions refiner_options(const SAUNetOptions& o) {
  SAUNetOptions r;
  r.in_channels = o.in_channels + 1;
  r.base_channels = o.refiner_channels;
  r.depth = o.refiner_depth;
  r.variant = "unet";
  return r;
}

}  // namespace

ConvDropBnReluImpl::ConvDropBnReluImpl(int64_t in_channels, int64_t out_channels, const SAUNetOptions& o) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
  if (o.variant != "unet") {
    // In place: the conv output is a fresh tensor that autograd does not save, so DropBlock may scale it.
    drop = register_module("drop", DropBlock(DropBlockOptions{o.block_size, o.keep_prob, /*inplace=*/true}));
  }
  bn = register_module("bn", torch::nn::BatchNorm2d(out_channels));
}

torch::Tensor ConvDropBnReluImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv->forward(x);
  if (drop) y = drop->forward(y);
  // In-place ReLU: BatchNorm's backward needs its input, not its output (the peer's ReLU(inplace=True)).
  // Across a data-parallel job's ranks, BatchNorm takes the global batch's statistics (sync_batch_norm.h).
  return batch_norm_over_shards(*bn, y).relu_();
}

ConvBlockImpl::ConvBlockImpl(int64_t in_channels, int64_t out_channels, const SAUNetOptions& o) {
  layer1 = register_module("layer1", ConvDropBnRelu(in_channels, out_channels, o));
  layer2 = register_module("layer2", ConvDropBnRelu(out_channels, out_channels, o));
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& x) { return layer2->forward(layer1->forward(x)); }

SAUNetImpl::SAUNetImpl(const SAUNetOptions& options) : options_(options) {
  validate(options_);
  const int64_t c = options_.base_channels, d = options_.depth;
  auto width = [c](int64_t level) { return c << level; };  // channels at level k: base * 2^k
  // Registration follows the forward order, so parameters() lists them as they are used.
  for (int64_t k = 0; k < d; ++k) {
    const int64_t in = k == 0 ? options_.in_channels : width(k - 1);
    encoder_.push_back(register_module("enc" + std::to_string(k), ConvBlock(in, width(k), options_)));
  }
  bottleneck1_ = register_module("mid1", ConvDropBnRelu(width(d - 1), width(d), options_));
  if (options_.variant == "sa-unet") attention_ = register_module("attention", SpatialAttention(7));
  bottleneck2_ = register_module("mid2", ConvDropBnRelu(width(d), width(d), options_));
  upsample_.resize(d, nullptr);
  decoder_.resize(d, nullptr);
  for (int64_t k = d - 1; k >= 0; --k) {
    upsample_[k] = register_module(
        "up" + std::to_string(k),
        torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(width(k + 1), width(k), 3)
                                       .stride(2)
                                       .padding(1)
                                       .output_padding(1)));
    // The decoder block sees the upsampled map concatenated with the skip: width(k) + width(k) channels.
    decoder_[k] = register_module("dec" + std::to_string(k), ConvBlock(width(k + 1), width(k), options_));
  }
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, 1, 1)));
  if (options_.refiner_channels > 0) {
    refiner_ = register_module("refiner", std::make_shared<SAUNetImpl>(refiner_options(options_)));
    // Zero corrections to begin with: the cascade starts as its first stage.
    torch::NoGradGuard no_grad;
    refiner_->head_->weight.zero_();
    refiner_->head_->bias.zero_();
  }
}

std::vector<torch::Tensor> SAUNetImpl::encode(const torch::Tensor& x) {
  // x: [N, in_channels, H, W] float, H and W multiples of 2^depth
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels, "SAUNet: x must be [N, ",
              options_.in_channels, ", H, W], got ", x.sizes());
  const int64_t m = size_multiple();
  TORCH_CHECK(x.size(2) % m == 0 && x.size(3) % m == 0,
              "SAUNet: input height and width must be multiples of ", m, " (2^depth, depth ", options_.depth,
              "), got ", x.size(2), "x", x.size(3), "; pad the image to the next multiple");
  const int64_t d = options_.depth;
  std::vector<torch::Tensor> levels;
  levels.reserve(d + 1);
  torch::Tensor y = x.is_cpu() ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
  for (int64_t k = 0; k < d; ++k) {
    y = encoder_[k]->forward(y);
    levels.push_back(y);
    y = torch::max_pool2d(y, 2);
  }
  y = bottleneck1_->forward(y);
  if (attention_) y = attention_->forward(y);
  levels.push_back(bottleneck2_->forward(y));
  return levels;
}

torch::Tensor SAUNetImpl::forward(const torch::Tensor& x) { return forward_stages(x).back(); }

std::vector<torch::Tensor> SAUNetImpl::forward_stages(const torch::Tensor& x) {
  // x: [N, in_channels, H, W] float, H and W multiples of 2^depth (checked by encode)
  torch::Tensor first = first_stage(x);
  if (!refiner_) return {first};
  // The refiner reads the photograph and the first stage's probability, as the W-Net's second U-Net does, and
  // corrects the first stage's logits.
  torch::Tensor refined = first + refiner_->forward(torch::cat({x, torch::sigmoid(first).to(x.dtype())}, 1));
  return {std::move(first), std::move(refined)};
}

torch::Tensor SAUNetImpl::first_stage(const torch::Tensor& x) {
  return head_->forward(decode(x)).contiguous();  // logits [N, 1, H, W]
}

std::pair<torch::Tensor, torch::Tensor> SAUNetImpl::forward_with_features(const torch::Tensor& x) {
  TORCH_CHECK(!refiner_, "SAUNet::forward_with_features: a cascade has two stages; its features are not defined");
  torch::Tensor features = decode(x);
  torch::Tensor logits = head_->forward(features).contiguous();
  return {std::move(logits), std::move(features)};
}

torch::Tensor SAUNetImpl::decode(const torch::Tensor& x) {
  std::vector<torch::Tensor> skips = encode(x);
  torch::Tensor y = std::move(skips.back());
  skips.pop_back();
  const bool cpu = x.is_cpu();
  for (int64_t k = options_.depth - 1; k >= 0; --k) {
    auto& up = upsample_[k];
    y = torch::cat({cpu ? conv_transpose3x3_stride2(y, up->weight, up->bias) : up->forward(y), skips[k]}, 1);
    skips[k] = torch::Tensor();  // drop our reference early; autograd keeps what it needs
    y = decoder_[k]->forward(y);
  }
  return y;
}

torch::Tensor conv_transpose3x3_stride2(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias) {
  // x: [N, Cin, H, W]; weight: [Cin, Cout, 3, 3]
  TORCH_CHECK(x.dim() == 4, "conv_transpose3x3_stride2: x must be [N, Cin, H, W], got ", x.sizes());
  TORCH_CHECK(weight.dim() == 4 && weight.size(0) == x.size(1) && weight.size(2) == 3 && weight.size(3) == 3,
              "conv_transpose3x3_stride2: weight must be [", x.size(1), ", Cout, 3, 3], got ",
              weight.sizes());
  const int64_t cin = weight.size(0), cout = weight.size(1);
  // Along one axis, output 2m + a of the transposed conv (y[2i - 1 + k] += x[i] w[k]) is
  //   a = 0: x[m] w[1];   a = 1: x[m] w[2] + x[m + 1] w[0]   (x[H] = 0: the output_padding side).
  // So a 2-tap correlation over x padded by one zero at the end, with taps (w[1], 0) for phase 0 and
  // (w[2], w[0]) for phase 1, gives each phase; in 2-D the taps are products of the two axes' choices.
  static const int64_t tap_kernel[2][2] = {{1, -1}, {2, 0}};  // [phase][tap] -> kernel index, -1 = zero
  std::vector<int64_t> index;  // into the 3x3 kernel flattened, 9 = an appended zero
  index.reserve(16);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int ty = 0; ty < 2; ++ty)
        for (int tx = 0; tx < 2; ++tx) {
          const int64_t ky = tap_kernel[a][ty], kx = tap_kernel[b][tx];
          index.push_back(ky < 0 || kx < 0 ? 9 : ky * 3 + kx);
        }
  const torch::Tensor flat =
      torch::cat({weight.reshape({cin, cout, 9}), weight.new_zeros({cin, cout, 1})}, 2);
  const torch::Tensor idx =
      torch::tensor(index, torch::TensorOptions().dtype(torch::kLong).device(weight.device()));
  // [Cin, Cout, a, b, ty, tx] -> [Cout, a, b, Cin, ty, tx]: output channel o * 4 + a * 2 + b, as
  // pixel_shuffle reads.
  const torch::Tensor phase_weight = flat.index_select(2, idx)
                                         .view({cin, cout, 2, 2, 2, 2})
                                         .permute({1, 2, 3, 0, 4, 5})
                                         .reshape({4 * cout, cin, 2, 2});
  const torch::Tensor phase_bias = bias.defined() ? bias.repeat_interleave(4) : torch::Tensor();
  const torch::Tensor padded = torch::constant_pad_nd(x, {0, 1, 0, 1}, 0);
  return torch::pixel_shuffle(torch::conv2d(padded, phase_weight, phase_bias), 2);
}

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters(/*recurse=*/true)) n += p.numel();
  return n;
}

}  // namespace vg
