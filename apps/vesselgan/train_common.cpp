#include "train_common.h"

#include <iostream>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/data/split.h"
#include "vesselgan/io/checkpoint.h"

namespace vg::cli {

TrainOutcome train_on_data(std::string data, std::string layout, const std::filesystem::path& out, TrainOptions opt,
                           const torch::Device& device, bool resume, const ProgressFn& progress,
                           const Collective& world) {
  const auto last = out / "checkpoints" / "last.pt";
  const auto run_json = out / "run.json";
  if (resume && std::filesystem::exists(last)) {
    // A resumed run keeps its recipe and data: the split must be the same one.
    opt = read_checkpoint_header(last, kSegCheckpointKind).config.at("train").get<TrainOptions>();
    if (std::filesystem::exists(run_json)) {
      const auto j = nlohmann::json::parse(read_file(run_json));
      if (data.empty()) data = j.value("data", "");
      layout = j.value("layout", layout);
    }
    std::cerr << "resuming " << last.string() << "\n";
  }
  if (data.empty()) throw UserError("--data is required (no earlier run in " + out.string() + " to resume)");
  // Refused before anything is written: a refused command must leave the existing run's run.json alone.
  if (!resume && std::filesystem::exists(last))
    throw UserError("run folder " + out.string() +
                    " already holds a training run (pass --resume to continue it, or choose another --out)");
  validate(opt);

  const DatasetFiles files = find_dataset(data, "train", layout);
  const std::vector<Sample> samples = load_samples(files, /*require_labels=*/true);
  const SplitIndices split =
      split_train_val(static_cast<int64_t>(samples.size()), opt.val_count, effective_split_seed(opt));
  std::vector<Sample> train, val;
  for (auto i : split.train) train.push_back(samples[i]);
  for (auto i : split.val) val.push_back(samples[i]);
  std::cerr << "data: " << files.root.string() << " (" << files.layout << " layout): " << train.size()
            << " training + " << val.size() << " validation images\n";
  if (world.is_main() && !(resume && std::filesystem::exists(last)))
    write_file_atomic(run_json, nlohmann::json{{"data", std::filesystem::absolute(data).string()},
                                               {"layout", files.layout}, {"split", "train"}}
                                        .dump(2) + "\n");

  std::cerr << "model: " << opt.model.variant
            << (opt.model.refiner_channels > 0 ? " + refiner (" + std::to_string(opt.model.refiner_channels) + " channels)" : "")
            << ", " << count_parameters(*SAUNet(opt.model)) << " parameters\n";
  TrainOutcome o;
  o.select = val.empty() ? "train loss" : opt.select;
  o.result = train_sa_unet(train, val, opt, out, device, resume, progress, world);
  return o;
}

}  // namespace vg::cli
