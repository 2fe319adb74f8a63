// Pseudo-labelling: segmenting a folder of (synthetic) photographs with a trained model and writing the
// photographs, their predicted labels and FOV masks as a "folder" data set (data/dataset.h) that trains
// directly, with filters that reject images the model is unsure about or whose vessel share is implausible.
//
// Output folder OUT:
//   images/<id>.png    the photograph (a PNG copied byte for byte, other formats converted to 8-bit PNG)
//   labels/<id>.png    hard: 8-bit 0/255 (p >= 0.5); soft: 16-bit probability. 0 outside the FOV.
//   masks/<id>.png     the FOV: the sample's mask file, else estimated (data/fov.h); 8-bit 0/255
//   pseudo_label.json  options, model, and per image: confidence, vessel fraction, FOV source,
//                      accepted / rejected with the reason
// find_dataset(OUT, "all", "folder") reads it back (labels/ and masks/ matched by id). Rejected images get
// no files (so OUT holds only accepted ones) but are listed in the json. Soft labels train as soft targets
// when read with LabelValues::probability (data/dataset.h; the pipeline does so for mode "soft").
//
// Resumable: an image whose labels/<id>.png exists, or that pseudo_label.json already lists as rejected,
// is skipped. Each file is written atomically and the label last, so a killed run leaves whole images only.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

struct PseudoLabelOptions {
  std::string mode = "hard";  // "hard" (0/255 8-bit label) or "soft" (16-bit probability)
  bool tta = true;            // flip test-time augmentation (segmenter.h)
  // Scale normalization (segmenter.h PredictOptions::fov_diameter): -1 = the model's training scale
  // (native when the checkpoint records none), 0 = native pixels, > 0 = this FOV diameter in pixels.
  double fov_diameter = -1;
  double min_confidence = 0;       // confidence = mean over FOV pixels of |2p - 1|; below: rejected
  double min_vessel_fraction = 0;  // vessel fraction = #(p >= 0.5 in FOV) / #FOV; outside
  double max_vessel_fraction = 1;  // [min, max]: rejected
};
// Keys exactly: mode, tta, fov_diameter, min_confidence, min_vessel_fraction, max_vessel_fraction.
void to_json(nlohmann::json& j, const PseudoLabelOptions& o);
// Keys not present keep their current values; an unknown key or a wrong type throws UserError.
void from_json(const nlohmann::json& j, PseudoLabelOptions& o);
// Throws UserError naming the first bad field ("pseudo_label.mode") and its valid values.
void validate(const PseudoLabelOptions& o);

struct PseudoLabelRecord {
  std::string id;
  bool accepted = false;
  std::string reason;          // why it was rejected; empty when accepted
  double confidence = 0;       // mean over FOV pixels of |2p - 1|
  double vessel_fraction = 0;  // #(p >= 0.5 in FOV) / #FOV
  std::string fov;             // "given" (mask file) or "estimated"
};
// Keys exactly: id, status ("accepted" | "rejected"), reason (when rejected), confidence, vessel_fraction,
// fov.
void to_json(nlohmann::json& j, const PseudoLabelRecord& r);
void from_json(const nlohmann::json& j, PseudoLabelRecord& r);

struct PseudoLabelResult {
  int64_t accepted = 0, rejected = 0;      // decided in this call
  int64_t skipped = 0;                     // done by an earlier call into the same folder
  std::vector<PseudoLabelRecord> records;  // every image of `images`, in its order (earlier calls' included)
};

// Labels every sample of `images` (labels in it are ignored) with `seg` into `out` (created if missing).
// Throws UserError for invalid options, an `out` whose images/ is the input's own folder, a
// pseudo_label.json in `out` written with other options (pseudo-label into a new folder instead), or
// unreadable images. Progress: stage "pseudo-label", unit "image", scalars accepted / rejected.
PseudoLabelResult pseudo_label(const Segmenter& seg, const DatasetFiles& images,
                               const std::filesystem::path& out, const PseudoLabelOptions& opt,
                               const ProgressFn& progress = {});

// The smallest and largest vessel fraction of the labels of a real labelled set, inside each image's FOV
// (label pixels in the FOV / FOV pixels): the "real range" for min/max_vessel_fraction. Samples without
// a label are ignored; UserError when none has one.
std::pair<double, double> vessel_fraction_range(const DatasetFiles& labelled);

}  // namespace vg
