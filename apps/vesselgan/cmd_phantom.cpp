// vesselgan phantom: procedurally drawn fundus-like images with exact vessel labels and FOV masks.
#include <iostream>

#include "cli.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/phantom.h"

namespace vg::cli {

namespace {
struct PhantomFlags {
  std::string out, config;
  int n = 20, n_test = -1;
  int64_t size = 128;
  int64_t seed = 1;
};

void run_phantom(const PhantomFlags& f) {
  if (f.n < 1) throw UserError("--n " + std::to_string(f.n) + " is not valid (valid: >= 1 training images)");
  const int n_test = f.n_test >= 0 ? f.n_test : std::max(1, f.n / 4);
  PhantomOptions opt;
  if (!f.config.empty()) {
    from_json(config_section(f.config, "phantom"), opt);
  }
  opt.size = f.size;
  validate(opt);
  write_phantom_dataset(f.out, f.n, n_test, opt, static_cast<uint64_t>(f.seed));
  std::cout << "wrote " << f.n << " training and " << n_test << " test phantoms of " << f.size << "x" << f.size
            << " to " << f.out << " ({train,test}/{images,labels,masks}/NN.png)\n";
}
}  // namespace

void add_phantom(CLI::App& app) {
  auto f = std::make_shared<PhantomFlags>();
  auto* cmd = app.add_subcommand("phantom", "Write a synthetic fundus data set with exact labels");
  cmd->add_option("--out", f->out, "output folder")->required();
  cmd->add_option("--n", f->n, "training images")->capture_default_str();
  cmd->add_option("--n-test", f->n_test, "test images (default n/4)");
  cmd->add_option("--size", f->size, "image side in pixels")->capture_default_str();
  cmd->add_option("--seed", f->seed, "random seed")->capture_default_str();
  cmd->add_option("--config", f->config,
                  "JSON file of phantom options ({\"phantom\": {...}} or the object: num_trees, branch_spacing, "
                  "tortuosity, vessel_width, vessel_fraction, ...; data/phantom.h)");
  cmd->callback([f] { run_phantom(*f); });
}

}  // namespace vg::cli
