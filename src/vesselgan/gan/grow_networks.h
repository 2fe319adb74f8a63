// Progressive transfer in resolution: a run at a higher resolution starts from a trained lower-resolution run.
// StyleGAN2's generator and discriminator are chains of blocks named by their resolution (b4, b8, ...); with the
// same channel rule (channel_base, channel_max) a block at resolution r has the same shape in a 32 px and a
// 64 px network, except the discriminator's top block, which reads the image through fromrgb only in the
// smaller one. So every tensor both networks name alike is copied: the mapping network, w_avg, the synthesis
// blocks up to the old resolution (their toRGB layers included, so the new generator starts as the old one's
// image upsampled plus what its fresh top block adds), and the discriminator's blocks below the new top. The
// blocks above the old resolution start fresh. (Karras et al. 2018 grew networks this way with a fade-in;
// StyleGAN2's skip generator and residual discriminator take the new block without one.)
#pragma once
#include <filesystem>

#include "vesselgan/gan/gan_models.h"

namespace vg {

// The numbers of tensors copied into G (the same into G_ema) and into D, and those of D's left behind (the
// old top block's fromrgb).
struct GrowReport {
  int64_t g_copied = 0, d_copied = 0, d_left = 0;
};

// UserError (naming init and the first difference) when init is not lower in resolution than o, or differs in
// anything but resolution: mode (image channels), z and w sizes, mapping depth, or the channel rule (which would
// give a shared block another shape). Reads init's header only: a command checks before it writes anything.
// Returns init's options (its networks, o's recipe).
GanTrainOptions check_growable(const std::filesystem::path& init, const GanTrainOptions& o);

// Loads `init` (a run checkpoint or folder, or a generator file, at a lower resolution) into fresh models
// built from `o`: G and G_ema from init's G and G_ema (a generator file's G_ema for both), D from init's D.
// UserError as check_growable's.
GrowReport load_grown_networks(const std::filesystem::path& init, const GanTrainOptions& o, GanModels& models);

}  // namespace vg
