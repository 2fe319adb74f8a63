#include "vesselgan/seg/ensemble_checkpoint.h"

#include <algorithm>
#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/seg/ensemble.h"
#include "vesselgan/seg/segmenter.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

SAUNetEnsembleImpl::SAUNetEnsembleImpl(const SAUNetOptions& options, int64_t count) {
  TORCH_CHECK(count >= 1, "SAUNetEnsemble needs at least one member, got ", count);
  for (int64_t i = 0; i < count; ++i)
    members_.push_back(register_module("member" + std::to_string(i), SAUNet(options)));
}

SAUNetEnsembleImpl::SAUNetEnsembleImpl(std::vector<SAUNet> members) {
  TORCH_CHECK(!members.empty(), "SAUNetEnsemble needs at least one member");
  for (size_t i = 0; i < members.size(); ++i)
    members_.push_back(register_module("member" + std::to_string(i), members[i]));
}

namespace {

// The weights checked as a weighted ensemble's (seg/ensemble.h validate) for `count` members, normalized to
// sum 1; `what` names them in the error.
std::vector<double> checked_weights(const std::vector<double>& w, size_t count, const std::string& what) {
  if (w.size() != count)
    throw UserError(what + ": " + std::to_string(w.size()) + " weights for " + std::to_string(count) +
                    " members (give one per member)");
  EnsembleOptions o;
  o.method = "weighted";
  o.weights = w;
  try {
    validate(o);
  } catch (const UserError& e) {
    throw UserError(what + ": " + e.what());
  }
  return normalized_weights(w);
}

const nlohmann::json& train_section(const EnsembleMember& m) {
  if (!m.header.config.is_object() || !m.header.config.contains("train"))
    throw UserError("ensemble member " + m.source +
                    " has no SA-UNet config (was it written by vesselgan train?)");
  return m.header.config.at("train");
}

// A member's recorded statistics ranges, or null when it records none.
nlohmann::json statistics_ranges_of(const EnsembleMember& m) {
  const auto& c = m.header.config;
  if (!c.is_object() || !c.contains("predict") || !c["predict"].is_object()) return nullptr;
  return c["predict"].value("statistics_ranges", nlohmann::json());
}

// Whether every member records exactly one statistics range, so that an ensemble of them keeps them all.
bool ensemble_keeps_statistics_ranges(const std::vector<EnsembleMember>& members) {
  return std::all_of(members.begin(), members.end(), [](const EnsembleMember& m) {
    const auto r = statistics_ranges_of(m);
    return r.is_array() && r.size() == 1;
  });
}

InputOptions input_of(const nlohmann::json& train) {
  InputOptions in;
  from_json(train.value("input", nlohmann::json::object()), in);
  return in;
}

bool members_share_input(const std::vector<EnsembleMember>& members) {
  const nlohmann::json first = train_section(members.front()).value("input", nlohmann::json());
  return std::all_of(members.begin(), members.end(), [&](const EnsembleMember& m) {
    return train_section(m).value("input", nlohmann::json()) == first;
  });
}

}  // namespace

std::vector<InputOptions> ensemble_member_inputs(const CheckpointHeader& header, const std::filesystem::path& path) {
  const auto& ens = header.config.value("ensemble", nlohmann::json::object());
  if (!ens.is_object() || !ens.contains("inputs")) return {};
  std::vector<InputOptions> inputs;
  try {
    for (const auto& j : ens.at("inputs")) {
      InputOptions o;
      from_json(j, o);
      validate(o);
      inputs.push_back(o);
    }
  } catch (const std::exception& e) {
    throw UserError("ensemble " + path.string() + ": unusable ensemble.inputs (" + e.what() + ")");
  }
  return inputs;
}

bool ensemble_drops_statistics_ranges(const std::vector<EnsembleMember>& members) {
  const bool some = std::any_of(members.begin(), members.end(),
                                [](const EnsembleMember& m) { return !statistics_ranges_of(m).is_null(); });
  return some && !ensemble_keeps_statistics_ranges(members);
}

void save_ensemble_checkpoint(const std::filesystem::path& path, const std::vector<EnsembleMember>& members,
                              std::vector<double> weights, const CompressionGate& gate) {
  if (members.size() < 2)
    throw UserError("an ensemble needs at least two models, got " + std::to_string(members.size()));
  if (weights.empty()) weights.assign(members.size(), 1.0);
  weights = checked_weights(weights, members.size(), "ensemble " + path.string());
  validate(gate, members.size(), "ensemble " + path.string());

  const EnsembleMember& first = members.front();
  const nlohmann::json& train0 = train_section(first);
  const double fov0 = first.header.config.value("fov_diameter", 0.0);
  for (size_t i = 0; i < members.size(); ++i) {
    const EnsembleMember& m = members[i];
    TORCH_CHECK(m.model, "ensemble member ", m.source, " has no network");
    if (m.header.kind != kSegCheckpointKind)
      throw UserError("ensemble member " + m.source + " is a '" + m.header.kind + "' checkpoint (need '" +
                      kSegCheckpointKind + "': one trained SA-UNet)");
    const nlohmann::json& train = train_section(m);
    const auto differs = [&](const char* field, const nlohmann::json& mine, const nlohmann::json& theirs) {
      throw UserError("ensemble member " + m.source + " differs from " + first.source + " in train." + field +
                      " (" + mine.dump() + " vs " + theirs.dump() +
                      "): members must share the architecture and the input's geometry (resize, pad_to)");
    };
    if (train.value("model", nlohmann::json()) != train0.value("model", nlohmann::json()))
      differs("model", train.value("model", nlohmann::json()), train0.value("model", nlohmann::json()));
    if (!same_geometry(input_of(train), input_of(train0)))
      differs("input", train.value("input", nlohmann::json()), train0.value("input", nlohmann::json()));
    const double fov = m.header.config.value("fov_diameter", 0.0);
    if (std::abs(fov - fov0) > 1e-6 * std::max(1.0, std::abs(fov0)))
      throw UserError(
          "ensemble member " + m.source + " was trained at FOV diameter " + std::to_string(fov) + " px, " +
          first.source + " at " + std::to_string(fov0) +
          " px: members must share the training scale (re-export them with the same --fov-diameter)");
  }

  std::vector<SAUNet> networks;
  for (const auto& m : members) networks.push_back(m.model);
  const SAUNetEnsemble holder(networks);

  CheckpointHeader h;
  h.kind = kSegEnsembleKind;
  h.config = first.header.config;
  drop_recorded_count_ratio(h.config);  // measured on the first member's maps, not on the average's
  drop_recorded_calibration(h.config);  // fitted on the first member's maps too
  if (h.config.contains("predict") && h.config["predict"].is_object()) {
    auto& predict = h.config["predict"];
    predict.erase("statistics_ranges");  // the first member's alone would not fit an ensemble
    predict.erase("statistics_fit");
    if (ensemble_keeps_statistics_ranges(members)) {
      predict["statistics_ranges"] = nlohmann::json::array();
      for (const auto& m : members) predict["statistics_ranges"].push_back(statistics_ranges_of(m)[0]);
    }
  }
  nlohmann::json info = nlohmann::json::array();
  for (const auto& m : members)
    info.push_back({{"source", m.source},
                    {"train_ids", m.header.config.value("train_ids", nlohmann::json::array())},
                    {"val_ids", m.header.config.value("val_ids", nlohmann::json::array())},
                    {"seed", train_section(m).value("seed", nlohmann::json())},
                    {"state", m.header.state}});
  h.config["ensemble"] = {{"weights", weights}, {"members", info}};
  if (active(gate)) h.config["ensemble"]["compressed"] = gate;
  if (!members_share_input(members)) {
    nlohmann::json inputs = nlohmann::json::array();
    for (const auto& m : members) inputs.push_back(train_section(m).value("input", nlohmann::json::object()));
    h.config["ensemble"]["inputs"] = inputs;
  }
  h.state = {{"members", members.size()}};
  save_checkpoint(path, h, *holder);
}

std::vector<double> ensemble_weights(const CheckpointHeader& header, const std::filesystem::path& path) {
  const std::string what = "ensemble checkpoint " + path.string();
  const nlohmann::json& c = header.config;
  if (!c.is_object() || !c.contains("ensemble") || !c["ensemble"].is_object() ||
      !c["ensemble"].contains("weights") || !c["ensemble"]["weights"].is_array())
    throw UserError(what + " records no member weights (config.ensemble.weights)");
  std::vector<double> w;
  for (const auto& x : c["ensemble"]["weights"]) {
    if (!x.is_number()) throw UserError(what + ": config.ensemble.weights holds a non-number " + x.dump());
    w.push_back(x.get<double>());
  }
  if (w.size() < 2)
    throw UserError(what + " has " + std::to_string(w.size()) + " members (need at least two)");
  return checked_weights(w, w.size(), what);
}

CompressionGate ensemble_compression_gate(const CheckpointHeader& header, const std::filesystem::path& path) {
  const std::string what = "ensemble checkpoint " + path.string();
  CompressionGate gate;
  const nlohmann::json& c = header.config;
  if (!c.is_object() || !c.contains("ensemble") || !c["ensemble"].is_object() || !c["ensemble"].contains("compressed"))
    return gate;
  try {
    gate = c["ensemble"]["compressed"].get<CompressionGate>();
  } catch (const UserError& e) {
    throw UserError(what + ": " + e.what());
  }
  validate(gate, ensemble_weights(header, path).size(), what);
  return gate;
}

}  // namespace vg
