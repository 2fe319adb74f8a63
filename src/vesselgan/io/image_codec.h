// In-memory image coding, for code that needs a codec's effect without touching a file (the JPEG
// acquisition shift of data/acquisition_shift.h). read_image (image_io.h) and write_jpeg (image_writers.h)
// are these plus the file, with the same formats, conversions and errors.
#pragma once
#include <torch/torch.h>

#include <string>

#include "vesselgan/io/image_io.h"

namespace vg {

// pixels: [C, H, W] (C = 1 or 3) or [H, W], any device and dtype, read as values in [0, 1], clamped and
// rounded to 8 bits -> a baseline JPEG file's bytes, quality 1..100 (4:2:0 chroma for RGB). Defined in
// image_writers.cpp.
std::string encode_jpeg(const torch::Tensor& pixels, int quality = 95);

// The bytes of a PNG, JPEG, TIFF, GIF or PPM/PGM file -> an Image, as read_image would decode that file.
// Throws UserError "cannot read image <source>: ..." for unknown or damaged data. Defined in image_io.cpp.
Image decode_image(const std::string& bytes, const std::string& source);

}  // namespace vg
