#include "vesselgan/io/image_writers.h"

// libjpeg's headers need stdio.h first.
// clang-format off
#include <stdio.h>
#include <jpeglib.h>
// clang-format on

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/io/image_codec.h"

namespace vg {
namespace {

// 8-bit samples, interleaved (row-major, channels last).
struct Bytes8 {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> data;
};

Bytes8 to_bytes(const torch::Tensor& pixels, const char* who) {
  TORCH_CHECK(pixels.defined(), who, ": undefined tensor");
  torch::Tensor x = pixels.detach().to(torch::kCPU).to(torch::kFloat);
  if (x.dim() == 2) x = x.unsqueeze(0);
  TORCH_CHECK(x.dim() == 3 && (x.size(0) == 1 || x.size(0) == 3) && x.size(1) > 0 && x.size(2) > 0 &&
                  x.size(1) <= 65535 && x.size(2) <= 65535,
              who, ": pixels must be [C, H, W] with C = 1 or 3 and sides 1..65535, or [H, W]; got ",
              pixels.sizes());
  TORCH_CHECK(torch::isfinite(x).all().item<bool>(), who, ": pixels hold NaN or infinity");
  const torch::Tensor levels =
      x.clamp(0.0, 1.0).mul(255.0).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  Bytes8 b;
  b.channels = x.size(0);
  b.height = x.size(1);
  b.width = x.size(2);
  b.data.assign(levels.data_ptr<uint8_t>(), levels.data_ptr<uint8_t>() + levels.numel());
  return b;
}

std::string lower_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// ---- JPEG: libjpeg reports errors by longjmp (see image_io.cpp for the discipline) ----

struct JpegWriter {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {0};
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  ~JpegWriter() {
    jpeg_destroy_compress(&cinfo);
    std::free(out);
  }
};

void jpeg_write_error(j_common_ptr c) {
  auto* w = reinterpret_cast<JpegWriter*>(c->client_data);
  (*c->err->format_message)(c, w->message);
  std::longjmp(w->jump, 1);
}

void jpeg_silent(j_common_ptr, int) {}

bool jpeg_encode(JpegWriter* w, const Bytes8* b, int quality) {
  if (setjmp(w->jump)) return false;
  jpeg_create_compress(&w->cinfo);
  jpeg_mem_dest(&w->cinfo, &w->out, &w->out_size);
  w->cinfo.image_width = static_cast<JDIMENSION>(b->width);
  w->cinfo.image_height = static_cast<JDIMENSION>(b->height);
  w->cinfo.input_components = static_cast<int>(b->channels);
  w->cinfo.in_color_space = b->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&w->cinfo);
  jpeg_set_quality(&w->cinfo, quality, TRUE);
  jpeg_start_compress(&w->cinfo, TRUE);
  const size_t row_bytes = static_cast<size_t>(b->width * b->channels);
  while (w->cinfo.next_scanline < w->cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(b->data.data() + w->cinfo.next_scanline * row_bytes);
    jpeg_write_scanlines(&w->cinfo, &row, 1);
  }
  jpeg_finish_compress(&w->cinfo);
  return true;
}

// ---- TIFF: little-endian baseline, written by hand (a header, one strip, one IFD) ----

void put16(std::string& s, uint16_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>(v >> 8);
}
void put32(std::string& s, uint32_t v) {
  for (int k = 0; k < 4; ++k) s += static_cast<char>((v >> (8 * k)) & 0xff);
}

}  // namespace

std::string encode_jpeg(const torch::Tensor& pixels, int quality) {
  TORCH_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be 1..100, got ", quality);
  const Bytes8 b = to_bytes(pixels, "encode_jpeg");
  JpegWriter w;
  w.cinfo.err = jpeg_std_error(&w.err);
  w.err.error_exit = jpeg_write_error;
  w.err.emit_message = jpeg_silent;
  w.cinfo.client_data = &w;
  if (!jpeg_encode(&w, &b, quality)) throw UserError(std::string("JPEG encoding failed (") + w.message + ")");
  return std::string(reinterpret_cast<const char*>(w.out), w.out_size);
}

void write_jpeg(const std::filesystem::path& path, const torch::Tensor& pixels, int quality) {
  std::string bytes;
  try {
    bytes = encode_jpeg(pixels, quality);
  } catch (const UserError& e) {
    throw UserError("cannot write " + path.string() + ": " + e.what());
  }
  write_file_atomic(path, bytes);
}

void write_tiff(const std::filesystem::path& path, const torch::Tensor& pixels) {
  const Bytes8 b = to_bytes(pixels, "write_tiff");
  const uint32_t strip_bytes = static_cast<uint32_t>(b.data.size());
  const uint32_t strip_at = 8;
  const uint32_t bps_at = strip_at + strip_bytes + (strip_bytes & 1);  // 3 SHORTs for RGB, word aligned
  const uint32_t ifd_at = bps_at + (b.channels == 3 ? 6 : 0) + (b.channels == 3 ? 2 : 0);
  std::string s = "II";
  put16(s, 42);
  put32(s, ifd_at);
  s.append(reinterpret_cast<const char*>(b.data.data()), b.data.size());
  s.resize(bps_at, '\0');
  if (b.channels == 3) {
    for (int k = 0; k < 3; ++k) put16(s, 8);
    put16(s, 0);
  }
  enum : uint16_t { kShort = 3, kLong = 4 };
  struct Entry {
    uint16_t tag, type;
    uint32_t count, value;
  };
  const bool rgb = b.channels == 3;
  const std::vector<Entry> entries = {
      {256, kLong, 1, static_cast<uint32_t>(b.width)},      // ImageWidth
      {257, kLong, 1, static_cast<uint32_t>(b.height)},     // ImageLength
      {258, kShort, rgb ? 3u : 1u, rgb ? bps_at : 8u},      // BitsPerSample
      {259, kShort, 1, 1},                                  // Compression: none
      {262, kShort, 1, rgb ? 2u : 1u},                      // Photometric: RGB / BlackIsZero
      {273, kLong, 1, strip_at},                            // StripOffsets
      {277, kShort, 1, static_cast<uint32_t>(b.channels)},  // SamplesPerPixel
      {278, kLong, 1, static_cast<uint32_t>(b.height)},     // RowsPerStrip
      {279, kLong, 1, strip_bytes},                         // StripByteCounts
      {284, kShort, 1, 1},                                  // PlanarConfiguration: chunky
  };
  put16(s, static_cast<uint16_t>(entries.size()));
  for (const auto& e : entries) {
    put16(s, e.tag);
    put16(s, e.type);
    put32(s, e.count);
    if (e.type == kShort && e.count == 1) {  // a SHORT sits in the first two bytes of the value field
      put16(s, static_cast<uint16_t>(e.value));
      put16(s, 0);
    } else {
      put32(s, e.value);
    }
  }
  put32(s, 0);  // no next IFD
  write_file_atomic(path, s);
}

void write_pnm(const std::filesystem::path& path, const torch::Tensor& pixels) {
  Bytes8 b = to_bytes(pixels, "write_pnm");
  const bool ppm = b.channels == 3 || lower_extension(path) == ".ppm";
  std::string s = std::string(ppm ? "P6" : "P5") + "\n" + std::to_string(b.width) + " " +
                  std::to_string(b.height) + "\n255\n";
  if (ppm && b.channels == 1) {
    for (uint8_t v : b.data) s.append(3, static_cast<char>(v));
  } else {
    s.append(reinterpret_cast<const char*>(b.data.data()), b.data.size());
  }
  write_file_atomic(path, s);
}

void write_image(const std::filesystem::path& path, const torch::Tensor& pixels) {
  const std::string ext = lower_extension(path);
  if (ext == ".png") return write_png(path, pixels, 8);
  if (ext == ".jpg" || ext == ".jpeg") return write_jpeg(path, pixels);
  if (ext == ".tif" || ext == ".tiff") return write_tiff(path, pixels);
  if (ext == ".ppm" || ext == ".pgm" || ext == ".pnm") return write_pnm(path, pixels);
  throw UserError("cannot write " + path.string() + ": unknown image extension '" + ext +
                  "' (valid: .png, .jpg, .jpeg, .tif, .tiff, .ppm, .pgm, .pnm)");
}

}  // namespace vg
