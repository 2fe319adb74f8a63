// Every data set layout (CHASE_DB1, STARE, HRF as distributed, a folder of photographs) reads, evaluates
// and segments through the real `vesselgan` program, with the shipped default model when no --model is given.
#include <sys/wait.h>

#include <algorithm>

#include "run_cli.h"
#include "test_support.h"
#include "vesselgan/core/files.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {

namespace {

using test::contains;

// Runs the CLI with VESSELGAN_MODEL_DIR=model_dir (the shipped-model folder).
test::CliResult run_cli(const fs::path& model_dir, const std::string& args, const test::ScratchDir& dir) {
  return test::run_vesselgan(args, dir, "VESSELGAN_MODEL_DIR='" + model_dir.string() + "'");
}

// A folder holding sa-unet-drive.pt: a small untrained SA-UNet whose config records a training scale of
// 48 px (so every fixture below is resized before the network).
fs::path shipped_model_dir(const test::ScratchDir& dir) {
  const fs::path models = dir.path() / "models";
  TrainOptions t;
  t.model.base_channels = 4;
  torch::manual_seed(0);
  SAUNet model(t.model);
  CheckpointHeader h;
  h.kind = kSegCheckpointKind;
  h.config = {{"train", t}, {"fov_diameter", 48.0}};
  fs::create_directories(models);
  save_checkpoint(models / "sa-unet-drive.pt", h, *model);
  return models;
}

PhantomOptions sized(int64_t size) {
  PhantomOptions o;
  o.size = size;
  return o;
}

const char* const kCompute = " --device cpu --threads 2";

}  // namespace

TEST(LayoutsSmoke, EveryLabelledLayoutEvaluatesOutOfTheBoxAndStatesItsProtocol) {
  test::ScratchDir dir("layouts_eval");
  const fs::path models = shipped_model_dir(dir);
  struct Case {
    std::string layout;
    int n;
    int64_t size;
    size_t test_images;
    std::string annotation, fov;
  };
  const std::vector<Case> cases = {{"chase", 6, 64, 2, "1stHO", "estimated"},
                                   {"stare", 4, 64, 2, "labels-ah", "estimated"},
                                   {"hrf", 6, 72, 3, "manual1", "given"}};
  for (const auto& c : cases) {
    const fs::path data = dir.path() / c.layout, ev = dir.path() / ("eval_" + c.layout);
    write_phantom_layout(data, c.layout, c.n, sized(c.size), 7);
    const auto r =
        run_cli(models, "evaluate --data " + data.string() + " --out " + ev.string() + kCompute, dir);
    ASSERT_EQ(r.code, 0) << c.layout << "\n" << r.err;
    const auto m = nlohmann::json::parse(read_file(ev / "metrics.json"));
    EXPECT_EQ(m["per_image"].size(), c.test_images) << c.layout;
    const auto& p = m["protocol"];
    EXPECT_TRUE(contains(p["data"].get<std::string>(), "(" + c.layout + " layout)")) << p.dump();
    EXPECT_TRUE(contains(p["annotation"].get<std::string>(), c.annotation)) << p.dump();
    EXPECT_TRUE(contains(p["fov"].get<std::string>(), c.fov)) << p.dump();
    EXPECT_TRUE(contains(p["scale"].get<std::string>(), "FOV diameter normalized to 48 px")) << p.dump();
    EXPECT_TRUE(contains(p["predictions"].get<std::string>(), "sa-unet-drive.pt")) << p.dump();
    EXPECT_TRUE(contains(p["split"].get<std::string>(), "standard split")) << p.dump();
    const std::string md = read_file(ev / "metrics.md");
    EXPECT_TRUE(contains(md, "## Protocol")) << md;
    EXPECT_TRUE(contains(md, "- Ground truth: ")) << md;
    EXPECT_TRUE(contains(r.out, "## Protocol")) << r.out;
    const double f1 = m["fov_pooled"]["f1"].get<double>();
    EXPECT_TRUE(f1 >= 0 && f1 <= 1) << c.layout;
  }
  // --split all and an explicit --layout; native scale on request.
  const fs::path ev = dir.path() / "eval_all";
  const auto r = run_cli(models,
                         "evaluate --data " + (dir.path() / "chase").string() +
                             " --layout chase --split all --fov-diameter 0 --out " + ev.string() + kCompute,
                         dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto m = nlohmann::json::parse(read_file(ev / "metrics.json"));
  EXPECT_EQ(m["per_image"].size(), 6u);
  EXPECT_TRUE(contains(m["protocol"]["scale"].get<std::string>(), "native resolution"))
      << m["protocol"].dump();
  // Photographs have no labels: a clear error, not a crash.
  write_phantom_layout(dir.path() / "photos", "photos", 2, sized(64), 7);
  const auto bad = run_cli(models, "evaluate --data " + (dir.path() / "photos").string() + kCompute, dir);
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_TRUE(contains(bad.err, "no label for")) << bad.err;
}

TEST(LayoutsSmoke, EveryLayoutSegmentsThroughTheCli) {
  test::ScratchDir dir("layouts_segment");
  const fs::path models = shipped_model_dir(dir);
  for (const std::string layout : {"chase", "stare", "hrf", "photos"}) {
    const fs::path data = dir.path() / layout, out = dir.path() / ("seg_" + layout);
    write_phantom_layout(data, layout, 3, sized(64), 3);
    const auto r = run_cli(
        models, "segment --data " + data.string() + " --split all --out " + out.string() + kCompute, dir);
    ASSERT_EQ(r.code, 0) << layout << "\n" << r.err;
    const auto ids = phantom_layout_ids(layout, 3);
    for (const auto& id : ids) {
      for (const char* suffix : {"_prob.png", "_mask.png", "_overlay.png"})
        EXPECT_TRUE(fs::exists(out / (id + suffix))) << layout << " " << id << suffix;
      // HRF comes with masks; the others get an estimated FOV, written next to the maps.
      EXPECT_EQ(fs::exists(out / (id + "_fov.png")), layout != "hrf") << layout << " " << id;
    }
  }
}

TEST(LayoutsSmoke, SegmentingAPhotographEstimatesItsFovAndZeroesTheMapOutside) {
  test::ScratchDir dir("layouts_photo");
  const fs::path models = shipped_model_dir(dir);
  write_phantom_layout(dir.path() / "in", "photos", 2, sized(64), 5);
  const fs::path photo = dir.path() / "in" / "photo_02.jpg", out = dir.path() / "out";  // 128 x 96
  const auto r = run_cli(models, "segment " + photo.string() + " --out " + out.string() + kCompute, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "FOV estimated")) << r.err;
  EXPECT_TRUE(contains(r.err, "scaled x0.")) << r.err;  // ~88 px across -> 48
  const auto prob = read_image(out / "photo_02_prob.png").pixels,
             fov = read_image(out / "photo_02_fov.png").pixels;
  ASSERT_EQ(prob.sizes(), torch::IntArrayRef({1, 96, 128}));
  ASSERT_EQ(fov.sizes(), prob.sizes());
  EXPECT_GT(fov.mean().item<float>(), 0.4f);  // a disc ~88 px across in a 128 x 96 frame
  EXPECT_LT(fov.mean().item<float>(), 0.6f);
  EXPECT_EQ((prob * (1 - fov)).max().item<float>(), 0.0f);
  // --no-fov: the whole image, no _fov.png.
  const fs::path out2 = dir.path() / "out2";
  ASSERT_EQ(
      run_cli(models, "segment " + photo.string() + " --no-fov --out " + out2.string() + kCompute, dir).code,
      0);
  EXPECT_TRUE(fs::exists(out2 / "photo_02_prob.png"));
  EXPECT_FALSE(fs::exists(out2 / "photo_02_fov.png"));
}

TEST(LayoutsSmoke, WithoutTheShippedModelTheErrorSaysWhereAndWhatElse) {
  test::ScratchDir dir("layouts_nomodel");
  fs::create_directories(dir.path() / "empty");
  write_phantom_layout(dir.path() / "chase", "chase", 4, sized(32), 1);
  const std::string photo = (dir.path() / "chase" / "Image_01L.jpg").string();
  for (const std::string& args : {"segment " + photo, "evaluate --data " + (dir.path() / "chase").string()}) {
    const auto r = run_cli(dir.path() / "empty", args + kCompute, dir);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(contains(r.err, (dir.path() / "empty" / "sa-unet-drive.pt").string())) << r.err;
    EXPECT_TRUE(contains(r.err, "--model")) << r.err;
  }
  const auto both = run_cli(
      dir.path() / "empty",
      "evaluate --data " + (dir.path() / "chase").string() + " --model a.pt --pred b" + kCompute, dir);
  EXPECT_EQ(both.code, 2);
  EXPECT_TRUE(contains(both.err, "not both")) << both.err;
}

}  // namespace vg
