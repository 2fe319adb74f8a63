// GAN and painter recipes small enough for unit tests: a preset's mode and schedule with narrow networks (32 channels,
// z and w of 32) that train at several steps per second on one CPU core.
#pragma once
#include "vesselgan/gan/gan_options.h"
#include "vesselgan/gan/painter.h"

namespace vg::test {

// `preset` at `resolution` with tiny networks, batch 8, a 2x2 fakes grid, ticks and snapshots every
// `tick_kimg`, `kimg` long, seeded; finalized.
inline GanTrainOptions tiny_gan(const std::string& preset, int64_t resolution, double kimg, double tick_kimg,
                                uint64_t seed) {
  GanTrainOptions o = gan_preset(preset);
  o.resolution = resolution;
  o.generator.z_dim = o.generator.w_dim = 32;
  o.generator.channel_base = o.discriminator.channel_base = 32 * 32;
  o.generator.channel_max = o.discriminator.channel_max = 32;
  o.batch = 8;
  o.discriminator.mbstd_group = 4;
  o.kimg = kimg;
  o.tick_kimg = o.snapshot_kimg = tick_kimg;
  o.grid_size = 2;
  o.seed = seed;
  finalize(o);
  return o;
}

// A painter of 32 px crops with 8 to 32 channels and 2 levels, batch 8, `steps` long, logging every 5
// steps, seeded.
inline PainterOptions tiny_painter(int64_t steps) {
  PainterOptions o;
  o.resolution = 32;
  o.channels = 8;
  o.max_channels = 32;
  o.levels = 2;
  o.d_channels = 8;
  o.batch = 8;
  o.steps = steps;
  o.log_every = 5;
  o.snapshot_every = 1000;
  o.seed = 4;
  return o;
}

}  // namespace vg::test
