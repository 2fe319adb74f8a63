// fuzz_seed_corpus OUT: writes the fuzz targets' seed corpus (fuzz_targets.h) into OUT/<target>/, made at
// run time by the project's writers (write_png, encode_jpeg, write_tiff, write_pnm) and the formats' own
// libraries for the variants those do not write (palette, low-bit, interlaced, progressive, CMYK, LZW,
// tiled, planar, GIF), plus damaged files (halves, absurd sizes); and for each config target its presets'
// JSON and OUT/<target>.dict, a libFuzzer dictionary of the keys and string values they hold.
// clang-format off
#include <stdio.h>
#include <jpeglib.h>
// clang-format on
#include <gif_lib.h>
#include <png.h>
#include <tiffio.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "vesselgan/core/files.h"
#include "vesselgan/gan/gan_options.h"
#include "vesselgan/io/image_codec.h"
#include "vesselgan/io/image_writers.h"
#include "vesselgan/pipeline/pipeline_config.h"
#include "vesselgan/seg/train_options.h"

namespace fs = std::filesystem;

namespace {

void put(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A deterministic test card: value of channel c at (x, y) in 0..max.
int level(int x, int y, int c, int max) { return (x * 37 + y * 101 + c * 53 + x * y * 7) % (max + 1); }

torch::Tensor card(int64_t c, int64_t h, int64_t w) {
  torch::Tensor t = torch::empty({c, h, w});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) t[k][y][x] = level(int(x), int(y), int(k), 255) / 255.0f;
  return t;
}

// ------------------------------------------------------------------------------------------------ PNG

// Through libpng: rows packed as the PNG stores them (depth < 8 packed, 16-bit big-endian).
std::string png_bytes(int w, int h, int depth, int color, bool interlace) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) throw std::runtime_error("libpng failed writing a seed");
  png_set_write_fn(
      png, &out, [](png_structp p, png_bytep d, png_size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<const char*>(d), n);
      },
      nullptr);
  png_set_IHDR(png, info, w, h, depth, color, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE) {
    std::vector<png_color> palette;
    for (int i = 0; i < (1 << depth); ++i) palette.push_back({uint8_t(i * 40), uint8_t(255 - i * 30), uint8_t(i * 9)});
    png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
    const png_byte alpha[2] = {0, 128};
    png_set_tRNS(png, info, alpha, 2, nullptr);
  }
  png_write_info(png, info);
  const int channels = png_get_channels(png, info);
  const size_t row_bytes = (size_t(w) * channels * depth + 7) / 8;
  std::vector<uint8_t> rows(row_bytes * h);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = uint8_t(level(int(i % row_bytes), int(i / row_bytes), 0, 255));
  std::vector<png_bytep> ptrs;
  for (int y = 0; y < h; ++y) ptrs.push_back(rows.data() + y * row_bytes);
  png_write_image(png, ptrs.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

// A PNG signature and IHDR with a valid CRC claiming w x h, then nothing.
std::string png_header_only(uint32_t w, uint32_t h) {
  std::string chunk = "IHDR";
  for (uint32_t v : {w, h}) {
    for (int s = 24; s >= 0; s -= 8) chunk += char((v >> s) & 0xff);
  }
  chunk += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(chunk.data()), uInt(chunk.size()));
  std::string out("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", 12);
  out += chunk;
  for (int s = 24; s >= 0; s -= 8) out += char((crc >> s) & 0xff);
  return out;
}

// ----------------------------------------------------------------------------------------------- JPEG

std::string jpeg_bytes(int w, int h, int components, bool progressive, bool arithmetic, int restart_rows) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &out, &size);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 4 ? JCS_CMYK : components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 75, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  cinfo.arith_code = arithmetic ? TRUE : FALSE;
  cinfo.restart_in_rows = restart_rows;
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(size_t(w) * components);
  while (cinfo.next_scanline < cinfo.image_height) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = uint8_t(level(int(i), int(cinfo.next_scanline), 0, 255));
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::string bytes(reinterpret_cast<const char*>(out), size);
  jpeg_destroy_compress(&cinfo);
  std::free(out);
  return bytes;
}

// The same JPEG with its frame header (SOF0) claiming w x h.
std::string jpeg_with_size(std::string bytes, uint16_t w, uint16_t h) {
  const size_t sof = bytes.find("\xff\xc0", 2);
  if (sof == std::string::npos || sof + 9 > bytes.size()) throw std::runtime_error("no SOF0 in the JPEG seed");
  bytes[sof + 5] = char(h >> 8), bytes[sof + 6] = char(h & 0xff);
  bytes[sof + 7] = char(w >> 8), bytes[sof + 8] = char(w & 0xff);
  return bytes;
}

// ----------------------------------------------------------------------------------------------- TIFF

struct TiffSeed {
  int w = 12, h = 9, bps = 8, spp = 1;
  uint16_t photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
  bool planar = false, tiled = false;
  const char* mode = "w";  // "wb": big-endian, "w8": BigTIFF
};

void write_tiff_seed(const fs::path& path, const TiffSeed& s) {
  fs::create_directories(path.parent_path());
  TIFF* tif = TIFFOpen(path.c_str(), s.mode);
  if (tif == nullptr) throw std::runtime_error("libtiff cannot write " + path.string());
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(s.w));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(s.h));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(s.bps));
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(s.spp));
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s.photometric);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, s.compression);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, s.planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
  if (s.photometric == PHOTOMETRIC_PALETTE) {
    std::vector<uint16_t> r(1 << s.bps), g(r.size()), b(r.size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = uint16_t(i * 257), g[i] = uint16_t(65535 - i * 200), b[i] = 0;
    TIFFSetField(tif, TIFFTAG_COLORMAP, r.data(), g.data(), b.data());
  }
  const int planes = s.planar ? s.spp : 1, step = s.planar ? 1 : s.spp;
  const size_t row_bytes = (size_t(s.w) * step * s.bps + 7) / 8;
  auto fill = [&](std::vector<uint8_t>& buf, int y0, int p) {
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = uint8_t(level(int(i % row_bytes), y0 + int(i / row_bytes), p, 255));
  };
  if (s.tiled) {
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, uint32_t(16));
    TIFFSetField(tif, TIFFTAG_TILELENGTH, uint32_t(16));
    std::vector<uint8_t> buf(static_cast<size_t>(TIFFTileSize(tif)));
    for (int p = 0; p < planes; ++p)
      for (int ty = 0; ty < s.h; ty += 16)
        for (int tx = 0; tx < s.w; tx += 16) {
          fill(buf, ty, p);
          TIFFWriteTile(tif, buf.data(), tx, ty, 0, uint16_t(p));
        }
  } else {
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, uint32_t(4));
    std::vector<uint8_t> buf(row_bytes);
    for (int p = 0; p < planes; ++p)
      for (int y = 0; y < s.h; ++y) {
        fill(buf, y, p);
        TIFFWriteScanline(tif, buf.data(), y, uint16_t(p));
      }
  }
  TIFFClose(tif);
}

// A little-endian TIFF whose one IFD claims w x h 8-bit gray pixels in a one-byte strip.
std::string tiff_header_only(uint32_t w, uint32_t h) {
  std::string out("II*\0\x08\0\0\0", 8);
  auto u16 = [&out](uint16_t v) { out += char(v & 0xff), out += char(v >> 8); };
  auto u32 = [&out](uint32_t v) {
    for (int s = 0; s < 32; s += 8) out += char((v >> s) & 0xff);
  };
  const std::vector<std::pair<uint16_t, uint32_t>> tags = {
      {256, w}, {257, h}, {258, 8}, {259, 1}, {262, 1}, {273, 8 + 2 + 8 * 12 + 4}, {278, h}, {279, 1}};
  u16(uint16_t(tags.size()));
  for (const auto& [tag, value] : tags) {
    u16(tag);
    u16(tag == 258 || tag == 259 || tag == 262 ? 3 : 4);  // SHORT or LONG
    u32(1);
    u32(value);
  }
  u32(0);  // no next IFD
  out += '\x80';
  return out;
}

// ------------------------------------------------------------------------------------------------ GIF

struct GifSeed {
  int screen_w = 12, screen_h = 9, left = 0, top = 0, w = 12, h = 9, colors = 4;
  bool interlace = false, local_map = false, gray = false, extension = false;
};

void write_gif_seed(const fs::path& path, const GifSeed& s) {
  fs::create_directories(path.parent_path());
  int err = 0;
  GifFileType* gif = EGifOpenFileName(path.c_str(), false, &err);
  if (gif == nullptr) throw std::runtime_error("giflib cannot write " + path.string());
  std::vector<GifColorType> colors(s.colors);
  for (int i = 0; i < s.colors; ++i) {
    const uint8_t v = uint8_t(i * 255 / (s.colors - 1));
    colors[i] = s.gray ? GifColorType{v, v, v} : GifColorType{v, uint8_t(255 - v), uint8_t(i * 17)};
  }
  ColorMapObject* map = GifMakeMapObject(s.colors, colors.data());
  EGifPutScreenDesc(gif, s.screen_w, s.screen_h, 8, 1, map);
  if (s.extension) {
    const GifByteType control[4] = {0x01, 10, 0, 2};  // transparent colour 2
    EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, control);
  }
  EGifPutImageDesc(gif, s.left, s.top, s.w, s.h, s.interlace, s.local_map ? map : nullptr);
  std::vector<GifPixelType> line(s.w);
  for (int y = 0; y < s.h; ++y) {
    for (int x = 0; x < s.w; ++x) line[x] = GifPixelType(level(x, y, 0, s.colors - 1));
    EGifPutLine(gif, line.data(), s.w);
  }
  EGifCloseFile(gif, &err);
  GifFreeMapObject(map);
}

// A GIF89a whose screen and only frame are 0 x 0.
std::string gif_zero_size() {
  return std::string("GIF89a\0\0\0\0\x80\0\0" "\0\0\0\xff\xff\xff" ",\0\0\0\0\0\0\0\0\0" "\x02\x02\x44\x01\0;", 35);
}

// ---------------------------------------------------------------------------------------------- seeds

void image_seeds(const fs::path& out) {
  // PNG: the project's writer, then libpng for what it does not write.
  vg::write_png(out / "png/gray8.png", card(1, 9, 12));
  vg::write_png(out / "png/rgb8.png", card(3, 9, 12));
  vg::write_png(out / "png/gray16.png", card(1, 5, 7), 16);
  vg::write_png(out / "png/rgb16.png", card(3, 5, 7), 16);
  put(out / "png/palette2.png", png_bytes(12, 9, 2, PNG_COLOR_TYPE_PALETTE, false));
  put(out / "png/palette8-interlaced.png", png_bytes(12, 9, 8, PNG_COLOR_TYPE_PALETTE, true));
  put(out / "png/gray1.png", png_bytes(17, 5, 1, PNG_COLOR_TYPE_GRAY, false));
  put(out / "png/gray4-interlaced.png", png_bytes(12, 9, 4, PNG_COLOR_TYPE_GRAY, true));
  put(out / "png/gray-alpha8.png", png_bytes(12, 9, 8, PNG_COLOR_TYPE_GRAY_ALPHA, false));
  put(out / "png/rgba16-interlaced.png", png_bytes(6, 5, 16, PNG_COLOR_TYPE_RGB_ALPHA, true));
  put(out / "png/tricky-huge-ihdr.png", png_header_only(1000000, 1000000));

  // JPEG: the project's encoder (baseline, 4:2:0), then libjpeg's other modes.
  put(out / "jpeg/gray.jpg", vg::encode_jpeg(card(1, 9, 12), 50));
  put(out / "jpeg/rgb.jpg", vg::encode_jpeg(card(3, 9, 12), 90));
  put(out / "jpeg/progressive.jpg", jpeg_bytes(12, 9, 3, true, false, 0));
  put(out / "jpeg/arithmetic.jpg", jpeg_bytes(12, 9, 3, false, true, 0));
  put(out / "jpeg/restart-gray.jpg", jpeg_bytes(20, 17, 1, false, false, 1));
  put(out / "jpeg/cmyk.jpg", jpeg_bytes(8, 8, 4, false, false, 0));
  put(out / "jpeg/tricky-huge-sof.jpg", jpeg_with_size(jpeg_bytes(8, 8, 1, false, false, 0), 65535, 65535));

  // TIFF: the project's writer (baseline, uncompressed), then libtiff's variants.
  vg::write_tiff(out / "tiff/gray.tif", card(1, 9, 12));
  vg::write_tiff(out / "tiff/rgb.tif", card(3, 9, 12));
  TiffSeed s;
  s.spp = 3, s.photometric = PHOTOMETRIC_RGB, s.compression = COMPRESSION_LZW;
  write_tiff_seed(out / "tiff/rgb-lzw.tif", s);
  s.planar = true, s.compression = COMPRESSION_PACKBITS, s.mode = "wb";
  write_tiff_seed(out / "tiff/rgb-planar-packbits-be.tif", s);
  s = TiffSeed{};
  s.bps = 16, s.compression = COMPRESSION_ADOBE_DEFLATE;
  write_tiff_seed(out / "tiff/gray16-deflate.tif", s);
  s = TiffSeed{};
  s.tiled = true, s.w = 20, s.h = 18, s.compression = COMPRESSION_LZW, s.mode = "w8";
  write_tiff_seed(out / "tiff/gray-tiled-bigtiff.tif", s);
  s = TiffSeed{};
  s.photometric = PHOTOMETRIC_PALETTE, s.bps = 4;
  write_tiff_seed(out / "tiff/palette4.tif", s);
  s = TiffSeed{};
  s.photometric = PHOTOMETRIC_MINISWHITE, s.bps = 1, s.w = 19;
  write_tiff_seed(out / "tiff/bilevel-miniswhite.tif", s);
  put(out / "tiff/tricky-absurd-size.tif", tiff_header_only(0xfffffff0u, 0xfffffff0u));

  // GIF: giflib (the project writes none).
  GifSeed g;
  write_gif_seed(out / "gif/plain.gif", g);
  g.gray = true, g.interlace = true, g.colors = 16, g.h = 17, g.screen_h = 17;
  write_gif_seed(out / "gif/gray-interlaced.gif", g);
  g = GifSeed{};
  g.screen_w = 16, g.screen_h = 12, g.left = 3, g.top = 2, g.w = 9, g.h = 7, g.local_map = true, g.extension = true;
  write_gif_seed(out / "gif/offset-frame-local-map.gif", g);
  put(out / "gif/tricky-zero-size.gif", gif_zero_size());

  // PBM/PGM/PPM: the project's writer, and the ASCII, bitmap and 16-bit kinds by hand.
  vg::write_pnm(out / "pnm/gray.pgm", card(1, 9, 12));
  vg::write_pnm(out / "pnm/rgb.ppm", card(3, 9, 12));
  put(out / "pnm/ascii-bits.pbm", "P1\n# a comment\n3 2\n1 0 1\n010\n");
  put(out / "pnm/ascii-gray.pgm", "P2 3 2 1000 0 1 2 300 999 1000\n");
  put(out / "pnm/ascii-rgb.ppm", "P3\n2 1\n255\n255 0 0  0 0 255\n");
  put(out / "pnm/bits.pbm", std::string("P4\n9 2\n\xa5\x80\x5a\x00", 11));
  put(out / "pnm/gray16.pgm", std::string("P5 2 2 65535\n\x00\x01\xff\xff\x80\x00\x12\x34", 21));
  put(out / "pnm/tricky-huge.pgm", "P5 100000 100000 255\n\x01\x02");

  // Damaged: each format's first decoded seed cut in half (the decoders' truncation paths).
  for (const char* name : {"png/rgb8.png", "jpeg/rgb.jpg", "tiff/rgb-lzw.tif", "gif/plain.gif", "pnm/rgb.ppm"}) {
    const std::string bytes = vg::read_file(out / name);
    const fs::path p = out / name;
    put(p.parent_path() / ("tricky-truncated-" + p.filename().string()), bytes.substr(0, bytes.size() / 2));
  }
}

// Every object key and string value in `j`, for the dictionary.
void collect_words(const nlohmann::json& j, std::set<std::string>& words) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      words.insert(it.key());
      collect_words(it.value(), words);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collect_words(v, words);
  } else if (j.is_string() && !j.get<std::string>().empty()) {  // libFuzzer refuses an empty entry
    words.insert(j.get<std::string>());
  }
}

template <class Options>
void config_seeds(const fs::path& out, const std::string& target, const std::vector<std::string>& presets,
                  const std::function<Options(const std::string&)>& preset, const char* section) {
  std::set<std::string> words;
  for (const auto& name : presets) {
    const nlohmann::json j = preset(name);
    put(out / target / (name + ".json"), j.dump(2) + "\n");
    collect_words(j, words);
  }
  put(out / target / "empty.json", "{}\n");
  if (section != nullptr) {
    put(out / target / "section.json", nlohmann::json{{section, {{"seed", 7}}}}.dump() + "\n");
  }
  std::string dict;
  for (const auto& w : words) dict += nlohmann::json(w).dump() + "\n";  // "key": a JSON string is a valid entry
  put(out / (target + ".dict"), dict);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_corpus OUT_DIR\n";
    return 1;
  }
  const fs::path out(argv[1]);
  try {
    image_seeds(out);
    config_seeds<vg::TrainOptions>(out, "train_options", vg::train_preset_names(), vg::train_preset, "train");
    config_seeds<vg::GanTrainOptions>(out, "gan_options", vg::gan_preset_names(), vg::gan_preset, "gan");
    config_seeds<vg::PipelineConfig>(out, "pipeline_config", vg::pipeline_preset_names(), vg::pipeline_preset,
                                     nullptr);
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seed_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
