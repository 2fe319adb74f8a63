// Whole synthetic photographs: the label is the procedural tree exactly, the photograph is black outside its
// FOV, photograph i depends only on (seed, i), and a generation resumes and is read back as a data set.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <utility>

#include "test_support.h"
#include "tiny_gan.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/gan/whole_photograph.h"

namespace vg {
namespace {

LoadedGenerator tiny_label_first() {
  LoadedGenerator g;
  g.painter = Painter(test::tiny_painter(1));
  g.painter->set_appearance_distribution(torch::zeros({3}), torch::eye(3) * 0.01);
  g.path = "tiny.pt";
  return g;
}

WholeOptions small() {
  WholeOptions o;
  o.width = 100;  // neither side a multiple of the painter's unit
  o.height = 118;
  o.count = 3;
  o.seed = 5;
  return o;
}

TEST(WholePhotograph, ItsLabelIsTheTreeAndItIsBlackOutsideItsFov) {
  const WholeOptions o = small();
  const WholePhotograph p = paint_whole(tiny_label_first(), 2, o, torch::kCPU);
  ASSERT_EQ(p.image.sizes(), torch::IntArrayRef({3, 118, 100}));
  ASSERT_EQ(p.label.sizes(), torch::IntArrayRef({1, 118, 100}));
  PhantomOptions trees = o.trees;
  trees.size = 118;
  const PhantomSample tree = make_phantom(trees, phantom_seed(o.seed, 2));
  EXPECT_TRUE(torch::equal(p.label, tree.label.slice(2, 9, 109)));
  EXPECT_TRUE(torch::equal(p.mask, tree.mask.slice(2, 9, 109)));
  EXPECT_GT(p.label.sum().item<double>(), 50);
  EXPECT_EQ(p.image.mul(1 - p.mask).abs().max().item<double>(), 0.0);
  EXPECT_GT(p.image.mul(p.mask).sum().item<double>(), 0.0);
  EXPECT_GE(p.image.min().item<double>(), 0.0);
  EXPECT_LE(p.image.max().item<double>(), 1.0);
}

TEST(WholePhotograph, PhotographIDependsOnlyOnTheSeedAndI) {
  const auto g = tiny_label_first();
  const auto a = paint_whole(g, 1, small(), torch::kCPU), b = paint_whole(g, 1, small(), torch::kCPU);
  EXPECT_TRUE(torch::equal(a.image, b.image));
  EXPECT_FALSE(torch::equal(a.label, paint_whole(g, 0, small(), torch::kCPU).label));
  WholeOptions other = small();
  other.seed = 6;
  EXPECT_FALSE(torch::equal(a.label, paint_whole(g, 1, other, torch::kCPU).label));
}

// Photograph 0 of 160 x 160 with the WholeOptions switch `part` on, and off.
std::pair<WholePhotograph, WholePhotograph> with_and_without(bool WholeOptions::*part) {
  const auto g = tiny_label_first();
  WholeOptions on = small();
  on.width = on.height = 160;
  WholeOptions off = on;
  off.*part = false;
  return {paint_whole(g, 0, on, torch::kCPU), paint_whole(g, 0, off, torch::kCPU)};
}

TEST(WholePhotograph, ShadingBrightensTheOpticDiscAndDarkensTheRim) {
  const auto painted = with_and_without(&WholeOptions::shading);
  const WholePhotograph &shaded = painted.first, &plain = painted.second;  // captured below (C++17: no bindings)
  EXPECT_TRUE(torch::equal(shaded.label, plain.label));
  const WholeOptions o = small();
  PhantomOptions trees = o.trees;
  trees.size = 160;
  const PhantomGeometry geo = make_phantom(trees, phantom_seed(o.seed, 0)).geometry;
  const auto gain = [&](double x, double y) {  // green, shaded over plain, at pixel (x, y)
    const auto i = static_cast<int64_t>(y), j = static_cast<int64_t>(x);
    return shaded.image[1][i][j].item<double>() / plain.image[1][i][j].item<double>();
  };
  EXPECT_GT(gain(geo.disc_x, geo.disc_y), 1.3);
  // Opposite the disc, just inside the rim.
  const double ux = (geo.fov_x - geo.disc_x), uy = (geo.fov_y - geo.disc_y), n = std::hypot(ux, uy);
  EXPECT_LT(gain(geo.fov_x + 0.93 * geo.fov_r * ux / n, geo.fov_y + 0.93 * geo.fov_r * uy / n), 0.9);
}

TEST(WholePhotograph, TextureIsAFineGainAroundOneOfDrivesStrengthAndChangesNothingElse) {
  const auto [grained, plain] = with_and_without(&WholeOptions::texture);
  EXPECT_TRUE(torch::equal(grained.label, plain.label));
  EXPECT_TRUE(torch::equal(grained.mask, plain.mask));
  // Where the plain photograph is neither dark nor clipped, the texture is a gain of mean 1 and a deviation of
  // DRIVE's order (grain, colour grain and mottle together: about 0.025 at strength 1, 0.6 to 1.4 of it).
  const auto ok = plain.mask.gt(0.5).logical_and(plain.image.gt(0.1)).logical_and(plain.image.lt(0.9));
  const auto gain = grained.image.masked_select(ok) / plain.image.masked_select(ok);
  ASSERT_GT(gain.numel(), 1000);
  EXPECT_NEAR(gain.mean().item<double>(), 1.0, 0.005);
  EXPECT_GT(gain.std().item<double>(), 0.01);
  EXPECT_LT(gain.std().item<double>(), 0.05);
}

TEST(WholePhotograph, AGeneratorWithoutAPainterIsAUserErrorAndWritesNothing) {
  test::ScratchDir dir("whole_nopainter");
  LoadedGenerator g;
  g.path = "image-only.pt";
  EXPECT_THROW(paint_whole(g, 0, small(), torch::kCPU), UserError);
  EXPECT_THROW(generate_whole(g, dir.path() / "out", small(), torch::kCPU), UserError);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "out"));
}

TEST(WholePhotograph, AGenerationIsADataSetAndResumes) {
  test::ScratchDir dir("whole_generate");
  const auto g = tiny_label_first();
  EXPECT_EQ(generate_whole(g, dir.path(), small(), torch::kCPU), 3);
  std::filesystem::remove(dir.path() / "images" / "000001.png");  // as if killed before its photograph
  EXPECT_EQ(generate_whole(g, dir.path(), small(), torch::kCPU), 1);
  const auto samples = load_samples(find_dataset(dir.path(), "all", "folder"), /*require_labels=*/true);
  ASSERT_EQ(samples.size(), 3U);
  EXPECT_TRUE(torch::equal(samples[1].label, paint_whole(g, 1, small(), torch::kCPU).label));
  EXPECT_TRUE(samples[1].has_mask);
}

TEST(WholePhotograph, AFolderOfOneGenerationRefusesOtherOptionsAndKeepsItsPhotographs) {
  test::ScratchDir dir("whole_other_options");
  const auto g = tiny_label_first();
  ASSERT_EQ(generate_whole(g, dir.path(), small(), torch::kCPU), 3);
  const std::string info = read_file(dir.path() / "generate.json");
  const std::string first = read_file(dir.path() / "images" / "000000.png");
  std::filesystem::remove(dir.path() / "images" / "000001.png");
  WholeOptions wide = small();
  wide.appearance.wide = true;
  EXPECT_THROW(generate_whole(g, dir.path(), wide, torch::kCPU), UserError);
  EXPECT_EQ(read_file(dir.path() / "generate.json"), info);
  EXPECT_EQ(read_file(dir.path() / "images" / "000000.png"), first);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "images" / "000001.png"));
  EXPECT_EQ(generate_whole(g, dir.path(), small(), torch::kCPU), 1);  // the same options resume
}

TEST(WholePhotograph, WideAppearanceChangesThePhotographOnlyInsideItsFov) {
  const auto g = tiny_label_first();
  WholeOptions wide = small();
  wide.appearance.wide = true;
  const auto plain = paint_whole(g, 1, small(), torch::kCPU), varied = paint_whole(g, 1, wide, torch::kCPU);
  EXPECT_TRUE(torch::equal(plain.label, varied.label));
  EXPECT_TRUE(torch::equal(plain.mask, varied.mask));
  EXPECT_FALSE(torch::equal(plain.image, varied.image));
  EXPECT_EQ(varied.image.mul(1 - varied.mask).abs().max().item<double>(), 0.0);
  EXPECT_GE(varied.image.min().item<double>(), 0.0);
  EXPECT_LE(varied.image.max().item<double>(), 1.0);
  EXPECT_TRUE(torch::equal(varied.image, paint_whole(g, 1, wide, torch::kCPU).image));
}

}  // namespace
}  // namespace vg
