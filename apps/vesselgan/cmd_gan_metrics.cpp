// vesselgan gan metrics: how good are generated images? Frechet distance and KID against real images in the
// space of a named feature network (gan/feature_network.h), with the real-vs-real figure as its floor, and for
// a joint generator's output (images/ + labels/) the label consistency (gan/label_consistency.h).
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/gan/gan_data.h"
#include "vesselgan/gan/gan_metrics.h"
#include "vesselgan/gan/label_consistency.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct GanMetricsFlags {
  std::string real, fake, json, segmenter, real_split = "train", floor_split = "test";
  GanMetricsOptions options;
  ComputeFlags compute;
};

// A data set root that find_dataset reads (with labels or not), or nullopt for a plain folder of images.
std::optional<DatasetFiles> as_dataset(const fs::path& dir, const std::string& split) {
  if (!fs::is_directory(dir / "images") && !fs::exists(dir / "training") && !fs::exists(dir / "test")) {
    try {
      auto d = find_dataset(dir, split);
      if (d.layout == "photos") return std::nullopt;
      return d;
    } catch (const UserError&) {
      return std::nullopt;
    }
  }
  return find_dataset(dir, split);
}

torch::Tensor stack_images(const std::vector<Sample>& samples) {
  std::vector<torch::Tensor> x;
  for (const auto& s : samples) x.push_back(s.image);
  return torch::stack(x);
}

void run_gan_metrics(const GanMetricsFlags& f) {
  validate(f.options);
  if (f.fake.empty()) throw UserError("--fake DIR is required (the folder of generated images to score)");
  const torch::Device device = setup_compute(f.compute);
  const ProgressFn printer = make_progress_printer();
  nlohmann::json out = {{"real", f.real}, {"fake", f.fake}, {"options", f.options}};

  // A generated set in the folder layout (gan generate writes images/, masks/, labels/ for joint GANs).
  const bool fake_is_set = fs::is_directory(fs::path(f.fake) / "images");
  std::vector<Sample> fake;
  if (fake_is_set) fake = load_samples(find_dataset(f.fake, "all", "folder"), false);
  const auto real_set = as_dataset(f.real, f.real_split);

  // Patches (generated images smaller than the real photographs) are compared with real crops of their size
  // wholly inside the FOV; the floor is the same figure between two real splits' crops.
  bool patches = false;
  std::vector<Sample> real;
  if (fake_is_set && real_set) {
    real = load_samples(*real_set, false);
    const int64_t side = fake.front().image.size(1);
    patches = fake.front().image.size(2) == side && real.front().image.size(1) > 2 * side;
  }
  if (patches) {
    const int64_t side = fake.front().image.size(1), n = static_cast<int64_t>(fake.size());
    auto net = make_feature_network(f.options.features, device);
    const auto real_crops = random_fov_crops(real, side, n, f.options.seed + 1);
    const GanMetrics m = compute_gan_metrics(stack_images(real_crops), stack_images(fake), *net, f.options);
    std::cout << to_string(m) << " [" << side << " px patches vs " << real_set->split << "-split crops]\n";
    out["metrics"] = m;
    if (f.floor_split != "none") {
      const auto floor_samples = load_samples(find_dataset(f.real, f.floor_split), false);
      const auto floor_crops = random_fov_crops(floor_samples, side, n, f.options.seed + 2);
      const GanMetrics fl = compute_gan_metrics(stack_images(real_crops), stack_images(floor_crops), *net, f.options);
      std::cout << "floor (real vs real: " << f.floor_split << "-split crops vs " << real_set->split
                << "-split crops): " << to_string(fl) << "\n";
      out["floor"] = fl;
      out["floor_split"] = f.floor_split;
    }
    real = real_crops;
  } else if (real_set) {  // whole photographs against the --real-split's
    std::vector<fs::path> real_files;
    for (const auto& s : real_set->samples) real_files.push_back(s.image);
    const GanMetrics m = compute_gan_metrics(
        real_files, list_image_files(fake_is_set ? fs::path(f.fake) / "images" : fs::path(f.fake), "fake"), f.options, device,
        printer);
    std::cerr << "\n";
    std::cout << to_string(m) << " [against the " << real_set->split << " split's photographs]\n";
    out["metrics"] = m;
    out["real_split"] = real_set->split;
  } else {
    const GanMetrics m = compute_gan_metrics(f.real, fake_is_set ? fs::path(f.fake) / "images" : fs::path(f.fake),
                                             f.options, device, printer);
    std::cerr << "\n";
    std::cout << to_string(m) << "\n";
    out["metrics"] = m;
  }

  // Joint generators: does each image depict its own label, and do the labels hold as many vessels as real
  // ones?
  const bool has_labels = fake_is_set && !fake.empty() && fake.front().label.defined();
  if (has_labels) {
    const fs::path model = f.segmenter.empty() ? shipped_model(kShippedSegmenter) : fs::path(f.segmenter);
    const Segmenter seg = Segmenter::load(model, device);
    const LabelConsistency c = label_consistency(seg, fake);
    std::cout << to_string(c) << " [segmenter " << model.string() << "]\n";
    out["label_consistency"] = c;
    out["segmenter"] = model.string();
    if (patches && !real.empty() && real.front().label.defined()) {
      // What a generator whose images depict their labels as real photographs do would score.
      const LabelConsistency rc = label_consistency(seg, real);
      std::cout << "real crops: " << to_string(rc) << "\n";
      out["real_label_consistency"] = rc;
    }
    const auto real_fractions = fraction_stats(vessel_fractions(real));
    if (real_fractions.count > 0) {
      std::printf("real label vessel fraction %.4f (%.4f..%.4f) over %lld %s\n", real_fractions.mean,
                  real_fractions.min, real_fractions.max, static_cast<long long>(real_fractions.count),
                  patches ? "crops" : "images");
      out["real_label_vessel_fraction"] = real_fractions;
    }
  }
  if (!f.json.empty()) {
    write_file_atomic(f.json, out.dump(2) + "\n");
    std::cout << "written: " << f.json << "\n";
  }
}

}  // namespace

void add_gan_metrics(CLI::App& gan) {
  auto f = std::make_shared<GanMetricsFlags>();
  auto* cmd = gan.add_subcommand(
      "metrics",
      "FID and KID of generated images against real ones (with the real-vs-real floor), and for generated sets "
      "with labels/ the label consistency");
  cmd->add_option("--real", f->real, "real images: a folder of images or a data set root")->required();
  cmd->add_option("--fake", f->fake,
                  "generated images: a folder of images, or a `gan generate` folder (images/, masks/, labels/)")
      ->required();
  cmd->add_option(
      "--features", f->options.features,
      "feature network: sa-unet:CKPT | torchscript:FILE (your own network taking [N,3,299,299] in [0,1]) | "
      "color-stats (default: the shipped models/sa-unet-drive.pt encoder)");
  cmd->add_option("--segmenter", f->segmenter,
                  std::string("label consistency: the SA-UNet that segments the generated images (default: the "
                              "shipped ") + kShippedSegmenter + ")");
  cmd->add_option("--real-split", f->real_split, "with a data set as --real: the split compared with")
      ->capture_default_str();
  cmd->add_option("--floor-split", f->floor_split,
                  "with a data set as --real: the split whose crops give the real-vs-real floor (none: skip)")
      ->capture_default_str();
  cmd->add_option("--json", f->json, "also write the scores to this JSON file");
  cmd->add_option("--max-images", f->options.max_images, "images used per side")->capture_default_str();
  cmd->add_option("--batch", f->options.batch, "images per feature-network call")->capture_default_str();
  cmd->add_option("--kid-subsets", f->options.kid_subsets, "KID: random subsets")->capture_default_str();
  cmd->add_option("--kid-subset-size", f->options.kid_subset_size, "KID: images per subset")
      ->capture_default_str();
  cmd->add_option("--seed", f->options.seed, "KID subsets and real crops: seed of the draws")->capture_default_str();
  add_compute_flags(*cmd, f->compute);
  cmd->callback([f] { run_gan_metrics(*f); });
}

}  // namespace vg::cli
