// Photographs, labels and masks encoded by other software (ImageMagick 6.9, netpbm and libtiff's tools, by
// scripts/make_format_fixtures.sh into tests/fixtures/formats/), in the variants the public data sets and
// cameras use: the readers must not only read back what the project's own writers wrote.
#include <string>

#include "test_support.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) { return fs::path(VG_FIXTURES) / "formats" / name; }

// The reference photograph as ImageMagick wrote it: an 8-bit RGB PNG, 48 wide and 40 high.
torch::Tensor reference_photo() { return read_image(fixture("photo.png")).pixels; }

double mean_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().mean().item<double>(); }

TEST(ForeignFiles, TheReferencesAreWhatTheScriptDrew) {
  const auto photo = reference_photo();
  ASSERT_EQ(photo.sizes(), (std::vector<int64_t>{3, 40, 48}));
  // Dark vessel lines on a brighter background: the pixels under the label are darker.
  const auto label = read_image(fixture("label.png")).pixels;
  ASSERT_EQ(label.sizes(), (std::vector<int64_t>{1, 40, 48}));
  const auto on = label.gt(0.5).expand({3, -1, -1});
  EXPECT_LT(photo.masked_select(on).mean().item<double>() + 0.15, photo.masked_select(~on).mean().item<double>());
}

TEST(ForeignFiles, LosslessPhotographsDecodeToTheSamePixels) {
  const auto photo = reference_photo();
  for (const char* name : {"stare-photo.ppm",  // a comment line in the header, as XV wrote STARE's files
                           "photo-palette.png", "photo-tiled.tif", "photo-planar.tif"}) {
    const Image im = read_image(fixture(name));
    ASSERT_EQ(im.pixels.sizes(), photo.sizes()) << name;
    EXPECT_TRUE(torch::equal(im.pixels, photo)) << name;
    EXPECT_EQ(im.bit_depth, 8) << name;
  }
  for (const char* name : {"photo-16bit.png", "photo-16bit.tif", "photo-16bit.ppm"}) {  // v * 257 of the 8-bit
    const Image im = read_image(fixture(name));
    ASSERT_EQ(im.pixels.sizes(), photo.sizes()) << name;
    EXPECT_TRUE(torch::allclose(im.pixels, photo, 0, 1e-6)) << name;
    EXPECT_EQ(im.bit_depth, 16) << name;
  }
}

TEST(ForeignFiles, JpegPhotographsDecodeCloseToTheOriginal) {
  const auto photo = reference_photo();
  // Quality 95: a few levels off on average, whether 4:2:0 baseline (CHASE_DB1), progressive or CMYK.
  for (const char* name : {"chase-photo.jpg", "hrf-photo-progressive.jpg", "photo-cmyk.jpg"}) {
    const Image im = read_image(fixture(name));
    ASSERT_EQ(im.pixels.sizes(), photo.sizes()) << name;
    EXPECT_LT(mean_abs_diff(im.pixels, photo), 0.02) << name;
  }
  const Image gray = read_image(fixture("photo-gray.jpg"));
  ASSERT_EQ(gray.pixels.sizes(), (std::vector<int64_t>{1, 40, 48}));
  const auto luma = (photo[0] * 0.299 + photo[1] * 0.587 + photo[2] * 0.114).unsqueeze(0);
  EXPECT_LT(mean_abs_diff(gray.pixels, luma), 0.03);
}

TEST(ForeignFiles, LabelsAndMasksDecodeToTheSameBinaryMaps) {
  const auto label = read_image(fixture("label.png")).pixels;  // 1-bit grayscale PNG
  const auto mask = read_image(fixture("mask.png")).pixels;
  ASSERT_GT(label.sum().item<double>(), 100);
  ASSERT_GT(mask.sum().item<double>(), 1000);
  ASSERT_TRUE(torch::equal(label, label.gt(0.5).to(torch::kFloat)));
  // One channel for gray files; three equal channels for the RGB ones (STARE's labels are colour PPMs).
  for (const char* name : {"chase-label-1bit.png", "hrf-label-lzw.tif", "label-g4.tif", "stare-label.ah.ppm"}) {
    const auto p = read_image(fixture(name)).pixels;
    ASSERT_EQ(p.size(1), 40) << name;
    ASSERT_EQ(p.size(2), 48) << name;
    for (int64_t c = 0; c < p.size(0); ++c) EXPECT_TRUE(torch::equal(p.slice(0, c, c + 1), label)) << name << " channel " << c;
  }
  for (const char* name : {"mask.gif", "hrf-mask-rgb-deflate.tif"}) {
    const auto p = read_image(fixture(name)).pixels;
    ASSERT_EQ(p.size(1), 40) << name;
    for (int64_t c = 0; c < p.size(0); ++c) EXPECT_TRUE(torch::equal(p.slice(0, c, c + 1), mask)) << name << " channel " << c;
  }
}

}  // namespace
}  // namespace vg
