#include "vesselgan/gan/gan_options.h"

#include <cmath>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/gan/gan_losses.h"

namespace vg {

namespace {

bool power_of_two_resolution(int64_t r) { return r >= 32 && r <= 1024 && (r & (r - 1)) == 0; }
bool is_finite(double v) { return std::isfinite(v); }

const auto kGanFields = [](auto& o, auto&& field) {
  field("mode", o.mode, one_of({"full", "patch", "joint", "joint-patch", "label-patch"}));
  field("resolution", o.resolution, rule(power_of_two_resolution, "a power of two from 32 to 1024"));
  field("mirror", o.mirror);
  field("patch_min_fov", o.patch_min_fov, within(0, 1, "0 to 1"));
  field("patch_vessel_bias", o.patch_vessel_bias, within(0, 1, "0 to 1 (0 = uniform crops)"));
  field("label_blur", o.label_blur, within(0, 4, "0 to 4 pixels (0 = binary)"));
  field("generator", o.generator, section);
  field("discriminator", o.discriminator, section);
  field("augment", o.augment, section);
  field("ada", o.ada, section);
  field("kimg", o.kimg, rule([](double v) { return v > 0 && std::isfinite(v); }, "> 0 (fractions allowed)"));
  field("batch", o.batch, within(1, 4096, "1 to 4096"));
  field("g_lr", o.g_lr, rule([](double v) { return v > 0 && v < 1; }, "(0, 1)"));
  field("d_lr", o.d_lr, rule([](double v) { return v > 0 && v < 1; }, "(0, 1)"));
  field("beta1", o.beta1, rule([](double v) { return v >= 0 && v < 1; }, "[0, 1)"));
  field("beta2", o.beta2, rule([](double v) { return v >= 0 && v < 1; }, "[0, 1)"));
  field("r1_gamma", o.r1_gamma, rule(is_finite, ">= 0, or < 0 for auto"));
  field("r1_interval", o.r1_interval, at_least(0, ">= 0 (0 = no R1)"));
  field("pl_weight", o.pl_weight, at_least(0, ">= 0 (0 = off)"));
  field("pl_interval", o.pl_interval, at_least(1, ">= 1"));
  field("pl_batch_shrink", o.pl_batch_shrink);  // 1 to batch, checked in validate
  field("style_mixing", o.style_mixing, within(0, 1, "0 to 1"));
  field("ema_kimg", o.ema_kimg, rule(is_finite, ">= 0, or < 0 for auto"));
  field("ema_rampup", o.ema_rampup, within(0, 1, "0 to 1 (0 = off)"));
  field("tick_kimg", o.tick_kimg, above(0, "> 0"));
  field("snapshot_kimg", o.snapshot_kimg, above(0, "> 0"));
  field("grid_size", o.grid_size, within(1, 32, "1 to 32"));
  field("seed", o.seed);
  field("bf16", o.bf16);
  field("channels_last", o.channels_last);
};

}  // namespace

void to_json(nlohmann::json& j, const GanTrainOptions& o) { j = fields_to_json(o, kGanFields); }
void from_json(const nlohmann::json& j, GanTrainOptions& o) { fields_from_json(j, "gan", o, kGanFields); }

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
  validate_fields("gan", o, kGanFields);
  check_field(o.pl_batch_shrink >= 1 && o.pl_batch_shrink <= o.batch, "gan.pl_batch_shrink", o.pl_batch_shrink,
              "1 to batch");
  check_field(o.generator.resolution == o.resolution && o.discriminator.resolution == o.resolution,
              "gan.generator.resolution", o.generator.resolution, "equal to gan.resolution (set by finalize)");
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
  } else if (name == "label32" || name == "joint32") {
    // The first recipe of ours that draws vessel maps (docs/gan.md, the recipe search): label64's networks and
    // ADA at 32 px, where 32 channels meet the full resolution, with R1 at gamma 0.5 (39x the auto rule's
    // 0.0128). D and G stay balanced (logits within +-1, ADA's p near 0.2 to 0.3); by 120 kimg its samples
    // pass the rule (Frechet distance 2.7 against a floor of 0.93, diversity 0.88 / 0.99, vessel fraction and
    // vessel orientations as the reals'). At 64 px with 16 channels the same networks collapse whatever gamma.
    // joint32 is the same recipe on the photograph and its vessel map together (4 channels): it draws both by
    // the same rule at 90-100 kimg (docs/gan.md).
    o = gan_preset("label64");
    if (name == "joint32") o.mode = "joint-patch";
    o.resolution = 32;
    o.r1_gamma = 0.5;
    o.kimg = 200;
    o.snapshot_kimg = 20;
    finalize(o);
    return o;
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

std::vector<std::string> gan_preset_names() {
  return {"toy", "toy64", "label32", "joint32", "joint64", "patch64", "label64", "joint128", "patch128", "full256", "full512"};
}

}  // namespace vg
