// vesselgan gan convert: StyleGAN2 networks between vesselgan checkpoints and the plain networks file that
// scripts/official/official_state.py moves into and out of NVIDIA's stylegan2-ada-pytorch (docs/official.md).
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/gan/official_networks.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct ConvertFlags {
  std::string from, to, mode;
};

bool is_networks_file(const fs::path& p) { return p.extension() == ".safetensors"; }

void run_gan_convert(const ConvertFlags& f) {
  const fs::path from = f.from, to = f.to;
  if (fs::exists(to)) throw UserError("--to " + to.string() + " exists (choose a new file name)");
  if (is_networks_file(from) == is_networks_file(to))
    throw UserError("gan convert goes from a networks file (.safetensors) to a vesselgan checkpoint (.pt) or back; "
                    "got --from " + from.string() + " and --to " + to.string());
  if (is_networks_file(from)) {
    const GanTrainOptions o = convert_official_to_checkpoint(from, to, f.mode);
    std::cout << "wrote " << to.string() << " (mode " << o.mode << ", " << o.resolution
              << " px): use it with gan train --init or gan generate --model\n";
  } else {
    if (!f.mode.empty()) throw UserError("--mode goes with a .safetensors --from only");
    convert_checkpoint_to_official(from, to);
    std::cout << "wrote " << to.string()
              << ": scripts/official/official_state.py to-pkl turns it into a stylegan2-ada-pytorch pickle\n";
  }
}

}  // namespace

void add_gan_convert(CLI::App& gan) {
  auto f = std::make_shared<ConvertFlags>();
  auto* c = gan.add_subcommand(
      "convert", "StyleGAN2 networks from a .safetensors networks file (stylegan2-ada-pytorch's, via "
                 "scripts/official/official_state.py) to a vesselgan checkpoint, or back");
  c->add_option("--from", f->from, "a networks file (.safetensors), or a GAN run folder, checkpoint or generator file")
      ->required()
      ->check(CLI::ExistingFile | CLI::ExistingDirectory);
  c->add_option("--to", f->to, "the file to write: a .pt checkpoint, or a .safetensors networks file")->required();
  c->add_option("--mode", f->mode, "data mode of the checkpoint written (default from the image channels: 3 full, "
                                   "4 joint-patch, 1 label-patch)")
      ->check(CLI::IsMember({"full", "patch", "joint", "joint-patch", "label-patch"}));
  c->callback([f] { run_gan_convert(*f); });
}

}  // namespace vg::cli
