#include "vesselgan/gan/gan_metrics.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/io/checkpoint.h"
#include "vesselgan/io/image_io.h"
#include "vesselgan/seg/train_options.h"
#include "vesselgan/seg/trainer.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

// n phantom photographs [n, 3, S, S], image i drawn with seed first_seed + i.
torch::Tensor phantoms(int64_t n, uint64_t first_seed, int64_t size = 48) {
  PhantomOptions o;
  o.size = size;
  std::vector<torch::Tensor> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(make_phantom(o, first_seed + i).image);
  return torch::stack(v);
}

void write_pngs(const fs::path& dir, const torch::Tensor& images) {
  for (int64_t i = 0; i < images.size(0); ++i)
    write_png(dir / ("img" + std::to_string(100 + i) + ".png"), images[i]);
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

GanMetricsOptions color_stats(int64_t kid_subset_size = 1000) {
  GanMetricsOptions o;
  o.features = "color-stats";
  o.batch = 3;
  o.kid_subsets = 10;
  o.kid_subset_size = kid_subset_size;
  return o;
}

// A freshly initialised tiny SA-UNet saved as vesselgan train saves it. Its BatchNorm running statistics are
// first set from phantoms (forward passes in train mode, no weight updates): with the initial mean 0 /
// variance 1 the untrained net's activations shrink layer by layer to ~1e-3 and every distance is tiny.
std::string save_tiny_sa_unet(const fs::path& path) {
  torch::manual_seed(0);
  TrainOptions opt;
  opt.model.base_channels = 4;
  SAUNet model(opt.model);
  {
    torch::NoGradGuard no_grad;
    model->train();
    const auto x = phantoms(4, 1000, 32);
    for (int i = 0; i < 10; ++i) model->forward(x);
  }
  CheckpointHeader h;
  h.kind = kSegCheckpointKind;
  h.config = {{"train", opt}};
  save_checkpoint(path, h, *model);
  return path.string();
}

TEST(GanMetrics, PhantomsScoreZeroAgainstThemselvesAndFarWhenHalvedInBrightness) {
  const auto a = phantoms(12, 0), b = phantoms(12, 100);
  auto net = make_feature_network("color-stats", torch::kCPU);
  const auto o = color_stats();
  const GanMetrics self = compute_gan_metrics(a, a, *net, o);
  const GanMetrics other = compute_gan_metrics(a, b, *net, o);  // same distribution, other draws
  const GanMetrics dark = compute_gan_metrics(a, a * 0.5, *net, o);
  EXPECT_NEAR(self.fid, 0.0, 1e-6);
  EXPECT_EQ(self.real_count, 12);
  EXPECT_EQ(self.fake_count, 12);
  EXPECT_EQ(self.feature_network, "color-stats");
  RecordProperty("fid_other", num(other.fid));
  RecordProperty("fid_dark", num(dark.fid));
  RecordProperty("kid_other", num(other.kid.mean));
  RecordProperty("kid_dark", num(dark.kid.mean));
  EXPECT_GT(dark.fid, 5 * other.fid) << "other " << other.fid << ", dark " << dark.fid;
  EXPECT_GT(dark.kid.mean, 5 * std::abs(other.kid.mean)) << other.kid.mean << " " << dark.kid.mean;
}

TEST(GanMetrics, ObeysMaxImagesAndBatchesGiveTheSameFeatures) {
  const auto a = phantoms(7, 0), b = phantoms(6, 50);
  auto net = make_feature_network("color-stats", torch::kCPU);
  auto o = color_stats();
  o.batch = 1;
  const GanMetrics one = compute_gan_metrics(a, b, *net, o);
  o.batch = 16;
  const GanMetrics all = compute_gan_metrics(a, b, *net, o);
  EXPECT_NEAR(one.fid, all.fid, 1e-6 * all.fid);
  EXPECT_EQ(all.kid.subset_size, 6);
  o.max_images = 5;
  const GanMetrics capped = compute_gan_metrics(a, b, *net, o);
  EXPECT_EQ(capped.real_count, 5);
  EXPECT_EQ(capped.fake_count, 5);
  EXPECT_NE(capped.fid, all.fid);
}

TEST(GanMetrics, FromFoldersMatchesTheTensorPathOnTheSavedPixels) {
  test::ScratchDir dir("gan_metrics_folders");
  const auto a = phantoms(6, 0), b = phantoms(5, 100);
  write_pngs(dir.path() / "real", a);
  write_pngs(dir.path() / "fake", b);
  const auto o = color_stats();
  const GanMetrics files = compute_gan_metrics(dir.path() / "real", dir.path() / "fake", o, torch::kCPU);
  auto net = make_feature_network("color-stats", torch::kCPU);
  auto q = [](const torch::Tensor& x) { return (x * 255).round() / 255; };  // 8-bit PNG levels
  const GanMetrics tensors = compute_gan_metrics(q(a), q(b), *net, o);
  EXPECT_EQ(files.real_count, 6);
  EXPECT_EQ(files.fake_count, 5);
  EXPECT_NEAR(files.fid, tensors.fid, 1e-4 * tensors.fid);
  EXPECT_NEAR(files.kid.mean, tensors.kid.mean, 1e-4 * std::abs(tensors.kid.mean) + 1e-9);
}

TEST(GanMetrics, ReadsGrayscaleFilesAsThreeEqualChannels) {
  test::ScratchDir dir("gan_metrics_gray");
  const auto gray = phantoms(4, 0).select(1, 1).unsqueeze(1);  // green channel [4, 1, S, S]
  write_pngs(dir.path() / "gray", gray);
  write_pngs(dir.path() / "rgb", gray.expand({-1, 3, -1, -1}));
  const GanMetrics m =
      compute_gan_metrics(dir.path() / "gray", dir.path() / "rgb", color_stats(), torch::kCPU);
  EXPECT_NEAR(m.fid, 0.0, 1e-6);
}

TEST(GanMetrics, TakesTheImagesOfADataSetRoot) {
  test::ScratchDir dir("gan_metrics_dataset");
  PhantomOptions po;
  po.size = 48;
  write_phantom_dataset(dir.path() / "phantom", 3, 2, po, 5);
  const GanMetrics m =
      compute_gan_metrics(dir.path() / "phantom", dir.path() / "phantom", color_stats(), torch::kCPU);
  EXPECT_EQ(m.real_count, 5);  // train and test photographs, not the labels or masks
  EXPECT_NEAR(m.fid, 0.0, 1e-6);
}

TEST(GanMetrics, MissingOrEmptyFoldersAreOneLineUserErrors) {
  test::ScratchDir dir("gan_metrics_errors");
  fs::create_directories(dir.path() / "empty");
  write_pngs(dir.path() / "one", phantoms(1, 0));
  write_pngs(dir.path() / "two", phantoms(2, 0));
  auto error_of = [&](const fs::path& real, const fs::path& fake) {
    try {
      compute_gan_metrics(real, fake, color_stats(), torch::kCPU);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no UserError");
  };
  const std::string missing = error_of(dir.path() / "nope", dir.path() / "two");
  EXPECT_NE(missing.find((dir.path() / "nope").string()), std::string::npos) << missing;
  EXPECT_NE(missing.find("real"), std::string::npos) << missing;
  const std::string empty = error_of(dir.path() / "two", dir.path() / "empty");
  EXPECT_NE(empty.find((dir.path() / "empty").string()), std::string::npos) << empty;
  EXPECT_NE(empty.find("fake"), std::string::npos) << empty;
  const std::string one = error_of(dir.path() / "one", dir.path() / "two");
  EXPECT_NE(one.find("at least 2"), std::string::npos) << one;
  for (const auto& msg : {missing, empty, one}) EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(GanMetrics, SAUNetEncoderFeaturesSeparateDarkenedPhantoms) {
  test::ScratchDir dir("gan_metrics_sa_unet");
  auto o = color_stats();
  o.features = "sa-unet:" + save_tiny_sa_unet(dir.path() / "tiny.pt");
  const auto a = phantoms(6, 0, 32), b = phantoms(6, 100, 32);
  write_pngs(dir.path() / "real", a);
  write_pngs(dir.path() / "other", b);
  write_pngs(dir.path() / "dark", a * 0.5);
  const GanMetrics self = compute_gan_metrics(dir.path() / "real", dir.path() / "real", o, torch::kCPU);
  const GanMetrics other = compute_gan_metrics(dir.path() / "real", dir.path() / "other", o, torch::kCPU);
  const GanMetrics dark = compute_gan_metrics(dir.path() / "real", dir.path() / "dark", o, torch::kCPU);
  EXPECT_EQ(self.feature_network, "sa-unet-encoder(" + (dir.path() / "tiny.pt").string() + ")");
  EXPECT_NEAR(self.fid, 0.0, 1e-6);
  RecordProperty("fid_other", num(other.fid));
  RecordProperty("fid_dark", num(dark.fid));
  EXPECT_GT(dark.fid, 5 * other.fid) << "other " << other.fid << ", dark " << dark.fid;
}

TEST(GanMetricsOptions, RoundTripsThroughJsonAndValidates) {
  GanMetricsOptions o;
  o.features = "color-stats";
  o.kid_subsets = 7;
  o.seed = 3;
  GanMetricsOptions back;
  from_json(nlohmann::json(o), back);
  EXPECT_EQ(nlohmann::json(back), nlohmann::json(o));
  EXPECT_THROW(from_json(nlohmann::json{{"max_image", 5}}, back), UserError);
  o.batch = 0;
  EXPECT_THROW(validate(o), UserError);
  o = GanMetricsOptions{};
  o.kid_subset_size = 1;
  EXPECT_THROW(validate(o), UserError);
}

TEST(GanMetrics, JsonAndLineNameTheFeatureNetwork) {
  GanMetrics m;
  m.fid = 12.5;
  m.kid.mean = 0.25;
  m.kid.std = 0.125;
  m.kid.subsets = 100;
  m.kid.subset_size = 1000;
  m.feature_network = "color-stats";
  m.real_count = 20;
  m.fake_count = 30;
  const nlohmann::json j = m;
  EXPECT_EQ(j.at("fid").get<double>(), 12.5);
  EXPECT_EQ(j.at("kid").at("std").get<double>(), 0.125);
  EXPECT_EQ(j.at("feature_network"), "color-stats");
  EXPECT_EQ(j.at("fake_count"), 30);
  const std::string line = to_string(m);
  EXPECT_NE(line.find("FID 12.5"), std::string::npos) << line;
  EXPECT_NE(line.find("KID 0.25"), std::string::npos) << line;
  EXPECT_NE(line.find("color-stats"), std::string::npos) << line;
}

}  // namespace
}  // namespace vg
