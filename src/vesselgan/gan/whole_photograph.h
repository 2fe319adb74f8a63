// Whole synthetic photographs with exact vessel labels and FOV masks (issue 31): a vessel tree grown in a
// whole FOV by the procedural model (data/phantom.h, at DRIVE's scale; its shape beside DRIVE's: docs/gan.md,
// `gan trees`), painted over the whole map by a label-first generator's painter (fully convolutional: it
// paints any size its levels divide), then shaded with what a patch-trained painter cannot know (light falling
// off toward the rim, the darker macula, the bright optic disc, at the tree's own disc and macula, with
// strengths measured on DRIVE's training photographs) and given DRIVE's fine texture (grain, colour grain and
// mottle, which the painter leaves smooth), black outside the FOV. The shading is a measured
// stand-in: the next version conditions the painter itself on those maps.
#pragma once
#include <torch/torch.h>

#include <filesystem>

#include "vesselgan/core/progress.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/gan/appearance.h"
#include "vesselgan/gan/gan_models.h"

namespace vg {

struct WholeOptions {
  int64_t width = 565, height = 584;  // DRIVE's photographs
  int64_t count = 20;
  uint64_t seed = 0;
  PhantomOptions trees;  // size is set from width and height (the square the tree grows in)
  bool shading = true;   // light fall-off, macula and optic disc (false: the painter's output alone)
  bool texture = true;   // the background's grain, colour grain and mottle at DRIVE's measured strengths
  AppearanceOptions appearance;  // wide: each photograph's own exposure, colour, gamma, ... (gan/appearance.h)
};
void validate(const WholeOptions& o);

struct WholePhotograph {
  torch::Tensor image;  // [3, H, W] in [0, 1], 0 outside the FOV
  torch::Tensor label;  // [1, H, W] in {0, 1}, vessels inside the FOV
  torch::Tensor mask;   // [1, H, W] in {0, 1}, the FOV
};

// Photograph `index` of `seed` (depends on nothing else). UserError for a generator without a painter.
WholePhotograph paint_whole(const LoadedGenerator& g, int64_t index, const WholeOptions& o,
                            const torch::Device& device);

// Writes out/{images,labels,masks}/<id>.png (id: 6 digits) for photographs 0 .. count-1 and out/generate.json;
// photographs already there are kept (a killed run resumes). Returns how many were written.
int64_t generate_whole(const LoadedGenerator& g, const std::filesystem::path& out, const WholeOptions& o,
                       const torch::Device& device, const ProgressFn& progress = {});

}  // namespace vg
