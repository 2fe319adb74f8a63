// `vesselgan evaluate --shifts` as a user runs it: a checkpoint trained for one epoch on two phantoms, scored
// clean and under two shift kinds, and a bad --shift-kinds refused.
#include <algorithm>
#include <set>

#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/core/files.h"

namespace vg {

TEST(RobustnessSmoke, EvaluateShiftsWritesTheCleanRowAndEveryRequestedKindAndRefusesAnUnknownKind) {
  test::ScratchDir dir("robustness_cli");
  const std::string data = (dir.path() / "data").string(), run = (dir.path() / "run").string(),
                    out = (dir.path() / "robust").string();
  auto r = test::run_vesselgan("phantom --n 2 --n-test 2 --size 64 --out " + data, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  r = test::run_vesselgan(
      "train --data " + data + " --out " + run + " --preset quick --epochs 1 --val-count 0 --device cpu --threads 2",
      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string model = run + "/checkpoints/best.pt";
  ASSERT_TRUE(fs::exists(model));

  const std::string common = " --max-images 2 --model " + model + " --data " + data + " --split test --device cpu";
  r = test::run_vesselgan("evaluate --shifts --shift-kinds dark,scale" + common + " --out " + out, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(test::contains(r.out, "| clean |")) << r.out;
  for (const char* f : {"robustness.json", "robustness.md", "robustness.svg"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  const auto j = nlohmann::json::parse(read_file(fs::path(out) / "robustness.json"));
  EXPECT_EQ(j["images"].size(), 2u);
  ASSERT_TRUE(j["clean"].contains("f1") && j["clean"].contains("auc_roc")) << j["clean"];
  std::set<std::string> kinds;
  for (const auto& s : j["shifts"]) {
    kinds.insert(s["kind"].get<std::string>());
    EXPECT_EQ(s["fov_pixels"], j["fov_pixels"]) << s["kind"] << " " << s["level"];  // the original pixels
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"dark", "scale"}));
  EXPECT_EQ(j["shifts"].size(), 2u + 4u);  // every default level: dark 0.5 0.3, scale 0.6 0.8 1.25 1.6

  r = test::run_vesselgan("evaluate --shifts --shift-kinds nope" + common + " --out " + out + "2", dir);
  EXPECT_EQ(r.code, 2) << r.err;
  const std::string message = r.err.substr(std::min(r.err.size(), r.err.find("vesselgan: error:")));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(test::contains(message, "'nope'") && test::contains(message, "scale")) << r.err;
  EXPECT_FALSE(fs::exists(out + "2"));
}

}  // namespace vg
