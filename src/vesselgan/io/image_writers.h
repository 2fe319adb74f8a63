// Writers for the formats other data sets are distributed in (image_io.h writes PNG): JPEG (CHASE_DB1,
// HRF, users' photographs), baseline TIFF (HRF's labels and masks) and binary PPM/PGM (STARE). They exist
// so tests can lay out phantom data sets exactly as those sets come; the readers are in image_io.h.
// pixels: [C, H, W] (C = 1 or 3) or [H, W], any device and dtype, read as values in [0, 1], clamped and
// rounded to 8 bits. Every writer is atomic (temp file + rename) and creates parent folders.
#pragma once
#include <torch/torch.h>

#include <filesystem>

namespace vg {

// Baseline JPEG through libjpeg, quality 1..100 (4:2:0 chroma for RGB, as cameras write).
void write_jpeg(const std::filesystem::path& path, const torch::Tensor& pixels, int quality = 95);

// Uncompressed 8-bit baseline TIFF, one strip: gray (BlackIsZero) for C = 1, RGB for C = 3.
void write_tiff(const std::filesystem::path& path, const torch::Tensor& pixels);

// Binary 8-bit netpbm: P6 (PPM) for C = 3 or a .ppm name (gray repeated, as STARE's labels are stored),
// else P5 (PGM).
void write_pnm(const std::filesystem::path& path, const torch::Tensor& pixels);

// By extension (case-insensitive): .png (8-bit), .jpg/.jpeg, .tif/.tiff, .ppm/.pgm/.pnm; UserError
// naming the path for any other extension.
void write_image(const std::filesystem::path& path, const torch::Tensor& pixels);

}  // namespace vg
