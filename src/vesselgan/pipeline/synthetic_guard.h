// A guard against degenerate synthetic sets: before any model trains on generated images, their labels are
// compared with the real ones. A generator too coarse to draw vessels gives labels that are (almost) empty,
// and a retraining on them teaches "no vessels" (the 0.0066-F1 collapse of an earlier toy GAN).
//
// Two figures, each compared like with like:
// - the synthetic labels' mean vessel fraction (label pixels / mask pixels) against the real labels' range
//   over training images, seen as the generator saw them: whole photographs for full-image generators; for
//   patch generators, each photograph's expected fraction over the crops its generator's training drew
//   (wholly inside the FOV, uniformly or toward vessels);
// - for a generator that draws labels, their label consistency (gan/label_consistency.h) with model A, held
//   to a floor where those labels train.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vesselgan/data/dataset.h"

namespace vg {

// The range over `real` (labelled samples with masks) of each photograph's expected vessel fraction in
// `crop` x `crop` crops lying wholly inside its FOV, crop positions weighted by vessel_biased_weights(bias)
// (gan_data.h) on a grid of stride crop / 8. crop = 0: whole photographs, inside the FOV. Photographs with no
// such crop are skipped; UserError when none is left.
std::pair<double, double> real_vessel_fraction_range(const std::vector<Sample>& real, int64_t crop, double bias);

struct SyntheticSetCheck {
  std::string what;                 // "synthetic labels of <root>"
  double fraction_mean = 0;         // of the synthetic labels
  double real_min = 0, real_max = 0;
  std::string real_view;            // "64 px crops drawn toward vessels (bias 0.5)" / "whole photographs"
  double label_f1 = -1;             // the generator's label consistency with model A; < 0 when not measured
  double min_label_f1 = 0;          // the floor it was held to (0: none, e.g. its labels do not train)
  bool check_fraction = true;
};
void to_json(nlohmann::json& j, const SyntheticSetCheck& c);

// Throws UserError naming the figure that fails: the mean fraction outside [real_min, real_max] (when
// check_fraction), or label_f1 measured and below min_label_f1. Returns a one-line summary otherwise.
std::string enforce(const SyntheticSetCheck& c);

}  // namespace vg
