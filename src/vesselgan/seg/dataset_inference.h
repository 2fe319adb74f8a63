// Running a segmenter over a data set, and reading saved predictions back, both yielding EvalItems
// (probability, label, FOV mask) ready for eval/evaluator.h.
#pragma once
#include <filesystem>
#include <vector>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/eval/evaluator.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

// Segments each sample's image; labels are required (UserError naming the image otherwise).
std::vector<EvalItem> predict_dataset(const Segmenter& seg, const DatasetFiles& data, const PredictOptions& opt,
                                      const ProgressFn& progress = {});

// Reads one prediction per sample from `pred_dir` (matched by id, see find_file_for_id): a grayscale or RGB
// image whose first channel is the probability scaled to the file's range (a binary map is a valid
// prediction). UserError when a file is missing or its size differs from the label's.
std::vector<EvalItem> load_predictions(const DatasetFiles& data, const std::filesystem::path& pred_dir);

}  // namespace vg
