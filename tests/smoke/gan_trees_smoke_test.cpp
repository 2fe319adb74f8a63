// vesselgan gan trees through the real program: real and generated labels side by side, a JSON file that is
// never overwritten, and a data set without labels named in one line.
#include <nlohmann/json.hpp>

#include "run_cli.h"
#include "vesselgan/core/files.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using test::contains;

TEST(GanTreesSmoke, ComparesEveryFigureOfTwoLabelledSetsAndWritesThemOnce) {
  test::ScratchDir dir("gan_trees");
  const std::string phantoms = test::make_phantoms(dir, 3, 96);
  const std::string json = (dir.path() / "trees.json").string();
  const std::string args = "gan trees --real " + phantoms + " --fake " + phantoms + " --fake-split train --json " + json;
  auto r = test::run_vesselgan(args, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* figure : {"vessel_fraction", "branch_density", "width 2-3 px", "tortuosity", "holes"})
    EXPECT_TRUE(contains(r.out, figure)) << figure << "\n" << r.out;
  EXPECT_TRUE(contains(r.out, "14 of 14 generated means lie within the real maps' range")) << r.out;  // the same maps
  const auto j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["figures"].size(), 14U);
  EXPECT_EQ(j["maps"]["generated"].size(), 3U);

  r = test::run_vesselgan(args, dir);  // --json exists: refused, the file kept
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "exists already")) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_file(json))["figures"].size(), 14U);
}

TEST(GanTreesSmoke, ASetWithoutLabelsIsOneLineNamingIt) {
  test::ScratchDir dir("gan_trees_nolabels");
  const std::string phantoms = test::make_phantoms(dir, 2, 64);
  fs::create_directories(dir.path() / "photos" / "images");
  fs::copy(fs::path(phantoms) / "train" / "images" / "01.png", dir.path() / "photos" / "images" / "01.png");
  const auto r = test::run_vesselgan("gan trees --real " + phantoms + " --fake " + (dir.path() / "photos").string(), dir);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "has no vessel label")) << r.err;
}

// The tree options a fit (scripts/fit_phantom_trees.py) varies reach the phantoms; a bad value is one line.
TEST(GanTreesSmoke, PhantomConfigChangesTheTreesAndABadValueIsOneLineNamingIt) {
  test::ScratchDir dir("phantom_config");
  write_file_atomic(dir.path() / "two.json", R"({"phantom": {"num_trees": 2}})");
  write_file_atomic(dir.path() / "bad.json", R"({"branch_spacing": -1})");
  const std::string common = "phantom --n 1 --n-test 1 --size 96 --out ";
  ASSERT_EQ(test::run_vesselgan(common + (dir.path() / "eight").string(), dir).code, 0);
  const auto r = test::run_vesselgan(common + (dir.path() / "two").string() + " --config " + (dir.path() / "two.json").string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(read_file(dir.path() / "eight/train/labels/01.png"), read_file(dir.path() / "two/train/labels/01.png"));
  const auto bad = test::run_vesselgan(common + (dir.path() / "bad").string() + " --config " + (dir.path() / "bad.json").string(), dir);
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(contains(bad.err, "branch_spacing")) << bad.err;
  EXPECT_FALSE(fs::exists(dir.path() / "bad"));
}

}  // namespace
}  // namespace vg
