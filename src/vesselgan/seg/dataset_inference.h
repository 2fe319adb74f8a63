// Running a segmenter over a data set, and reading saved predictions back, both yielding EvalItems
// (probability, label, FOV mask) ready for eval/evaluator.h, plus the protocol statement of such a run.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/eval/evaluator.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

// Segments each sample's image; labels are required (UserError naming the image otherwise). The FOV mask
// of each item is the sample's (given, estimated, or the whole image: data/dataset.h); with
// opt.fov_diameter > 0 it also sets the scale (estimated for that purpose when the data set has no masks
// and estimates none). `scales`, when given, receives what was done to each photograph's scale.
std::vector<EvalItem> predict_dataset(const Segmenter& seg, const DatasetFiles& data, const PredictOptions& opt,
                                      const ProgressFn& progress = {}, std::vector<ScaleInfo>* scales = nullptr);

// Reads one prediction per sample from `pred_dir` (matched by id, see find_file_for_id): a grayscale or RGB
// image whose first channel is the probability scaled to the file's range (a binary map is a valid
// prediction). UserError when a file is missing or its size differs from the label's.
std::vector<EvalItem> load_predictions(const DatasetFiles& data, const std::filesystem::path& pred_dir);

// The protocol of scoring `data` (data set, split, annotation, FOV source); the caller adds scale and
// predictions. FOV: "given (mask files)", "estimated from the photographs (data/fov.h: ...)", "whole image
// (no masks)", or a count of each when mixed.
EvalProtocol describe_protocol(const DatasetFiles& data);

// "native resolution (no scale normalization)" when target is 0, else "FOV diameter normalized to N px
// (...)" with the range of resize factors in `scales` when given.
std::string describe_scale(double target, const std::vector<ScaleInfo>& scales = {});

}  // namespace vg
