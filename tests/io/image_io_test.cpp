#include "vesselgan/io/image_io.h"

// jpeglib.h needs stdio.h first.
// clang-format off
#include <stdio.h>
#include <jpeglib.h>
// clang-format on
#include <gif_lib.h>
#include <png.h>
#include <tiffio.h>

#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg {
namespace {

using test::contains;

using test::ScratchDir;

// ------------------------------------------------------------------ fixture writers (the libraries' own)

// Low-level libpng writer: `rows` are packed as the PNG stores them (big-endian 16-bit, packed <8-bit).
void write_png_fixture(const fs::path& path, int w, int h, int depth, int color,
                       const std::vector<std::vector<uint8_t>>& rows,
                       const std::vector<png_color>& palette = {}, bool interlace = false,
                       const std::vector<png_byte>& palette_alpha = {}) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    FAIL() << "libpng failed writing the fixture";
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, depth, color, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!palette_alpha.empty()) {  // a tRNS chunk
    png_set_tRNS(png, info, palette_alpha.data(), static_cast<int>(palette_alpha.size()), nullptr);
  }
  png_write_info(png, info);
  std::vector<png_bytep> ptrs;
  for (auto& r : rows) ptrs.push_back(const_cast<png_bytep>(r.data()));
  png_write_image(png, ptrs.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

struct TiffSpec {
  int w = 5, h = 4, bps = 8, spp = 3;
  uint16_t photometric = PHOTOMETRIC_RGB;
  uint16_t compression = COMPRESSION_LZW;
  bool planar = false;
  bool tiled = false;  // 16x16 tiles
};

// Sample value of channel c at (x, y) used by the TIFF fixtures.
uint16_t tiff_value(const TiffSpec& s, int x, int y, int c) {
  const int maxv = (1 << s.bps) - 1;
  return static_cast<uint16_t>((x * 37 + y * 101 + c * 53 + x * y * 7) * (s.bps == 16 ? 251 : 1) %
                               (maxv + 1));
}

void write_tiff_fixture(const fs::path& path, const TiffSpec& s) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(s.w));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(s.h));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(s.bps));
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(s.spp));
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s.photometric);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, s.compression);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, s.planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
  if (s.spp == 4 || s.spp == 2) {
    const uint16_t extra = EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, uint16_t(1), &extra);
  }
  const int bytes = s.bps / 8;
  const int planes = s.planar ? s.spp : 1;
  const int step = s.planar ? 1 : s.spp;
  auto store = [&](std::vector<uint8_t>& buf, size_t index, uint16_t v) {
    if (bytes == 2) {
      std::memcpy(&buf[2 * index], &v, 2);  // libtiff takes native byte order
    } else {
      buf[index] = static_cast<uint8_t>(v);
    }
  };
  if (s.tiled) {
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, uint32_t(16));
    TIFFSetField(tif, TIFFTAG_TILELENGTH, uint32_t(16));
    std::vector<uint8_t> buf(TIFFTileSize(tif));
    for (int p = 0; p < planes; ++p) {
      for (int ty = 0; ty < s.h; ty += 16) {
        for (int tx = 0; tx < s.w; tx += 16) {
          std::fill(buf.begin(), buf.end(), 0);
          for (int y = ty; y < std::min(s.h, ty + 16); ++y) {
            for (int x = tx; x < std::min(s.w, tx + 16); ++x) {
              for (int c = 0; c < step; ++c) {
                store(buf, size_t((y - ty) * 16 + (x - tx)) * step + c,
                      tiff_value(s, x, y, s.planar ? p : c));
              }
            }
          }
          ASSERT_GE(TIFFWriteTile(tif, buf.data(), tx, ty, 0, uint16_t(p)), 0);
        }
      }
    }
  } else {
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, uint32_t(2));
    std::vector<uint8_t> buf(size_t(s.w) * step * bytes);
    for (int p = 0; p < planes; ++p) {
      for (int y = 0; y < s.h; ++y) {
        for (int x = 0; x < s.w; ++x) {
          for (int c = 0; c < step; ++c)
            store(buf, size_t(x) * step + c, tiff_value(s, x, y, s.planar ? p : c));
        }
        ASSERT_EQ(TIFFWriteScanline(tif, buf.data(), y, uint16_t(p)), 1);
      }
    }
  }
  TIFFClose(tif);
}

// The [C, H, W] tensor a TIFF fixture should read back as (alpha dropped, miniswhite inverted).
torch::Tensor tiff_expected(const TiffSpec& s) {
  const int c_out = s.photometric == PHOTOMETRIC_RGB ? 3 : 1;
  const float maxv = static_cast<float>((1 << s.bps) - 1);
  torch::Tensor t = torch::empty({c_out, s.h, s.w});
  for (int c = 0; c < c_out; ++c) {
    for (int y = 0; y < s.h; ++y) {
      for (int x = 0; x < s.w; ++x) {
        float v = static_cast<float>(tiff_value(s, x, y, c));
        if (s.photometric == PHOTOMETRIC_MINISWHITE) v = maxv - v;
        t[c][y][x] = v / maxv;
      }
    }
  }
  return t;
}

// GIF via giflib's encoder; `index` is row-major frame indices.
void write_gif_fixture(const fs::path& path, int screen_w, int screen_h, int bg,
                       const std::vector<GifColorType>& colors, int left, int top, int w, int h,
                       const std::vector<uint8_t>& index, bool interlace = false) {
  int err = 0;
  GifFileType* gif = EGifOpenFileName(path.c_str(), false, &err);
  ASSERT_NE(gif, nullptr);
  int size = 2;
  while (size < static_cast<int>(colors.size())) size *= 2;
  std::vector<GifColorType> padded = colors;
  padded.resize(size, GifColorType{0, 0, 0});
  ColorMapObject* map = GifMakeMapObject(size, padded.data());
  ASSERT_EQ(EGifPutScreenDesc(gif, screen_w, screen_h, 8, bg, map), GIF_OK);
  ASSERT_EQ(EGifPutImageDesc(gif, left, top, w, h, interlace, nullptr), GIF_OK);
  std::vector<int> order;
  if (interlace) {
    const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (int p = 0; p < 4; ++p)
      for (int y = start[p]; y < h; y += step[p]) order.push_back(y);
  } else {
    for (int y = 0; y < h; ++y) order.push_back(y);
  }
  for (int y : order) {
    std::vector<GifPixelType> line(index.begin() + y * w, index.begin() + (y + 1) * w);
    ASSERT_EQ(EGifPutLine(gif, line.data(), w), GIF_OK);
  }
  ASSERT_EQ(EGifCloseFile(gif, &err), GIF_OK);
  GifFreeMapObject(map);
}

// JPEG via libjpeg into memory, quality 100. pixels: interleaved [H, W, components].
std::string encode_jpeg(int w, int h, int components, const std::vector<uint8_t>& pixels) {
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
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(&pixels[size_t(cinfo.next_scanline) * w * components]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::string bytes(reinterpret_cast<const char*>(out), size);
  jpeg_destroy_compress(&cinfo);
  std::free(out);
  return bytes;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Fixed-seed uint8 levels / 255 as [C, H, W] float.
torch::Tensor random_levels(int64_t c, int64_t h, int64_t w, int max_level, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, max_level + 1, {c, h, w}, torch::kInt32).to(torch::kFloat);
}

// Runs read_image and returns the UserError message ("" when it did not throw UserError).
std::string read_error(const fs::path& path) {
  try {
    read_image(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

// ------------------------------------------------------------------------------------------------ PNG

TEST(ImageIo, Png8BitGrayAndRgbRoundTripExactly) {
  ScratchDir dir("image_io_png8");
  for (int64_t c : {1, 3}) {
    const torch::Tensor levels = random_levels(c, 7, 9, 255, 1 + c);
    const auto path = dir.path() / ("x" + std::to_string(c) + ".png");
    write_png(path, levels / 255.0f);
    const Image im = read_image(path);
    EXPECT_EQ(im.bit_depth, 8);
    ASSERT_EQ(im.pixels.sizes(), torch::IntArrayRef({c, 7, 9}));
    EXPECT_EQ(im.pixels.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(im.pixels.mul(255.0f).round(), levels));
    EXPECT_LE((im.pixels - levels / 255.0f).abs().max().item<float>(), 1e-7f);
  }
}

TEST(ImageIo, Png16BitGrayAndRgbRoundTripExactly) {
  ScratchDir dir("image_io_png16");
  for (int64_t c : {1, 3}) {
    const torch::Tensor levels = random_levels(c, 5, 6, 65535, 10 + c);
    const auto path = dir.path() / ("x" + std::to_string(c) + ".png");
    write_png(path, levels.to(torch::kDouble) / 65535.0, 16);
    const Image im = read_image(path);
    EXPECT_EQ(im.bit_depth, 16);
    ASSERT_EQ(im.pixels.sizes(), torch::IntArrayRef({c, 5, 6}));
    EXPECT_TRUE(torch::equal(im.pixels.to(torch::kDouble).mul(65535.0).round().to(torch::kFloat), levels));
  }
}

TEST(ImageIo, WritePngClampsRoundsAcceptsHwAndCreatesFolders) {
  ScratchDir dir("image_io_write");
  const auto path = dir.path() / "a" / "b" / "x.png";
  // [H, W] double: -1 -> 0, 2 -> 255, 0.5 -> 127.5 -> round half to even = 128, 0.3 -> 76.5 -> 76.
  const torch::Tensor x = torch::tensor({{-1.0, 2.0}, {0.5, 0.3}}, torch::kDouble);
  write_png(path, x);
  const Image im = read_image(path);
  ASSERT_EQ(im.pixels.sizes(), torch::IntArrayRef({1, 2, 2}));
  const torch::Tensor got = im.pixels.mul(255.0f).round();
  EXPECT_EQ(got[0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(got[0][0][1].item<float>(), 255.0f);
  EXPECT_NEAR(got[0][1][0].item<float>(), 127.5f, 0.5f);
  EXPECT_NEAR(got[0][1][1].item<float>(), 76.5f, 0.5f);
  int files = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temp file left behind
  // A bool mask writes as 0/255.
  write_png(path, torch::tensor({true, false}).view({1, 1, 2}));
  EXPECT_TRUE(torch::equal(read_image(path).pixels, torch::tensor({1.0f, 0.0f}).view({1, 1, 2})));
}

TEST(ImageIo, WritePngRejectsBadShapesAndDepths) {
  ScratchDir dir("image_io_write_bad");
  EXPECT_THROW(write_png(dir.path() / "x.png", torch::zeros({2, 3, 3})), c10::Error);
  EXPECT_THROW(write_png(dir.path() / "x.png", torch::zeros({1, 3, 3}), 12), c10::Error);
  EXPECT_THROW(write_png(dir.path() / "x.png", torch::full({1, 2, 2}, NAN)), c10::Error);
}

TEST(ImageIo, PngPaletteBecomesGrayOnlyWhenAllUsedEntriesAreGray) {
  ScratchDir dir("image_io_palette");
  // 1-bit palette: entries black and white -> 1 channel.
  write_png_fixture(dir.path() / "bw.png", 3, 2, 1, PNG_COLOR_TYPE_PALETTE, {{0b01000000}, {0b10100000}},
                    {{0, 0, 0}, {255, 255, 255}});
  const Image bw = read_image(dir.path() / "bw.png");
  EXPECT_TRUE(torch::equal(bw.pixels, torch::tensor({0.f, 1.f, 0.f, 1.f, 0.f, 1.f}).view({1, 2, 3})));
  // 4-bit palette with a red entry used -> 3 channels with the palette colours.
  write_png_fixture(dir.path() / "red.png", 2, 1, 4, PNG_COLOR_TYPE_PALETTE, {{0x12}},
                    {{0, 0, 0}, {255, 0, 0}, {51, 51, 51}});
  const Image red = read_image(dir.path() / "red.png");
  ASSERT_EQ(red.pixels.sizes(), torch::IntArrayRef({3, 1, 2}));
  EXPECT_TRUE(torch::equal(red.pixels.mul(255).round(),
                           torch::tensor({255.f, 51.f, 0.f, 51.f, 0.f, 51.f}).view({3, 1, 2})));
}

// A tRNS chunk makes libpng expand a palette to RGBA; the alpha is dropped like any other (fuzz finding:
// the decoder once read those 4-byte pixels as 3 and overran its buffer, tests/fuzz_regressions/png/).
TEST(ImageIo, PngPaletteWithTransparencyDropsTheAlpha) {
  ScratchDir dir("image_io_palette_trns");
  write_png_fixture(dir.path() / "trns.png", 3, 2, 2, PNG_COLOR_TYPE_PALETTE, {{0b00011000}, {0b11100100}},
                    {{10, 20, 30}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}}, false, {0, 128});
  const Image im = read_image(dir.path() / "trns.png");
  ASSERT_EQ(im.pixels.sizes(), torch::IntArrayRef({3, 2, 3}));
  const auto expected = torch::tensor({10.f, 255.f, 0.f, 0.f, 0.f, 255.f,   // R
                                       20.f, 0.f, 255.f, 0.f, 255.f, 0.f,   // G
                                       30.f, 0.f, 0.f, 255.f, 0.f, 0.f})    // B
                            .view({3, 2, 3});
  EXPECT_TRUE(torch::equal(im.pixels.mul(255).round(), expected)) << im.pixels.mul(255).round();
}

TEST(ImageIo, PngLowBitGrayAlphaAndInterlacedDecode) {
  ScratchDir dir("image_io_png_variants");
  // 2-bit gray: levels 0..3 scale to 0, 85, 170, 255.
  write_png_fixture(dir.path() / "g2.png", 4, 1, 2, PNG_COLOR_TYPE_GRAY, {{0b00011011}});
  EXPECT_TRUE(torch::equal(read_image(dir.path() / "g2.png").pixels.mul(255).round(),
                           torch::tensor({0.f, 85.f, 170.f, 255.f}).view({1, 1, 4})));
  // 16-bit gray + alpha: alpha dropped, value kept at 16 bits.
  write_png_fixture(dir.path() / "ga16.png", 1, 1, 16, PNG_COLOR_TYPE_GRAY_ALPHA, {{0x12, 0x34, 0x00, 0x00}});
  const Image ga = read_image(dir.path() / "ga16.png");
  EXPECT_EQ(ga.bit_depth, 16);
  EXPECT_FLOAT_EQ(ga.pixels.item<float>(), 0x1234 / 65535.0f);
  // 8-bit RGBA, Adam7 interlaced: alpha dropped, pixels in place.
  std::vector<std::vector<uint8_t>> rows(9, std::vector<uint8_t>(9 * 4));
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 9; ++x)
      for (int c = 0; c < 4; ++c) rows[y][x * 4 + c] = static_cast<uint8_t>(c == 3 ? 7 : y * 20 + x + c * 3);
  write_png_fixture(dir.path() / "rgba.png", 9, 9, 8, PNG_COLOR_TYPE_RGB_ALPHA, rows, {}, true);
  const Image rgba = read_image(dir.path() / "rgba.png");
  ASSERT_EQ(rgba.pixels.sizes(), torch::IntArrayRef({3, 9, 9}));
  EXPECT_EQ(rgba.pixels[2][8][4].mul(255).round().item<float>(), 8 * 20 + 4 + 6);
}

// ----------------------------------------------------------------------------------------------- TIFF

TEST(ImageIo, TiffVariantsReadLosslessly) {
  ScratchDir dir("image_io_tiff");
  std::vector<TiffSpec> specs(7);
  specs[0] = {};  // 8-bit RGB LZW strips (DRIVE)
  specs[1].bps = 16, specs[1].spp = 1, specs[1].photometric = PHOTOMETRIC_MINISBLACK;  // 16-bit gray LZW
  specs[2].planar = true, specs[2].compression = COMPRESSION_DEFLATE;                  // planar RGB, deflate
  specs[3].spp = 4, specs[3].compression = COMPRESSION_NONE;                           // RGBA, uncompressed
  specs[4].w = 20, specs[4].h = 18, specs[4].bps = 16, specs[4].tiled = true;          // 16-bit RGB tiles
  specs[5].spp = 1, specs[5].photometric = PHOTOMETRIC_MINISWHITE,
  specs[5].compression = COMPRESSION_PACKBITS;
  specs[6].w = 17, specs[6].h = 3, specs[6].spp = 2, specs[6].photometric = PHOTOMETRIC_MINISBLACK,
  specs[6].planar = true, specs[6].tiled = true;  // gray + alpha, planar tiles
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE("TIFF spec " + std::to_string(i));
    const auto path = dir.path() / ("t" + std::to_string(i) + ".tif");
    write_tiff_fixture(path, specs[i]);
    const Image im = read_image(path);
    EXPECT_EQ(im.bit_depth, specs[i].bps);
    const torch::Tensor expected = tiff_expected(specs[i]);
    ASSERT_EQ(im.pixels.sizes(), expected.sizes());
    EXPECT_TRUE(torch::equal(im.pixels, expected));
  }
}

TEST(ImageIo, TiffPaletteGoesThroughTheRgbaPath) {
  ScratchDir dir("image_io_tiff_palette");
  const auto path = dir.path() / "p.tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(2));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(1));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(8));
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(1));
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_PALETTE);
  std::vector<uint16_t> r(256, 0), g(256, 0), b(256, 0);
  r[1] = 65535;  // entry 1: red; entry 2: blue
  b[2] = 65535;
  TIFFSetField(tif, TIFFTAG_COLORMAP, r.data(), g.data(), b.data());
  uint8_t row[2] = {1, 2};
  ASSERT_EQ(TIFFWriteScanline(tif, row, 0, 0), 1);
  TIFFClose(tif);
  const Image im = read_image(path);
  EXPECT_TRUE(torch::equal(im.pixels, torch::tensor({1.f, 0.f, 0.f, 0.f, 0.f, 1.f}).view({3, 1, 2})));
}

// ------------------------------------------------------------------------------------------------ GIF

TEST(ImageIo, GifGrayPaletteReadsAsOneChannel) {
  ScratchDir dir("image_io_gif_gray");
  const auto path = dir.path() / "g.gif";
  std::vector<uint8_t> index = {0, 1, 1, 0, 2, 0};
  write_gif_fixture(path, 3, 2, 0, {{0, 0, 0}, {255, 255, 255}, {128, 128, 128}}, 0, 0, 3, 2, index);
  const Image im = read_image(path);
  EXPECT_EQ(im.bit_depth, 8);
  EXPECT_TRUE(torch::equal(im.pixels.mul(255).round(),
                           torch::tensor({0.f, 255.f, 255.f, 0.f, 128.f, 0.f}).view({1, 2, 3})));
}

TEST(ImageIo, GifColourFrameIsPlacedOnItsScreenOverTheBackground) {
  ScratchDir dir("image_io_gif_colour");
  const auto path = dir.path() / "c.gif";
  // Screen 4x3, background entry 2 (gray 10); a 2x2 frame at (1, 1) using red and green.
  write_gif_fixture(path, 4, 3, 2, {{255, 0, 0}, {0, 255, 0}, {10, 10, 10}}, 1, 1, 2, 2, {0, 1, 1, 0});
  const Image im = read_image(path);
  ASSERT_EQ(im.pixels.sizes(), torch::IntArrayRef({3, 3, 4}));
  const torch::Tensor v = im.pixels.mul(255).round();
  EXPECT_EQ(v[0][0][0].item<float>(), 10.f);   // background
  EXPECT_EQ(v[0][1][1].item<float>(), 255.f);  // red at frame (0, 0)
  EXPECT_EQ(v[1][1][2].item<float>(), 255.f);  // green at frame (1, 0)
  EXPECT_EQ(v[0][1][2].item<float>(), 0.f);
  EXPECT_EQ(v[2][2][3].item<float>(), 10.f);  // background outside the frame
}

TEST(ImageIo, GifInterlacedRowsComeBackInOrder) {
  ScratchDir dir("image_io_gif_interlace");
  const auto path = dir.path() / "i.gif";
  const int w = 2, h = 11;
  std::vector<GifColorType> colors;
  std::vector<uint8_t> index;
  for (int y = 0; y < h; ++y) {
    colors.push_back({uint8_t(y * 20), uint8_t(y * 20), uint8_t(y * 20)});
    index.insert(index.end(), w, uint8_t(y));
  }
  write_gif_fixture(path, w, h, 0, colors, 0, 0, w, h, index, true);
  const torch::Tensor v = read_image(path).pixels.mul(255).round();
  ASSERT_EQ(v.sizes(), torch::IntArrayRef({1, h, w}));
  for (int y = 0; y < h; ++y) EXPECT_EQ(v[0][y][1].item<float>(), float(y * 20)) << "row " << y;
}

// ----------------------------------------------------------------------------------------------- JPEG

TEST(ImageIo, JpegGrayAndRgbDecodeCloseToTheEncodedPixels) {
  ScratchDir dir("image_io_jpeg");
  for (int comps : {1, 3}) {
    const int w = 16, h = 8;
    std::vector<uint8_t> px(size_t(w) * h * comps);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < comps; ++c)
          px[(size_t(y) * w + x) * comps + c] = uint8_t(40 + 8 * x + 4 * y + 30 * c);
    const auto path = dir.path() / ("j" + std::to_string(comps) + ".jpg");
    write_bytes(path, encode_jpeg(w, h, comps, px));
    const Image im = read_image(path);
    ASSERT_EQ(im.pixels.sizes(), torch::IntArrayRef({comps, h, w}));
    const torch::Tensor expected =
        torch::from_blob(px.data(), {h, w, comps}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat) /
        255.0f;
    EXPECT_LE((im.pixels - expected).abs().max().item<float>(), 4.0f / 255.0f);  // quality 100: near-lossless
  }
}

TEST(ImageIo, AdobeCmykJpegConvertsToRgb) {
  ScratchDir dir("image_io_cmyk");
  // libjpeg writes CMYK with an Adobe marker, whose convention stores inverted inks (255 = no ink):
  // left half (255, 0, 0, 255) = full magenta and yellow = red; right half all 255 = white.
  const int w = 16, h = 8;
  std::vector<uint8_t> px(size_t(w) * h * 4, 255);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w / 2; ++x) px[(size_t(y) * w + x) * 4 + 1] = px[(size_t(y) * w + x) * 4 + 2] = 0;
  write_bytes(dir.path() / "cmyk.jpg", encode_jpeg(w, h, 4, px));
  const torch::Tensor v = read_image(dir.path() / "cmyk.jpg").pixels.mul(255);
  ASSERT_EQ(v.sizes(), torch::IntArrayRef({3, h, w}));
  EXPECT_NEAR(v[0][4][2].item<float>(), 255.f, 3.f);
  EXPECT_NEAR(v[1][4][2].item<float>(), 0.f, 3.f);
  EXPECT_NEAR(v[2][4][2].item<float>(), 0.f, 3.f);
  EXPECT_NEAR(v[1][4][13].item<float>(), 255.f, 3.f);
}

// -------------------------------------------------------------------------------------------- PPM/PGM

TEST(ImageIo, NetpbmAsciiAndBinaryVariants) {
  ScratchDir dir("image_io_pnm");
  const auto p = dir.path();
  write_bytes(p / "a.pgm", "P2\n# comment\n3 1\n# another\n10\n0 5 10\n");
  EXPECT_TRUE(torch::equal(read_image(p / "a.pgm").pixels, torch::tensor({0.f, 0.5f, 1.f}).view({1, 1, 3})));
  write_bytes(p / "a.ppm", "P3 1 1 255 255 0 51");
  EXPECT_TRUE(torch::equal(read_image(p / "a.ppm").pixels.mul(255).round(),
                           torch::tensor({255.f, 0.f, 51.f}).view({3, 1, 1})));
  write_bytes(p / "b.pgm", std::string("P5 2 1 255\n\x00\xff", 13));
  EXPECT_TRUE(torch::equal(read_image(p / "b.pgm").pixels, torch::tensor({0.f, 1.f}).view({1, 1, 2})));
  // P6, maxval 65535: 2 bytes per sample, big-endian.
  write_bytes(p / "b.ppm", std::string("P6\n1 1\n65535\n\x12\x34\x00\x00\xff\xff", 20));
  const Image b16 = read_image(p / "b.ppm");
  EXPECT_EQ(b16.bit_depth, 16);
  EXPECT_FLOAT_EQ(b16.pixels[0][0][0].item<float>(), 0x1234 / 65535.0f);
  EXPECT_FLOAT_EQ(b16.pixels[2][0][0].item<float>(), 1.0f);
  // Bitmaps: 1 = black.
  write_bytes(p / "a.pbm", "P1 3 1 101");
  EXPECT_TRUE(torch::equal(read_image(p / "a.pbm").pixels, torch::tensor({0.f, 1.f, 0.f}).view({1, 1, 3})));
  write_bytes(p / "b.pbm", std::string("P4 3 1\n\x40", 8));
  EXPECT_TRUE(torch::equal(read_image(p / "b.pbm").pixels, torch::tensor({1.f, 0.f, 1.f}).view({1, 1, 3})));
  // A sample above maxval is corrupt data.
  write_bytes(p / "bad.pgm", "P2 1 1 10 11");
  EXPECT_TRUE(contains(read_error(p / "bad.pgm"), "exceeds maxval"));
}

// --------------------------------------------------------------------------------------------- errors

TEST(ImageIo, FormatIsDetectedByContentNotExtension) {
  ScratchDir dir("image_io_magic");
  write_png(dir.path() / "x.png", torch::full({1, 2, 2}, 1.0f));
  fs::copy_file(dir.path() / "x.png", dir.path() / "really_png.jpg");
  EXPECT_EQ(read_image(dir.path() / "really_png.jpg").pixels.sizes(), torch::IntArrayRef({1, 2, 2}));
}

TEST(ImageIo, TruncatedFilesOfEveryFormatThrowUserErrorNamingTheFile) {
  ScratchDir dir("image_io_truncated");
  const auto p = dir.path();
  write_png(p / "x.png", random_levels(3, 40, 40, 255, 3) / 255.0f);
  TiffSpec spec;
  spec.w = 40, spec.h = 40;
  write_tiff_fixture(p / "x.tif", spec);
  std::vector<uint8_t> idx(40 * 40);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = uint8_t((i * 7919) % 4);
  write_gif_fixture(p / "x.gif", 40, 40, 0, {{0, 0, 0}, {9, 9, 9}, {80, 0, 0}, {0, 0, 200}}, 0, 0, 40, 40,
                    idx);
  std::vector<uint8_t> px(40 * 40 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 31) % 251);
  write_bytes(p / "x.jpg", encode_jpeg(40, 40, 3, px));
  write_bytes(p / "x.ppm", "P6 40 40 255\n" + std::string(40 * 40 * 3, '\x7f'));
  const std::vector<std::pair<std::string, std::string>> cases = {{"x.png", "truncated PNG data"},
                                                                  {"x.tif", "TIFF data"},
                                                                  {"x.gif", "truncated GIF data"},
                                                                  {"x.jpg", "truncated JPEG data"},
                                                                  {"x.ppm", "truncated PPM/PGM data"}};
  for (const auto& [name, reason] : cases) {
    const std::string bytes = read_file(p / name);
    ASSERT_NO_THROW(read_image(p / name)) << name;
    const auto cut = p / ("cut_" + name);
    write_bytes(cut, bytes.substr(0, bytes.size() / 2));
    const std::string msg = read_error(cut);
    EXPECT_TRUE(contains(msg, cut.string())) << msg;
    EXPECT_TRUE(contains(msg, reason)) << msg;
    EXPECT_TRUE(contains(msg, "expected a PNG, JPEG, TIFF, GIF or PPM/PGM file")) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  write_bytes(p / "sig.png", std::string("\x89PNG", 4));  // shorter than the signature
  EXPECT_TRUE(contains(read_error(p / "sig.png"), "truncated PNG data"));
}

TEST(ImageIo, EmptyMissingFolderAndRandomBytesAreUserErrors) {
  ScratchDir dir("image_io_errors");
  const auto p = dir.path();
  write_bytes(p / "empty.png", "");
  EXPECT_TRUE(contains(read_error(p / "empty.png"), p.string() + "/empty.png: empty file"));
  EXPECT_TRUE(contains(read_error(p / "missing.png"), "missing.png: no such file"));
  EXPECT_TRUE(contains(read_error(p), "is a folder"));
  std::mt19937 rng(42);
  std::string noise(1000, '\0');
  for (auto& ch : noise) ch = static_cast<char>(rng() & 0xff);
  noise[0] = 'Z';  // no format starts with Z
  write_bytes(p / "noise.png", noise);
  const std::string msg = read_error(p / "noise.png");
  EXPECT_TRUE(contains(msg, "noise.png: not an image (unknown format; valid: PNG, JPEG, TIFF, GIF, PPM/PGM)"))
      << msg;
}

// Every reader must survive damaged input: each mutation either decodes or throws UserError, never
// crashes, aborts, prints or throws anything else.
TEST(ImageIo, CorruptedBytesNeverCrashAnyReader) {
  ScratchDir dir("image_io_fuzz");
  const auto p = dir.path();
  write_png(p / "x.png", random_levels(3, 12, 12, 255, 4) / 255.0f);
  TiffSpec spec;
  spec.w = 12, spec.h = 12;
  write_tiff_fixture(p / "x.tif", spec);
  write_gif_fixture(p / "x.gif", 12, 12, 0, {{0, 0, 0}, {255, 0, 0}}, 0, 0, 12, 12,
                    std::vector<uint8_t>(144, 1));
  write_bytes(p / "x.jpg", encode_jpeg(12, 12, 1, std::vector<uint8_t>(144, 90)));
  write_bytes(p / "x.pgm", "P2 3 2 255 1 2 3 4 5 6");
  std::mt19937 rng(7);
  int decoded = 0, rejected = 0;
  for (const std::string name : {"x.png", "x.tif", "x.gif", "x.jpg", "x.pgm"}) {
    const std::string good = read_file(p / name);
    for (int trial = 0; trial < 60; ++trial) {
      std::string bad = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
      if (trial % 3 == 0) bad.resize(rng() % bad.size() + 1);
      const auto path = p / ("bad_" + name);
      write_bytes(path, bad);
      try {
        const Image im = read_image(path);
        ASSERT_EQ(im.pixels.dim(), 3);
        ++decoded;
      } catch (const UserError& e) {
        EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(decoded + rejected, 300);
}

TEST(ImageIo, ImageExtensionsAreRecognisedCaseInsensitively) {
  for (const char* name :
       {"a.png", "a.JPG", "b.jpeg", "c.TiF", "d.tiff", "e.gif", "f.ppm", "g.pgm", "h.pnm"}) {
    EXPECT_TRUE(has_image_extension(name)) << name;
  }
  for (const char* name : {"a.txt", "png", "a.png.bak", "a.json", "README"}) {
    EXPECT_FALSE(has_image_extension(name)) << name;
  }
}

// ---------------------------------------------------------------------------------------------- DRIVE

TEST(ImageIo, ReadsDriveTiffImagesAndGifLabelsAndMasks) {
  VG_REQUIRE_DRIVE(drive);
  const Image image = read_image(drive / "training" / "images" / "21_training.tif");
  ASSERT_EQ(image.pixels.sizes(), torch::IntArrayRef({3, 584, 565}));
  EXPECT_EQ(image.bit_depth, 8);
  EXPECT_GT(image.pixels.max().item<float>(), 0.5f);  // a real photograph, not black
  const Image label = read_image(drive / "training" / "1st_manual" / "21_manual1.gif");
  ASSERT_EQ(label.pixels.sizes(), torch::IntArrayRef({1, 584, 565}));
  const torch::Tensor is_binary = (label.pixels == 0) | (label.pixels == 1);
  EXPECT_TRUE(is_binary.all().item<bool>());
  const int64_t vessels = label.pixels.sum().item<float>();
  EXPECT_GT(vessels, 10000);  // DRIVE vessels cover roughly 12% of the 329,960 pixels
  EXPECT_LT(vessels, 80000);
  const Image mask = read_image(drive / "training" / "mask" / "21_training_mask.gif");
  ASSERT_EQ(mask.pixels.sizes(), torch::IntArrayRef({1, 584, 565}));
  EXPECT_GT(mask.pixels.gt(0.5).sum().item<int64_t>(), 200000);  // the FOV is most of the frame
}

}  // namespace
}  // namespace vg
