// Training from a data-set folder, shared by `train` and `demo`: finds and loads the data, holds out the
// validation images (seeded, from the training split only), records where the data came from (run.json)
// so `--resume` needs only the run folder, and trains.
#pragma once
#include <filesystem>
#include <string>

#include "vesselgan/core/progress.h"
#include "vesselgan/seg/trainer.h"

namespace vg::cli {

struct TrainOutcome {
  TrainResult result;
  std::string select;  // validation metric that chose the best model
};

// In a data-parallel job (`world`), rank 0 alone writes run.json (train_sa_unet says what the ranks share).
TrainOutcome train_on_data(std::string data, std::string layout, const std::filesystem::path& out, TrainOptions opt,
                           const torch::Device& device, bool resume, const ProgressFn& progress,
                           const Collective& world = Collective());

}  // namespace vg::cli
