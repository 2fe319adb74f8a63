// Image files <-> tensors: the ONE place that knows pixel formats, channel order and bit depths.
// Readers decode from memory through the formats' own libraries (libpng, libjpeg-turbo, libtiff, giflib)
// plus a small PPM/PGM parser; the format is detected from the file's first bytes, never its extension.
// Library errors never print, exit or abort: every failure becomes a one-line UserError naming the file.
#pragma once
#include <torch/torch.h>

#include <filesystem>

namespace vg {

struct Image {
  torch::Tensor pixels;  // [C, H, W] float32 in [0, 1], C = 1 (grayscale) or 3 (RGB), CPU
  int bit_depth = 8;     // 8 or 16: the precision of the stored samples (1/2/4-bit files report 8)
};

// Reads PNG (1/2/4/8/16-bit; gray, gray+alpha, RGB, RGBA, palette), JPEG (gray, RGB, CMYK), TIFF (8/16-bit
// gray/RGB through a lossless path, anything else libtiff decodes through its 8-bit RGBA path; any
// compression incl. LZW), GIF (first frame on its logical screen) and PBM/PGM/PPM (P1-P6, maxval <= 65535).
// Alpha is dropped. Palette images (PNG, GIF, TIFF) become 1 channel when every palette entry used is gray,
// else 3. Throws UserError naming `path` for a missing, empty, unknown, truncated or corrupt file.
Image read_image(const std::filesystem::path& path);

// Writes an 8- or 16-bit grayscale or RGB PNG atomically (temp file + rename), creating parent folders.
// pixels: [C, H, W] (C = 1 or 3) or [H, W]; any device and dtype, converted to float and read as values in
// [0, 1] (uint8 is NOT rescaled from [0, 255]); clamped to [0, 1] and rounded to the nearest level.
void write_png(const std::filesystem::path& path, const torch::Tensor& pixels, int bit_depth = 8);

// True for .png .jpg .jpeg .tif .tiff .gif .ppm .pgm .pbm .pnm (case-insensitive).
bool has_image_extension(const std::filesystem::path& p);

}  // namespace vg
