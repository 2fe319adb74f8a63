// Vessel maps without a learned map generator: crops of procedural vessel trees (data/phantom.h: trees grown
// from an optic disc with Murray's-law branching, at DRIVE's scale), for the label-first route while no
// label-patch StyleGAN2 draws maps worth painting. Crops are drawn like the real crops the painter learned
// from: wholly inside the FOV, toward vessels, x-flipped at random.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>

namespace vg {

struct ProceduralMapOptions {
  int64_t photo_size = 565;   // side of the phantom photograph the trees grow in (DRIVE photographs: 565 x 584)
  double vessel_bias = 0.5;   // crop position probability: (1 - b) uniform + b in proportion to its vessel pixels
  double vessel_fraction = 0.12;  // the trees' share of the FOV (data/phantom.h; DRIVE about 0.12)
};
void to_json(nlohmann::json& j, const ProceduralMapOptions& o);
void from_json(const nlohmann::json& j, ProceduralMapOptions& o);  // absent keys keep their values
void validate(const ProceduralMapOptions& o);                      // UserError naming the first bad field

// Maps first .. first+n-1 of `seed`: [n, 1, size, size] float in {-1, 1} on the CPU; map i depends only on
// (seed, i), one phantom photograph each.
torch::Tensor procedural_vessel_maps(uint64_t seed, int64_t first, int64_t n, int64_t size,
                                     const ProceduralMapOptions& o);

}  // namespace vg
