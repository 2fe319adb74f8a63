// The shipped DRIVE models (models/sa-unet-drive.pt, and the opt-in sa-unet-drive-robust.pt and
// sa-unet-drive-clahe.pt) must keep segmenting as their model cards say: each card records the FOV F1 of one
// DRIVE test image, and this test recomputes it, so the weights cannot silently rot.
#include <fstream>
#include <regex>
#include <sstream>

#include "test_support.h"
#include "vesselgan/core/model_dir.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/eval/evaluator.h"
#include "vesselgan/seg/segmenter.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

// The value of "<key>: <number>" in the model card (a line of its "Check" section).
double card_value(const fs::path& card, const std::string& key) {
  std::ifstream in(card);
  std::stringstream ss;
  ss << in.rdbuf();
  std::smatch m;
  const std::string text = ss.str();
  if (!std::regex_search(text, m, std::regex(key + R"(:\s*([0-9]+\.[0-9]+))"))) return -1;
  return std::stod(m[1].str());
}

// Segments DRIVE test image 01 with the shipped `model_file` and compares its FOV F1 with the card's.
void expect_card_f1(const fs::path& drive, const std::string& model_file, const std::string& card_file) {
  const fs::path model = shipped_model(model_file);
  const fs::path card = model_dir() / card_file;
  ASSERT_TRUE(fs::exists(card)) << card;
  const double recorded = card_value(card, "check_fov_f1");
  ASSERT_GT(recorded, 0) << "no 'check_fov_f1: <number>' line in " << card;

  const auto data = find_dataset(drive, "test", "drive");
  ASSERT_FALSE(data.samples.empty());
  DatasetFiles first = data;
  first.samples = {data.samples.front()};  // 01_test.tif
  const auto samples = load_samples(first, true);
  const Segmenter seg = Segmenter::load(model, torch::kCPU);
  PredictOptions opt;
  opt.fov_diameter = seg.resolve_fov_diameter(-1);  // as `segment` and `evaluate` run it by default
  opt.operating_point = seg.resolve_operating_point("");
  opt.count_ratio = seg.resolve_count_ratio(0);
  const auto prob = seg.probability(samples[0].image, samples[0].mask, opt);
  const auto report = evaluate({EvalItem{samples[0].id, prob, samples[0].label, samples[0].mask}});
  EXPECT_NEAR(report.fov_pooled.f1, recorded, 1e-3) << model_file << ", image " << samples[0].id;
}

TEST(ShippedModel, SegmentsTheCheckImageWithTheF1OfItsModelCard) {
  VG_REQUIRE_DRIVE(drive);
  expect_card_f1(drive, "sa-unet-drive.pt", "sa-unet-drive.md");
}

TEST(ShippedModel, TheOptInRobustModelSegmentsTheCheckImageWithTheF1OfItsCard) {
  VG_REQUIRE_DRIVE(drive);
  expect_card_f1(drive, "sa-unet-drive-robust.pt", "sa-unet-drive-robust.md");
}

TEST(ShippedModel, TheOptInClaheModelSegmentsTheCheckImageWithTheF1OfItsCard) {
  VG_REQUIRE_DRIVE(drive);
  expect_card_f1(drive, "sa-unet-drive-clahe.pt", "sa-unet-drive-clahe.md");
}

}  // namespace
}  // namespace vg
