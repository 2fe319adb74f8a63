// vesselgan gan trees: do drawn vessel trees look like real ones? The shape statistics of whole vessel maps
// (eval/tree_stats.h) of a real data set's labels and of a generated or procedural set's, side by side, with
// whether each generated mean lies within the real maps' range.
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "run_data.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/eval/tree_stats.h"

namespace vg::cli {

namespace {

namespace fs = std::filesystem;

struct GanTreesFlags {
  RunData real, fake;
  std::string json;
};

// Every labelled map of `d` (its FOV mask with it), one statistics row each.
std::vector<TreeStats> maps_of(const RunData& d, const std::string& side) {
  const DatasetFiles files = find_run_files(d);
  std::vector<TreeStats> out;
  for (const auto& f : files.samples) {
    if (f.label.empty())
      throw UserError("--" + side + " " + d.data + ": sample " + f.id + " has no vessel label (valid: a data set "
                      "with labels, e.g. DRIVE or what gan generate / phantom write)");
    const Sample s = load_sample(f);
    out.push_back(tree_stats(s.label, s.mask));
  }
  return out;
}

void run_gan_trees(const GanTreesFlags& f) {
  if (!f.json.empty() && fs::exists(f.json))
    throw UserError("--json " + f.json + " exists already (choose another name; nothing was written)");
  const auto real = maps_of(f.real, "real"), fake = maps_of(f.fake, "fake");
  const auto r = summarize(real), g = summarize(fake);
  std::printf("%-20s %28s %28s  %s\n", "figure", ("real (" + std::to_string(real.size()) + " maps)").c_str(),
              ("generated (" + std::to_string(fake.size()) + " maps)").c_str(), "generated mean in real range");
  nlohmann::json rows = nlohmann::json::array();
  int64_t within = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const bool in = g[i].mean >= r[i].min && g[i].mean <= r[i].max;
    within += in;
    std::printf("%-20s %10.4f [%7.4f, %7.4f] %10.4f [%7.4f, %7.4f]  %s\n", r[i].name.c_str(), r[i].mean, r[i].min,
                r[i].max, g[i].mean, g[i].min, g[i].max, in ? "yes" : "no");
    rows.push_back({{"figure", r[i].name},
                    {"real", {{"mean", r[i].mean}, {"min", r[i].min}, {"max", r[i].max}}},
                    {"generated", {{"mean", g[i].mean}, {"min", g[i].min}, {"max", g[i].max}}},
                    {"within_real_range", in}});
  }
  std::cout << within << " of " << r.size() << " generated means lie within the real maps' range\n";
  if (f.json.empty()) return;
  nlohmann::json per_map = {{"real", real}, {"generated", fake}};
  write_file_atomic(f.json, nlohmann::json{{"real", f.real.data}, {"generated", f.fake.data}, {"figures", rows},
                                           {"maps", per_map}}
                                .dump(2) + "\n");
  std::cout << "written: " << f.json << "\n";
}

}  // namespace

void add_gan_trees(CLI::App& gan) {
  auto f = std::make_shared<GanTreesFlags>();
  f->fake.split = "all";
  auto* cmd = gan.add_subcommand(
      "trees", "Shape statistics of whole vessel maps (width, branching, tortuosity, pieces, holes): real labels "
               "beside generated or procedural ones");
  cmd->add_option("--real", f->real.data, "real data set with vessel labels (e.g. ../shared/data/DRIVE)")->required();
  cmd->add_option("--real-split", f->real.split, "its split: train | test | all")->capture_default_str();
  cmd->add_option("--exclude", f->real.exclude, "real sample ids to leave out")->delimiter(',');
  cmd->add_option("--fake", f->fake.data, "generated data set with labels (gan generate, phantom)")->required();
  cmd->add_option("--fake-split", f->fake.split, "its split: train | test | all")->capture_default_str();
  cmd->add_option("--json", f->json, "also write the figures and every map's statistics to this new JSON file");
  cmd->callback([f] { run_gan_trees(*f); });
}

}  // namespace vg::cli
