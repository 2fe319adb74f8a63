// Does a joint generator's image depict its own label? A segmenter trained on real photographs (the shipped
// SA-UNet by default) segments each generated image at its native pixels; its thresholded map is scored
// against the generator's label inside the mask, pooled over all images (the F1 the real DRIVE test set
// scores about 0.82 with the shipped model). Beside it: the labels' vessel fractions inside the masks, to
// compare with the real labels' (a generator that draws no vessels scores a fraction near 0).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vesselgan/data/dataset.h"
#include "vesselgan/eval/confusion.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {

// Summary of per-image vessel fractions (vessel pixels / mask pixels).
struct FractionStats {
  double mean = 0, min = 0, max = 0;
  int64_t count = 0;
};
FractionStats fraction_stats(const std::vector<double>& fractions);
void to_json(nlohmann::json& j, const FractionStats& s);

// The vessel fraction inside the mask of each sample with a label (samples without one are skipped).
std::vector<double> vessel_fractions(const std::vector<Sample>& samples);

struct LabelConsistency {
  Confusion pooled;              // segmenter's map (>= threshold) against the label, inside the masks
  double f1 = 0, precision = 0, recall = 0;
  FractionStats label_fraction;  // of the labels scored
  int64_t images = 0;
};
void to_json(nlohmann::json& j, const LabelConsistency& c);
// "label consistency F1 0.812 (precision 0.80, recall 0.82) over 64 images; label vessel fraction 0.121
// (0.050..0.190)".
std::string to_string(const LabelConsistency& c);

// samples: labelled images (label and mask defined, mask all ones when none). The segmenter predicts at the
// images' native pixels (opt.fov_diameter is forced to 0: generated patches carry no FOV scale). UserError
// when there are no samples or one has no label.
LabelConsistency label_consistency(const Segmenter& segmenter, const std::vector<Sample>& samples,
                                   PredictOptions opt = {}, double threshold = 0.5);

}  // namespace vg
