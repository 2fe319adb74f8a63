// The JSON config fuzz targets (fuzz_targets.h): the --config readers of `train`, `gan train` and `pipeline`
// (apps/vesselgan/cmd_*.cpp), each run over every preset of its config, and the config.json round trip of
// whatever they accept.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_targets.h"
#include "vesselgan/core/error.h"
#include "vesselgan/gan/gan_options.h"
#include "vesselgan/pipeline/pipeline_config.h"
#include "vesselgan/seg/train_options.h"

namespace vg::fuzz {
namespace {

using nlohmann::json;

// One config kind: its presets, how the CLI picks its section of a --config file, and the checks that
// follow from_json there.
template <class Options>
struct ConfigKind {
  std::vector<std::string> (*preset_names)();
  Options (*preset)(const std::string&);
  const char* section;  // "train": a file may hold {"train": {...}}; nullptr: the whole file
  void (*check)(Options&);
};

void check_train(TrainOptions& o) { validate(o); }
void check_gan(GanTrainOptions& o) { finalize(o); }
void check_pipeline(PipelineConfig& c) {
  finalize(c.gan);
  validate(c);
}

template <class Options>
const json& section_of(const ConfigKind<Options>& kind, const json& j) {
  if (kind.section != nullptr && j.is_object() && j.contains(kind.section)) return j[kind.section];
  return j;
}

// A run folder's config.json is json(options).dump(2), and "a run's config.json works" as --config with any
// preset: reading it back over the first preset must give the same options, accepted again.
template <class Options>
void check_round_trip(const ConfigKind<Options>& kind, const Options& accepted, const std::string& preset) {
  const json saved = accepted;
  const std::string text = saved.dump(2);
  Options back = kind.preset(kind.preset_names().front());
  try {
    from_json(section_of(kind, json::parse(text)), back);
    kind.check(back);
  } catch (const std::exception& e) {
    throw std::logic_error("config accepted over preset " + preset + " is refused after its round trip: " + e.what());
  }
  const json again = back;
  if (again != saved) {
    throw std::logic_error("config accepted over preset " + preset + " changes in its round trip: " +
                           json::diff(saved, again).dump().substr(0, 400));
  }
}

template <class Options>
void read_over_presets(const ConfigKind<Options>& kind, const json& j) {
  for (const std::string& name : kind.preset_names()) {
    Options o = kind.preset(name);
    try {
      from_json(section_of(kind, j), o);
      kind.check(o);
    } catch (const UserError&) {
      continue;  // refused with a message, as designed
    }
    check_round_trip(kind, o, name);
  }
}

}  // namespace

std::vector<std::string> config_targets() { return {"train_options", "gan_options", "pipeline_config"}; }

void fuzz_config(const std::string& config, const std::string& bytes) {
  const std::vector<std::string> known = config_targets();
  if (std::find(known.begin(), known.end(), config) == known.end()) {
    throw std::invalid_argument("unknown config fuzz target '" + config + "'");
  }
  const json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;  // not JSON: the CLI refuses the file with a message
  if (config == "train_options") {
    read_over_presets(ConfigKind<TrainOptions>{train_preset_names, train_preset, "train", check_train}, j);
  } else if (config == "gan_options") {
    read_over_presets(ConfigKind<GanTrainOptions>{gan_preset_names, gan_preset, "gan", check_gan}, j);
  } else {
    read_over_presets(ConfigKind<PipelineConfig>{pipeline_preset_names, pipeline_preset, nullptr, check_pipeline}, j);
  }
}

}  // namespace vg::fuzz
