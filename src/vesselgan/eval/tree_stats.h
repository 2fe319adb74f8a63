// Shape statistics of a whole vessel map, for telling drawn vessel trees from real ones (issue 31): how much
// of the FOV is vessel, how wide the vessels are, how often they branch, how they wind, and how many pieces
// and holes the map has. Measured on the map's skeleton (eval/skeleton.h), in pixels of the map's own scale,
// so maps are compared at the same scale (DRIVE: 565 x 584).
//
// Definitions (each per map; a data set reports mean and range over its maps):
//   vessel_fraction     vessel pixels inside the FOV / FOV pixels
//   centreline_density  skeleton pixels per 1000 FOV pixels
//   branch_density      branch points (clusters of skeleton pixels with 3 or more skeleton neighbours) per
//                       1000 skeleton pixels; end_density the same for end points (1 neighbour)
//   width_mean          mean local width at skeleton pixels, 2 d - 1 with d the Euclidean distance to the
//                       nearest background pixel (1 px vessel: 1), and width_hist its histogram over the bins
//                       of kWidthBins (share of skeleton pixels)
//   tortuosity          mean arc / chord over the segments between branch and end points at least
//                       kMinSegment pixels long (1 = straight)
//   components          8-connected pieces of the vessel map with at least kMinComponent pixels
//   holes               4-connected background regions inside the FOV enclosed by vessel (in a 2D picture of
//                       a tree, where an artery crosses a vein; a loop of the drawn tree itself adds one too)
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

namespace vg {

constexpr std::array<double, 6> kWidthBins = {2, 3, 4, 6, 8, 1e9};  // upper edges: <2, 2-3, 3-4, 4-6, 6-8, >=8 px
constexpr int64_t kMinSegment = 10;
constexpr int64_t kMinComponent = 10;

struct TreeStats {
  double vessel_fraction = 0, centreline_density = 0, branch_density = 0, end_density = 0;
  double width_mean = 0, tortuosity = 1;
  std::array<double, kWidthBins.size()> width_hist{};
  double components = 0, holes = 0;
};
void to_json(nlohmann::json& j, const TreeStats& s);

// label: [1, H, W] or [H, W], vessel where > 0.5; fov: the same shape (all ones when undefined). CPU.
TreeStats tree_stats(const torch::Tensor& label, const torch::Tensor& fov);

// One figure of a data set's maps: mean, minimum and maximum.
struct TreeFigure {
  std::string name;
  double mean = 0, min = 0, max = 0;
};
// Every scalar of TreeStats (the width histogram as one figure per bin), in the order of the definitions.
std::vector<TreeFigure> summarize(const std::vector<TreeStats>& maps);

}  // namespace vg
