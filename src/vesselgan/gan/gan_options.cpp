#include "vesselgan/gan/gan_options.h"

#include <cmath>

#include "vesselgan/core/json_fields.h"
#include "vesselgan/gan/gan_losses.h"

namespace vg {

void to_json(nlohmann::json& j, const GanTrainOptions& o) {
  j = {{"mode", o.mode},
       {"resolution", o.resolution},
       {"mirror", o.mirror},
       {"patch_min_fov", o.patch_min_fov},
       {"patch_vessel_bias", o.patch_vessel_bias},
       {"label_blur", o.label_blur},
       {"generator", o.generator},
       {"discriminator", o.discriminator},
       {"augment", o.augment},
       {"ada", o.ada},
       {"kimg", o.kimg},
       {"batch", o.batch},
       {"g_lr", o.g_lr},
       {"d_lr", o.d_lr},
       {"beta1", o.beta1},
       {"beta2", o.beta2},
       {"r1_gamma", o.r1_gamma},
       {"r1_interval", o.r1_interval},
       {"pl_weight", o.pl_weight},
       {"pl_interval", o.pl_interval},
       {"pl_batch_shrink", o.pl_batch_shrink},
       {"style_mixing", o.style_mixing},
       {"ema_kimg", o.ema_kimg},
       {"ema_rampup", o.ema_rampup},
       {"tick_kimg", o.tick_kimg},
       {"snapshot_kimg", o.snapshot_kimg},
       {"grid_size", o.grid_size},
       {"seed", o.seed},
       {"bf16", o.bf16},
       {"channels_last", o.channels_last}};
}

void from_json(const nlohmann::json& j, GanTrainOptions& o) {
  merge_section(j, "generator", o.generator);
  merge_section(j, "discriminator", o.discriminator);
  merge_section(j, "augment", o.augment);
  merge_section(j, "ada", o.ada);
  nlohmann::json g, d, a, ada;  // consumed above; declared so finish() accepts the keys
  JsonFields(j, "gan")
      .get("mode", o.mode)
      .get("resolution", o.resolution)
      .get("mirror", o.mirror)
      .get("patch_min_fov", o.patch_min_fov)
      .get("patch_vessel_bias", o.patch_vessel_bias)
      .get("label_blur", o.label_blur)
      .get("generator", g)
      .get("discriminator", d)
      .get("augment", a)
      .get("ada", ada)
      .get("kimg", o.kimg)
      .get("batch", o.batch)
      .get("g_lr", o.g_lr)
      .get("d_lr", o.d_lr)
      .get("beta1", o.beta1)
      .get("beta2", o.beta2)
      .get("r1_gamma", o.r1_gamma)
      .get("r1_interval", o.r1_interval)
      .get("pl_weight", o.pl_weight)
      .get("pl_interval", o.pl_interval)
      .get("pl_batch_shrink", o.pl_batch_shrink)
      .get("style_mixing", o.style_mixing)
      .get("ema_kimg", o.ema_kimg)
      .get("ema_rampup", o.ema_rampup)
      .get("tick_kimg", o.tick_kimg)
      .get("snapshot_kimg", o.snapshot_kimg)
      .get("grid_size", o.grid_size)
      .get("seed", o.seed)
      .get("bf16", o.bf16)
      .get("channels_last", o.channels_last)
      .finish();
}

int64_t image_channels(const GanTrainOptions& o) { return is_label_mode(o) ? 1 : is_joint_mode(o) ? 4 : 3; }
bool is_patch_mode(const GanTrainOptions& o) {
  return o.mode == "patch" || o.mode == "joint-patch" || o.mode == "label-patch";
}
bool is_joint_mode(const GanTrainOptions& o) { return o.mode == "joint" || o.mode == "joint-patch"; }
bool is_label_mode(const GanTrainOptions& o) { return o.mode == "label-patch"; }
bool learns_labels(const GanTrainOptions& o) { return is_joint_mode(o) || is_label_mode(o); }

double r1_gamma_of(const GanTrainOptions& o) {
  return o.r1_gamma >= 0 ? o.r1_gamma : r1_gamma_auto(o.resolution, o.batch);
}

double ema_kimg_of(const GanTrainOptions& o) {
  return o.ema_kimg >= 0 ? o.ema_kimg : static_cast<double>(o.batch) * 10.0 / 32.0;
}

void finalize(GanTrainOptions& o) {
  o.generator.resolution = o.resolution;
  o.discriminator.resolution = o.resolution;
  o.generator.img_channels = image_channels(o);
  o.discriminator.img_channels = image_channels(o);
  validate(o);
}

void validate(const GanTrainOptions& o) {
  const std::string w = "gan.";
  check_field(o.mode == "full" || o.mode == "patch" || o.mode == "joint" || o.mode == "joint-patch" ||
                  o.mode == "label-patch",
              w + "mode", o.mode, "full, patch, joint, joint-patch, label-patch");
  const bool pow2 = o.resolution >= 32 && o.resolution <= 1024 && (o.resolution & (o.resolution - 1)) == 0;
  check_field(pow2, w + "resolution", o.resolution, "a power of two from 32 to 1024");
  check_field(o.patch_min_fov >= 0 && o.patch_min_fov <= 1, w + "patch_min_fov", o.patch_min_fov, "0 to 1");
  check_field(o.patch_vessel_bias >= 0 && o.patch_vessel_bias <= 1, w + "patch_vessel_bias", o.patch_vessel_bias,
              "0 to 1 (0 = uniform crops)");
  check_field(o.label_blur >= 0 && o.label_blur <= 4, w + "label_blur", o.label_blur, "0 to 4 pixels (0 = binary)");
  check_field(o.kimg > 0 && std::isfinite(o.kimg), w + "kimg", o.kimg, "> 0 (fractions allowed)");
  check_field(o.batch >= 1 && o.batch <= 4096, w + "batch", o.batch, "1 to 4096");
  check_field(o.g_lr > 0 && o.g_lr < 1, w + "g_lr", o.g_lr, "(0, 1)");
  check_field(o.d_lr > 0 && o.d_lr < 1, w + "d_lr", o.d_lr, "(0, 1)");
  check_field(o.beta1 >= 0 && o.beta1 < 1, w + "beta1", o.beta1, "[0, 1)");
  check_field(o.beta2 >= 0 && o.beta2 < 1, w + "beta2", o.beta2, "[0, 1)");
  check_field(std::isfinite(o.r1_gamma), w + "r1_gamma", o.r1_gamma, ">= 0, or < 0 for auto");
  check_field(o.r1_interval >= 0, w + "r1_interval", o.r1_interval, ">= 0 (0 = no R1)");
  check_field(o.pl_weight >= 0, w + "pl_weight", o.pl_weight, ">= 0 (0 = off)");
  check_field(o.pl_interval >= 1, w + "pl_interval", o.pl_interval, ">= 1");
  check_field(o.pl_batch_shrink >= 1 && o.pl_batch_shrink <= o.batch, w + "pl_batch_shrink", o.pl_batch_shrink,
              "1 to batch");
  check_field(o.style_mixing >= 0 && o.style_mixing <= 1, w + "style_mixing", o.style_mixing, "0 to 1");
  check_field(std::isfinite(o.ema_kimg), w + "ema_kimg", o.ema_kimg, ">= 0, or < 0 for auto");
  check_field(o.ema_rampup >= 0 && o.ema_rampup <= 1, w + "ema_rampup", o.ema_rampup, "0 to 1 (0 = off)");
  check_field(o.tick_kimg > 0, w + "tick_kimg", o.tick_kimg, "> 0");
  check_field(o.snapshot_kimg > 0, w + "snapshot_kimg", o.snapshot_kimg, "> 0");
  check_field(o.grid_size >= 1 && o.grid_size <= 32, w + "grid_size", o.grid_size, "1 to 32");
  check_field(o.generator.resolution == o.resolution && o.discriminator.resolution == o.resolution,
              w + "generator.resolution", o.generator.resolution, "equal to gan.resolution (set by finalize)");
  validate(o.generator);
  validate(o.discriminator);
  validate(o.augment);
  validate(o.ada);
}

namespace {
// Network widths: channels at resolution r are min(base / r, max).
void set_widths(GanTrainOptions& o, int64_t zw, int64_t base, int64_t max) {
  o.generator.z_dim = o.generator.w_dim = zw;
  o.generator.mapping_layers = 2;
  o.generator.channel_base = o.discriminator.channel_base = base;
  o.generator.channel_max = o.discriminator.channel_max = max;
  o.discriminator.mbstd_group = std::min<int64_t>(4, o.batch);
}
}  // namespace

GanTrainOptions gan_preset(const std::string& name) {
  GanTrainOptions o;
  if (name == "toy" || name == "toy64") {
    // CPU toys: narrow networks, no path-length term, short runs with frequent ticks.
    o.resolution = name == "toy" ? 32 : 64;
    o.batch = 16;
    set_widths(o, 64, 64 * o.resolution, 64);
    o.pl_weight = 0;
    o.kimg = name == "toy" ? 10 : 20;
    o.tick_kimg = 0.5;
    o.snapshot_kimg = 2;
    o.grid_size = 6;
  } else if (name == "joint64" || name == "patch64" || name == "label64") {
    // Native-scale 64 px crops wholly inside the FOV, drawn toward vessels, on 2 CPU cores: 128 channels up
    // to 8 px, then 64, 32 and 16 at 64 px (the high resolutions dominate the cost: 35 s/kimg against 58 with
    // twice the widths, docs/gan.md; thin vessels need few channels), no path length (a CPU hour buys too
    // few kimg for it to pay), and ADA that can reach p = 1 in 25 kimg: 18 photographs overfit D within a few
    // kimg, and at 100 kimg (stylegan2-ada-pytorch's value for short transfer runs) p was 0.05 after 8 kimg
    // while r_t stood at 0.9 (docs/gan.md).
    // label64 is the first half of the label-first route (gan/painter.h): the same recipe on the vessel map
    // alone, which a conditional painter then turns into a photograph.
    o.mode = name == "joint64" ? "joint-patch" : name == "label64" ? "label-patch" : "patch";
    o.resolution = 64;
    o.batch = 16;
    set_widths(o, 128, 1024, 128);
    o.patch_min_fov = 1;
    o.patch_vessel_bias = 0.5;
    o.pl_weight = 0;
    o.ada.speed_kimg = 25;
    o.kimg = 200;
    o.tick_kimg = 1;
    o.snapshot_kimg = 10;
    o.grid_size = 8;
  } else if (name == "joint128") {
    // The GPU counterpart (minutes on one H100/H200): 128 px crops, wider networks, path length on.
    o.mode = "joint-patch";
    o.resolution = 128;
    o.batch = 32;
    set_widths(o, 256, 16384, 256);
    o.patch_min_fov = 1;
    o.patch_vessel_bias = 0.5;
    o.ada.speed_kimg = 100;
    o.kimg = 1000;
    o.tick_kimg = 4;
    o.snapshot_kimg = 40;
  } else if (name == "patch128") {
    o.mode = "patch";
    o.resolution = 128;
    o.batch = 32;
    set_widths(o, 512, 16384, 512);
    o.kimg = 5000;
    o.tick_kimg = 4;
    o.snapshot_kimg = 200;
  } else if (name == "full256") {
    // stylegan2-ada-pytorch "auto" at 256 on one GPU: batch 16, fmaps 0.5, gamma 0.8192, ema 5 kimg.
    o.resolution = 256;
    o.batch = 16;
    set_widths(o, 512, 16384, 512);
    o.kimg = 5000;
    o.tick_kimg = 4;
    o.snapshot_kimg = 200;
  } else if (name == "full512") {
    o.resolution = 512;
    o.batch = 8;
    set_widths(o, 512, 32768, 512);
    o.kimg = 5000;
    o.tick_kimg = 4;
    o.snapshot_kimg = 200;
  } else {
    std::string valid;
    for (const auto& n : gan_preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw UserError("unknown GAN preset '" + name + "' (valid: " + valid + ")");
  }
  finalize(o);
  return o;
}

std::vector<std::string> gan_preset_names() { return {"toy", "toy64", "joint64", "patch64", "label64", "joint128", "patch128", "full256", "full512"};
}

}  // namespace vg
