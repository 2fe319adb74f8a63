// Several SA-UNets of one architecture and one input geometry in a single checkpoint, whose probability maps
// are averaged at inference (a seed or warm-restart ensemble, or networks that see the photograph through
// different enhancements, model_input.h InputOptions::enhance). Segmenter::load reads it like a single model,
// so `segment`, `evaluate`, `ensemble` and the pipeline take either.
//
// The file is a vesselgan checkpoint (io/checkpoint.h) of kind "sa-unet-ensemble": the module is a holder
// with the members registered as member0, member1, ...; the header's config is the first member's config (its
// "train" recipe and "fov_diameter" speak for all) plus
//   "ensemble": {"weights": [w_0, ...] (summing to 1),
//                "members": [{"source", "train_ids", "val_ids", "seed", "state"}, ...],
//                "inputs": [train.input of each member]  (only when the members' inputs differ),
//                "compressed": {"above", "weights"}  (only with a compression gate, seg/compression_gate.h)}.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "vesselgan/io/checkpoint.h"
#include "vesselgan/seg/compression_gate.h"
#include "vesselgan/seg/model_input.h"
#include "vesselgan/seg/sa_unet.h"

namespace vg {

constexpr const char* kSegEnsembleKind = "sa-unet-ensemble";

class SAUNetEnsembleImpl : public torch::nn::Module {
 public:
  SAUNetEnsembleImpl(const SAUNetOptions& options, int64_t count);  // fresh members, to load weights into
  explicit SAUNetEnsembleImpl(std::vector<SAUNet> members);         // these networks, registered as they are
  const std::vector<SAUNet>& members() const { return members_; }

 private:
  std::vector<SAUNet> members_;
};
TORCH_MODULE(SAUNetEnsemble);

// One member to be written: its checkpoint header (kind "sa-unet", as loaded) and its network.
struct EnsembleMember {
  std::string source;  // where it came from (recorded in the header)
  CheckpointHeader header;
  SAUNet model{nullptr};
};

// Writes `members` as one ensemble checkpoint at `path` (atomically). `weights`: one per member, >= 0 with a
// positive sum (normalized here); empty = equal weights. UserError when there are fewer than two members,
// when they differ in architecture ("train.model"), input geometry ("train.input" but its enhancement) or training scale
// ("fov_diameter"), naming the first member that differs and the field, or when the weights do not fit.
// Statistics ranges (adaptive image statistics, one per network) carry over when every member records its
// own: the ensemble records them in member order; when only some do, the ensemble records none
// (ensemble_drops_statistics_ranges). `gate`: the weights for heavily compressed photographs, recorded when active
// (UserError when it does not fit the members, compression_gate.h validate).
void save_ensemble_checkpoint(const std::filesystem::path& path, const std::vector<EnsembleMember>& members,
                              std::vector<double> weights = {}, const CompressionGate& gate = {});

// Whether an ensemble of `members` leaves out statistics ranges that some of them record ("predict".
// "statistics_ranges"): true when some members record them and not every member records exactly one.
bool ensemble_drops_statistics_ranges(const std::vector<EnsembleMember>& members);

// Each member's input recipe when the ensemble records them (members of different enhancements), else empty
// (every member uses "train.input"). UserError naming `path` when they are malformed.
std::vector<InputOptions> ensemble_member_inputs(const CheckpointHeader& header, const std::filesystem::path& path);

// The members' weights recorded in an ensemble checkpoint's header, normalized to sum 1; their number is the
// number of members. UserError naming `path` when they are missing or malformed (fewer than two, negative,
// not finite, or summing to 0).
std::vector<double> ensemble_weights(const CheckpointHeader& header, const std::filesystem::path& path);

// The compression gate an ensemble checkpoint records (config "ensemble"."compressed"), inactive when it records
// none. UserError naming `path` when it is malformed or does not fit the members.
CompressionGate ensemble_compression_gate(const CheckpointHeader& header, const std::filesystem::path& path);

}  // namespace vg
