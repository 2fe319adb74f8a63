// The public data sets as distributed (CHASE_DB1, STARE, HRF) and plain folders of photographs, laid out by
// the phantom generator in each set's own file names and formats.
#include <fstream>
#include <string>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/data/fov.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/io/image_writers.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using test::user_error;
using test::contains;
using test::ScratchDir;

std::vector<std::string> ids_of(const DatasetFiles& d) {
  std::vector<std::string> ids;
  for (const auto& s : d.samples) ids.push_back(s.id);
  return ids;
}

PhantomOptions small(int64_t size) {
  PhantomOptions o;
  o.size = size;
  return o;
}

// ------------------------------------------------------------------------------------------- writers

TEST(ImageWriters, TiffAndPnmRoundTripExactlyAndJpegClosely) {
  ScratchDir dir("layouts_writers");
  torch::manual_seed(3);
  const auto rgb = torch::randint(0, 256, {3, 7, 9}).to(torch::kFloat) / 255;
  const auto gray = torch::randint(0, 256, {1, 7, 9}).to(torch::kFloat) / 255;
  for (const char* name : {"a.tif", "a.ppm"}) {
    write_image(dir.path() / name, rgb);
    const Image back = read_image(dir.path() / name);
    EXPECT_TRUE(torch::equal(back.pixels, rgb)) << name;
  }
  write_image(dir.path() / "g.tiff", gray);
  EXPECT_TRUE(torch::equal(read_image(dir.path() / "g.tiff").pixels, gray));
  write_image(dir.path() / "g.pgm", gray);
  EXPECT_TRUE(torch::equal(read_image(dir.path() / "g.pgm").pixels, gray));
  write_image(dir.path() / "g.ppm", gray);  // a .ppm is always P6: gray repeated
  EXPECT_TRUE(torch::equal(read_image(dir.path() / "g.ppm").pixels, gray.repeat({3, 1, 1})));
  // A smooth image survives JPEG at quality 95 within a few levels.
  const auto ramp = torch::linspace(0.1, 0.9, 32).view({1, 1, 32}).expand({3, 24, 32}).contiguous();
  write_image(dir.path() / "r.JPG", ramp);
  const auto j = read_image(dir.path() / "r.JPG").pixels;
  ASSERT_EQ(j.sizes(), ramp.sizes());
  EXPECT_LT((j - ramp).abs().max().item<float>(), 4.0f / 255);
  const std::string msg = user_error([&] { write_image(dir.path() / "x.bmp", rgb); });
  EXPECT_TRUE(contains(msg, "x.bmp")) << msg;
}

// ------------------------------------------------------------------------------------------ CHASE_DB1

TEST(DatasetLayouts, ChaseReadsAsDistributedWithTheStandardSplit) {
  ScratchDir dir("layouts_chase");
  const auto r = dir.path();
  write_phantom_layout(r, "chase", 28, small(48), 5);
  ASSERT_TRUE(fs::exists(r / "Image_14R.jpg"));
  const DatasetFiles train = find_dataset(r, "train");
  EXPECT_EQ(train.layout, "chase");
  const auto ids = phantom_layout_ids("chase", 28);
  EXPECT_EQ(ids_of(train), std::vector<std::string>(ids.begin(), ids.begin() + 20));
  const DatasetFiles test = find_dataset(r, "test");
  EXPECT_EQ(ids_of(test), std::vector<std::string>(ids.begin() + 20, ids.end()));
  EXPECT_EQ(test.samples.front().id, "Image_11L");
  EXPECT_EQ(find_dataset(r, "all", "chase").samples.size(), 28u);
  EXPECT_TRUE(contains(test.annotation, "1stHO"));
  for (const auto& s : test.samples) {
    EXPECT_EQ(s.label, r / (s.id + "_1stHO.png"));
    EXPECT_TRUE(s.mask.empty());
    EXPECT_TRUE(s.estimate_fov);
  }
  // The ground truth is the first observer (the second one draws wider), the FOV is estimated.
  const Sample s = load_sample(test.samples[0]);
  ASSERT_EQ(s.image.sizes(), torch::IntArrayRef({3, 48, 50}));  // 999:960
  const auto second = read_image(r / "Image_11L_2ndHO.png").pixels;
  EXPECT_LT(s.label.sum().item<float>(), second.gt(0.5).sum().item<float>());
  EXPECT_TRUE(s.mask_estimated);
  EXPECT_FALSE(s.has_mask);
  const PhantomSample truth = make_phantom(small(48), phantom_seed(5, 20));
  EXPECT_TRUE(torch::equal(s.label.slice(2, 1, 49), truth.label));  // one black column added left, one right
  EXPECT_GE(mask_dice(s.mask.slice(2, 1, 49), truth.mask), 0.95);
}

TEST(DatasetLayouts, SplitsOfIncompleteSetsKeepTheStandardProportions) {
  ScratchDir dir("layouts_counts");
  write_phantom_layout(dir.path() / "chase", "chase", 6, small(32), 1);
  EXPECT_EQ(find_dataset(dir.path() / "chase", "train").samples.size(), 4u);  // round(6 * 20 / 28)
  EXPECT_EQ(find_dataset(dir.path() / "chase", "test").samples.size(), 2u);
  write_phantom_layout(dir.path() / "stare", "stare", 3, small(32), 1);
  EXPECT_EQ(find_dataset(dir.path() / "stare", "train").samples.size(), 2u);  // round(3 / 2), 1 left to test
  EXPECT_EQ(find_dataset(dir.path() / "stare", "test").samples.size(), 1u);
  write_phantom_layout(dir.path() / "hrf", "hrf", 6, small(36), 1);  // 2 per category: 1 train, 1 test
  EXPECT_EQ(ids_of(find_dataset(dir.path() / "hrf", "train")),
            (std::vector<std::string>{"01_dr", "01_g", "01_h"}));
  EXPECT_EQ(ids_of(find_dataset(dir.path() / "hrf", "test")),
            (std::vector<std::string>{"02_dr", "02_g", "02_h"}));
  write_phantom_layout(dir.path() / "one", "chase", 1, small(32), 1);
  const std::string msg = user_error([&] { find_dataset(dir.path() / "one", "test"); });
  EXPECT_TRUE(contains(msg, "holds no images (try --split all)")) << msg;
}

// ---------------------------------------------------------------------------------------------- STARE

TEST(DatasetLayouts, StareReadsAsDistributedWithTheStandardSplit) {
  ScratchDir dir("layouts_stare");
  const auto r = dir.path();
  write_phantom_layout(r, "stare", 20, small(40), 9);
  // The full download has unlabelled photographs too: they are not part of the labelled data set.
  fs::copy_file(r / "stare-images" / "im0001.ppm", r / "stare-images" / "im0400.ppm");
  const DatasetFiles train = find_dataset(r, "train"), test = find_dataset(r, "test", "stare");
  EXPECT_EQ(train.layout, "stare");
  EXPECT_EQ(ids_of(train), (std::vector<std::string>{"im0001", "im0002", "im0003", "im0004", "im0005",
                                                     "im0044", "im0077", "im0081", "im0082", "im0139"}));
  ASSERT_EQ(test.samples.size(), 10u);
  EXPECT_EQ(test.samples.back().id, "im0324");
  EXPECT_EQ(test.samples[0].label, r / "labels-ah" / "im0162.ah.ppm");
  EXPECT_TRUE(contains(test.annotation, "labels-ah"));
  EXPECT_EQ(find_dataset(r, "all").samples.size(), 20u);
  const Sample s = load_sample(test.samples[0]);
  ASSERT_EQ(s.image.sizes(), torch::IntArrayRef({3, 35, 40}));  // 700:605, FOV clipped top and bottom
  EXPECT_TRUE(s.mask_estimated);
  const PhantomSample truth = make_phantom(small(40), phantom_seed(9, 10));
  EXPECT_TRUE(torch::equal(s.label, truth.label.slice(1, 2, 37)));
  EXPECT_GE(mask_dice(s.mask, truth.mask.slice(1, 2, 37)), 0.95);

  // STARE is served gzipped: say so instead of "no photographs".
  ScratchDir gz("layouts_stare_gz");
  fs::create_directories(gz.path() / "stare-images");
  std::ofstream(gz.path() / "stare-images" / "im0001.ppm.gz") << "x";
  const std::string msg = user_error([&] { find_dataset(gz.path(), "test"); });
  EXPECT_TRUE(contains(msg, "gzip")) << msg;
  EXPECT_TRUE(contains(msg, "im0001.ppm.gz")) << msg;
}

// ------------------------------------------------------------------------------------------------ HRF

TEST(DatasetLayouts, HrfReadsAsDistributedWithMasksAndTheStandardSplit) {
  ScratchDir dir("layouts_hrf");
  const auto r = dir.path();
  write_phantom_layout(r, "hrf", 45, small(36), 4);
  ASSERT_TRUE(fs::exists(r / "images" / "01_dr.JPG"));
  const DatasetFiles train = find_dataset(r, "train"), test = find_dataset(r, "test");
  EXPECT_EQ(train.layout, "hrf");
  ASSERT_EQ(train.samples.size(), 15u);
  ASSERT_EQ(test.samples.size(), 30u);
  for (const auto& s : train.samples) EXPECT_LE(std::stoi(s.id.substr(0, 2)), 5) << s.id;
  for (const auto& s : test.samples) EXPECT_GE(std::stoi(s.id.substr(0, 2)), 6) << s.id;
  EXPECT_EQ(test.samples[0].id, "06_dr");
  EXPECT_EQ(test.samples[0].label, r / "manual1" / "06_dr.tif");
  EXPECT_EQ(test.samples[0].mask, r / "mask" / "06_dr_mask.tif");
  EXPECT_EQ(test.annotation, "manual1");
  const Sample s = load_sample(test.samples[0]);
  ASSERT_EQ(s.image.sizes(), torch::IntArrayRef({3, 24, 36}));  // 3:2
  EXPECT_TRUE(s.has_mask);
  EXPECT_FALSE(s.mask_estimated);
  const PhantomSample truth = make_phantom(small(36), phantom_seed(4, 16));  // 06_dr is image 15 + 1
  EXPECT_TRUE(torch::equal(s.label, truth.label.slice(1, 6, 30)));
  EXPECT_TRUE(torch::equal(s.mask, truth.mask.slice(1, 6, 30)));
}

// ---------------------------------------------------------------------------------------- photographs

TEST(DatasetLayouts, APlainFolderOfPhotographsIsEveryPhotographWithAnEstimatedFov) {
  ScratchDir dir("layouts_photos");
  const auto r = dir.path();
  write_phantom_layout(r, "photos", 3, small(64), 2);
  const DatasetFiles d = find_dataset(r, "test");
  EXPECT_EQ(d.layout, "photos");
  EXPECT_EQ(d.split, "all");
  EXPECT_EQ(ids_of(d), (std::vector<std::string>{"photo_01", "photo_02", "photo_03"}));
  EXPECT_TRUE(d.annotation.empty());
  const std::vector<Sample> s = load_samples(d, false);
  EXPECT_EQ(s[0].image.sizes(), torch::IntArrayRef({3, 64, 85}));
  EXPECT_EQ(s[1].image.sizes(), torch::IntArrayRef({3, 96, 128}));
  EXPECT_EQ(s[2].image.sizes(), torch::IntArrayRef({3, 48, 64}));
  for (const auto& x : s) {
    EXPECT_FALSE(x.label.defined());
    EXPECT_TRUE(x.mask_estimated);
    EXPECT_NEAR(fov_diameter(x.mask), 0.92 * x.image.size(1), 0.05 * x.image.size(1));
  }
  const std::string msg = user_error([&] { load_samples(d, true); });
  EXPECT_TRUE(contains(msg, "no label for image")) << msg;
}

TEST(DatasetLayouts, ExplicitLayoutsMustFitTheFolder) {
  ScratchDir dir("layouts_explicit");
  write_phantom_layout(dir.path(), "photos", 1, small(32), 2);
  std::string msg = user_error([&] { find_dataset(dir.path(), "test", "stare"); });
  EXPECT_TRUE(contains(msg, "no STARE data set in " + dir.path().string())) << msg;
  msg = user_error([&] { find_dataset(dir.path(), "test", "hrf"); });
  EXPECT_TRUE(contains(msg, "no HRF data set")) << msg;
  // CHASE_DB1 named explicitly on unlabelled photographs: readable, but one image is all training.
  msg = user_error([&] { find_dataset(dir.path(), "test", "chase"); });
  EXPECT_TRUE(contains(msg, "holds no images (try --split all)")) << msg;
  EXPECT_EQ(find_dataset(dir.path(), "all", "chase").samples.size(), 1u);
  EXPECT_EQ(find_dataset(dir.path(), "all", "chase").annotation, "");
  EXPECT_THROW(write_phantom_layout(dir.path(), "drive", 1, small(32), 2), UserError);
}

// ------------------------------------------------------------------- files other software encoded

// The data sets assembled from files that ImageMagick, netpbm and libtiff's tools encoded in each set's own
// formats (tests/fixtures/formats/, scripts/make_format_fixtures.sh): a comment in STARE's PPM headers, its
// colour PPM labels, CHASE_DB1's 1-bit PNG labels, HRF's progressive JPEG, LZW label and RGB mask TIFFs.
TEST(DatasetLayouts, DataSetsMadeOfOtherSoftwaresFilesLoadWithTheirLabelsAndMasks) {
  ScratchDir dir("layouts_foreign");
  const fs::path formats = fs::path(VG_FIXTURES) / "formats";
  auto place = [&](const std::string& fixture, const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::copy_file(formats / fixture, to);
  };
  const auto photo = read_image(formats / "photo.png").pixels;
  const auto label = read_image(formats / "label.png").pixels;
  const auto mask = read_image(formats / "mask.png").pixels;

  const fs::path stare = dir.path() / "stare", chase = dir.path() / "chase", hrf = dir.path() / "hrf";
  for (const std::string id : {"im0001", "im0002"}) {
    place("stare-photo.ppm", stare / "stare-images" / (id + ".ppm"));
    place("stare-label.ah.ppm", stare / "labels-ah" / (id + ".ah.ppm"));
  }
  for (const std::string id : {"Image_01L", "Image_01R"}) {
    place("chase-photo.jpg", chase / (id + ".jpg"));
    place("chase-label-1bit.png", chase / (id + "_1stHO.png"));
  }
  place("hrf-photo-progressive.jpg", hrf / "images" / "01_h.jpg");
  place("hrf-label-lzw.tif", hrf / "manual1" / "01_h.tif");
  place("hrf-mask-rgb-deflate.tif", hrf / "mask" / "01_h_mask.tif");

  struct Case {
    fs::path root;
    std::string layout, id;
    double max_image_error;  // 0 for a lossless photograph, JPEG's error otherwise
  };
  for (const Case& c : {Case{stare, "stare", "im0001", 0}, Case{chase, "chase", "Image_01L", 0.02},
                        Case{hrf, "hrf", "01_h", 0.02}}) {
    const DatasetFiles d = find_dataset(c.root, "all");
    EXPECT_EQ(d.layout, c.layout);
    ASSERT_FALSE(d.samples.empty()) << c.layout;
    EXPECT_EQ(d.samples.front().id, c.id);
    const Sample s = load_sample(d.samples.front());
    ASSERT_EQ(s.image.sizes(), photo.sizes()) << c.layout;
    EXPECT_LE((s.image - photo).abs().mean().item<double>(), c.max_image_error + 1e-7) << c.layout;
    ASSERT_TRUE(s.label.defined()) << c.layout;
    EXPECT_TRUE(torch::equal(s.label, label)) << c.layout;
    if (c.layout == "hrf") {
      EXPECT_TRUE(torch::equal(s.mask, mask));
    }
  }
}

}  // namespace
}  // namespace vg
