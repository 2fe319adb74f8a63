// vesselgan gan metrics: FID and KID of generated images against real ones, in the space of a named
// feature network (gan/feature_network.h).
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/gan/gan_metrics.h"

namespace vg::cli {

namespace {

struct GanMetricsFlags {
  std::string real, fake, json;
  // --model CKPT (generate the fake images from a GAN checkpoint instead of reading --fake) is wired by
  // the lead: it adds the flag in add_gan_metrics and fills the `fake` tensor in run_gan_metrics.
  GanMetricsOptions options;
  ComputeFlags compute;
};

void run_gan_metrics(const GanMetricsFlags& f) {
  validate(f.options);
  if (f.fake.empty()) throw UserError("--fake DIR is required (the folder of generated images to score)");
  const torch::Device device = setup_compute(f.compute);
  const ProgressFn printer = make_progress_printer();
  // Generated images would enter here: compute_gan_metrics(real_tensor, generated, *net, options).
  const GanMetrics m = compute_gan_metrics(f.real, f.fake, f.options, device, printer);
  std::cerr << "\n";
  std::cout << to_string(m) << "\n";
  if (!f.json.empty()) {
    nlohmann::json j = m;
    j["real"] = f.real;
    j["fake"] = f.fake;
    j["options"] = f.options;
    write_file_atomic(f.json, j.dump(2) + "\n");
    std::cout << "written: " << f.json << "\n";
  }
}

}  // namespace

void add_gan_metrics(CLI::App& gan) {
  auto f = std::make_shared<GanMetricsFlags>();
  auto* cmd = gan.add_subcommand("metrics", "FID and KID of generated images against real ones");
  cmd->add_option("--real", f->real, "real images: a folder of images or a data set root")->required();
  // Not required(): --model CKPT will be the alternative (see GanMetricsFlags).
  cmd->add_option("--fake", f->fake, "generated images: a folder of images or a data set root");
  cmd->add_option(
      "--features", f->options.features,
      "feature network: sa-unet:CKPT | torchscript:FILE (takes [N,3,299,299] in [0,1]) | color-stats "
      "(default: the shipped models/sa-unet-drive.pt encoder)");
  cmd->add_option("--json", f->json, "also write the scores to this JSON file");
  cmd->add_option("--max-images", f->options.max_images, "images used per side")->capture_default_str();
  cmd->add_option("--batch", f->options.batch, "images per feature-network call")->capture_default_str();
  cmd->add_option("--kid-subsets", f->options.kid_subsets, "KID: random subsets")->capture_default_str();
  cmd->add_option("--kid-subset-size", f->options.kid_subset_size, "KID: images per subset")
      ->capture_default_str();
  cmd->add_option("--seed", f->options.seed, "KID: seed of the subset draws")->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_gan_metrics(*f); });
}

}  // namespace vg::cli
