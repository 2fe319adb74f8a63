#include "vesselgan/gan/discriminator.h"

#include "vesselgan/dist/batch_shard.h"

#include <cmath>
#include <string>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/gan/conv2d_resample.h"
#include "vesselgan/gan/generator.h"

namespace vg {

namespace {

const auto kDiscriminatorFields = [](auto& o, auto&& field) {
  field("resolution", o.resolution, rule([](int64_t r) { return r >= 8 && r <= 1024 && (r & (r - 1)) == 0; },
                                         "a power of two in 8..1024"));
  field("img_channels", o.img_channels, within(1, 16, "1..16"));
  field("channel_base", o.channel_base);  // resolution .. 2^24, checked in validate
  field("channel_max", o.channel_max, within(1, 4096, "1..4096"));
  field("mbstd_group", o.mbstd_group, within(1, 1024, "1..1024"));
  field("mbstd_channels", o.mbstd_channels);  // a divisor of the channels at 4x4, checked in validate
  field("conv_clamp", o.conv_clamp, at_least(0, ">= 0 (0 = off)"));
};

}  // namespace

void to_json(nlohmann::json& j, const DiscriminatorOptions& o) { j = fields_to_json(o, kDiscriminatorFields); }
void from_json(const nlohmann::json& j, DiscriminatorOptions& o) {
  fields_from_json(j, "discriminator", o, kDiscriminatorFields);
}
void validate(const DiscriminatorOptions& o) {
  validate_fields("discriminator", o, kDiscriminatorFields);
  check_field(
      o.channel_base >= o.resolution && o.channel_base <= (int64_t{1} << 24), "discriminator.channel_base",
      o.channel_base,
      "resolution (" + std::to_string(o.resolution) + ") .. 2^24, at least one channel at every resolution");
  const int64_t c4 = channels_at(4, o.channel_base, o.channel_max);
  check_field(o.mbstd_channels >= 0 && (o.mbstd_channels == 0 || c4 % o.mbstd_channels == 0),
              "discriminator.mbstd_channels", o.mbstd_channels,
              "0 (off) or a divisor of the " + std::to_string(c4) + " channels at 4x4");
}

namespace {
// This rank's rows of `global` when `rows` is a shard of it (inside a scope), `global` otherwise.
torch::Tensor shard_rows_of(const torch::Tensor& rows, const torch::Tensor& global) {
  return rows.size(0) == global.size(0) ? global : shard_rows(global);
}
}  // namespace

int64_t mbstd_group_size(int64_t group, int64_t n) {
  TORCH_CHECK(group >= 1 && n >= 1, "mbstd_group_size: group=", group, " n=", n);
  int64_t g = std::min(group, n);
  while (n % g != 0) --g;
  return g;
}

torch::Tensor minibatch_stddev(const torch::Tensor& x_rows, int64_t group, int64_t channels) {
  // x: [N, C, H, W]. In a data-parallel step (batch_shard.h) the groups are those of the global batch: every
  // rank gathers all rows (differentiably), computes the statistics and keeps its rows.
  const torch::Tensor x = gather_shards(x_rows);
  TORCH_CHECK(x.dim() == 4, "minibatch_stddev: x must be [N, C, H, W], got ", x.sizes());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(channels >= 1 && c % channels == 0, "minibatch_stddev: ", c,
              " channels are not divisible into ", channels, " sets");
  const int64_t g = mbstd_group_size(group, n);
  auto y = x.reshape({g, n / g, channels, c / channels, h, w});  // [G, n, F, c, H, W]
  y = y - y.mean(0);
  y = (y.square().mean(0) + 1e-8).sqrt();               // [n, F, c, H, W]: stddev over the group
  y = y.mean({2, 3, 4}).view({n / g, channels, 1, 1});  // [n, F, 1, 1]
  y = y.repeat({g, 1, h, w});                           // [N, F, H, W]; sample i gets group i % n
  return shard_rows_of(x_rows, torch::cat({x, y.to(x.scalar_type())}, 1));
}

DiscriminatorBlockImpl::DiscriminatorBlockImpl(int64_t in_channels, int64_t tmp_channels,
                                               int64_t out_channels, int64_t img_channels,
                                               double conv_clamp) {
  if (in_channels == 0)
    fromrgb = register_module("fromrgb",
                              EqualConv2d(img_channels, tmp_channels, 1, true, "lrelu", 1, 1, conv_clamp));
  else
    TORCH_CHECK(in_channels == tmp_channels, "DiscriminatorBlock: in ", in_channels, " != tmp ",
                tmp_channels);
  conv0 =
      register_module("conv0", EqualConv2d(tmp_channels, tmp_channels, 3, true, "lrelu", 1, 1, conv_clamp));
  conv1 =
      register_module("conv1", EqualConv2d(tmp_channels, out_channels, 3, true, "lrelu", 1, 2, conv_clamp));
  skip = register_module("skip", EqualConv2d(tmp_channels, out_channels, 1, false, "linear", 1, 2, 0.0));
}

torch::Tensor DiscriminatorBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& img) {
  const auto h = fromrgb ? fromrgb->forward(img) : x;
  const double g = std::sqrt(0.5);  // keeps the variance of the residual sum (Karras 2020, App. B)
  const auto y = skip->forward(h, g);
  return y + conv1->forward(conv0->forward(h), g);
}

DiscriminatorEpilogueImpl::DiscriminatorEpilogueImpl(int64_t in_channels, int64_t mbstd_group,
                                                     int64_t mbstd_channels, double conv_clamp)
    : mbstd_group_(mbstd_group), mbstd_channels_(mbstd_channels) {
  conv = register_module(
      "conv", EqualConv2d(in_channels + mbstd_channels, in_channels, 3, true, "lrelu", 1, 1, conv_clamp));
  fc = register_module("fc", EqualLinear(in_channels * 16, in_channels, true, 0.0, 1.0, "lrelu"));
  out = register_module("out", EqualLinear(in_channels, 1));
}

torch::Tensor DiscriminatorEpilogueImpl::forward(const torch::Tensor& x) {
  // x: [N, C, 4, 4]
  TORCH_CHECK(x.dim() == 4 && x.size(2) == 4 && x.size(3) == 4,
              "DiscriminatorEpilogue: x must be [N, C, 4, 4], got ", x.sizes());
  auto y = mbstd_channels_ > 0 ? minibatch_stddev(x, mbstd_group_, mbstd_channels_) : x;
  y = conv->forward(y);
  y = fc->forward(y.flatten(1));
  return out->forward(y);
}

DiscriminatorImpl::DiscriminatorImpl(const DiscriminatorOptions& o) : options_(o) {
  validate(o);
  int64_t in_channels = 0;
  for (int64_t res = o.resolution; res >= 8; res /= 2) {
    const int64_t tmp = channels_at(res, o.channel_base, o.channel_max);
    const int64_t out = channels_at(res / 2, o.channel_base, o.channel_max);
    blocks.push_back(register_module(
        "b" + std::to_string(res), DiscriminatorBlock(in_channels, tmp, out, o.img_channels, o.conv_clamp)));
    in_channels = out;
  }
  epilogue = register_module("b4", DiscriminatorEpilogue(channels_at(4, o.channel_base, o.channel_max),
                                                         o.mbstd_group, o.mbstd_channels, o.conv_clamp));
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& img) {
  // img: [N, img_channels, R, R]
  const int64_t r = options_.resolution;
  TORCH_CHECK(img.dim() == 4 && img.size(1) == options_.img_channels && img.size(2) == r && img.size(3) == r,
              "Discriminator: img must be [N, ", options_.img_channels, ", ", r, ", ", r, "], got ",
              img.sizes());
  const auto input = preferred_layout(img);
  torch::Tensor x;
  for (auto& block : blocks) x = block->forward(x, input);
  return epilogue->forward(x);
}

}  // namespace vg
