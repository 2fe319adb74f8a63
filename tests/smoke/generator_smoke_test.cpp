// The shipped generator as a user meets it: `gan generate` without --model, then the shipped SA-UNet
// segments the images and `evaluate` scores its maps against the generator's own labels.
#include <nlohmann/json.hpp>

#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

TEST(GeneratorSmoke, ShippedGeneratorsImagesDepictTheirOwnLabels) {
  test::ScratchDir dir("gen_shipped");
  const fs::path g = dir.path() / "g", s = dir.path() / "s", e = dir.path() / "e";
  auto r = test::run_vesselgan("gan generate --n 32 --seed 11 --out " + g.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  double vessels = 0;
  for (int i = 0; i < 32; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%06d.png", i);
    for (const char* sub : {"images", "masks"}) ASSERT_TRUE(fs::exists(g / sub / id)) << sub << "/" << id;
    vessels += read_image(g / "labels" / id).pixels.mean().item<double>() / 32;
  }
  EXPECT_GT(vessels, 0.06);
  EXPECT_LT(vessels, 0.20);

  r = test::run_vesselgan("segment --fov-diameter 0 --mask-dir " + (g / "masks").string() + " --out " + s.string() +
                              " " + (g / "images").string(),
                          dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = test::run_vesselgan("evaluate --pred " + s.string() + " --data " + g.string() + " --out " + e.string(), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto metrics = nlohmann::json::parse(read_file(e / "metrics.json"));
  EXPECT_GE(metrics.at("fov_pooled").at("f1").get<double>(), 0.70) << r.out;
}

}  // namespace
}  // namespace vg
