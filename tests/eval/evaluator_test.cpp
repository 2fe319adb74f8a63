#include "vesselgan/eval/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_support.h"
#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"

namespace vg {
namespace {

// Image "a" (4x4, whole FOV): label = first two pixels of row 0; prob 0.95 there, 0.35 elsewhere.
//   Confusion tp 2, fp 0, tn 14, fn 0 -> Se 1.
// Image "b" (4x4, FOV = rows 0-2): label = columns 0 and 1; prob 0.8 / 0.3 / 0.1 / 0.1 by column.
//   FOV: tp 3 (column 0), fn 3 (column 1), tn 6 -> Se 0.5. Whole image adds tp 1, fn 1, tn 2.
std::vector<EvalItem> two_images() {
  EvalItem a{"a", torch::full({4, 4}, 0.35f), torch::zeros({4, 4}), torch::ones({4, 4})};
  a.label[0][0] = 1;
  a.label[0][1] = 1;
  a.prob.masked_fill_(a.label.gt(0.5), 0.95f);
  EvalItem b{"b", torch::empty({1, 4, 4}), torch::zeros({4, 4}, torch::kUInt8), torch::ones({4, 4})};
  b.label.slice(1, 0, 2).fill_(1);
  const float col[4] = {0.8f, 0.3f, 0.1f, 0.1f};
  for (int c = 0; c < 4; ++c) b.prob[0].select(1, c).fill_(col[c]);
  b.mask[3].fill_(0);
  return {a, b};
}

TEST(Evaluate, PooledCountsOneConfusionWhilePerImageAverages) {
  const EvalReport r = evaluate(two_images(), EvalOptions{});
  EXPECT_EQ(r.fov_pixels, 28);
  EXPECT_EQ(r.total_pixels, 32);
  ASSERT_EQ(r.per_image.size(), 2u);
  EXPECT_EQ(r.per_image[0].first, "a");
  EXPECT_DOUBLE_EQ(r.per_image[0].second.se, 1.0);
  EXPECT_DOUBLE_EQ(r.per_image[1].second.se, 0.5);
  EXPECT_DOUBLE_EQ(r.per_image[1].second.sp, 1.0);
  EXPECT_DOUBLE_EQ(r.per_image[1].second.acc, 9.0 / 12);
  // Pooled: tp 5, fn 3, fp 0, tn 20 -> Se 5/8; per-image mean 0.75, sample std sqrt(0.125).
  EXPECT_DOUBLE_EQ(r.fov_pooled.se, 5.0 / 8);
  EXPECT_DOUBLE_EQ(r.fov_pooled.acc, 25.0 / 28);
  EXPECT_DOUBLE_EQ(r.per_image_mean.se, 0.75);
  EXPECT_NEAR(r.per_image_std.se, std::sqrt(0.125), 1e-15);
  EXPECT_DOUBLE_EQ(r.per_image_std.sp, 0.0);
  // Whole image: tp 6, fn 4, tn 22.
  EXPECT_DOUBLE_EQ(r.whole_image_pooled.se, 6.0 / 10);
  EXPECT_DOUBLE_EQ(r.whole_image_pooled.acc, 28.0 / 32);
  // Each image ranks perfectly alone, but pooled, b's three 0.3 positives sit below a's fourteen 0.35
  // negatives: AUC = 1 - 42 / (8 * 20).
  EXPECT_DOUBLE_EQ(r.per_image_mean.auc_roc, 1.0);
  EXPECT_DOUBLE_EQ(r.fov_pooled.auc_roc, 1.0 - 42.0 / 160);
  // The curves are the pooled FOV ones.
  EXPECT_EQ(r.roc_fov.x.front(), 0.0);
  EXPECT_DOUBLE_EQ(r.roc_fov.y.back(), 1.0);
}

TEST(Evaluate, ThresholdMovesTheOperatingPoint) {
  EvalOptions o;
  o.threshold = 0.3;  // b's column 1 (0.3) and a's negatives (0.35) become positive
  const EvalReport r = evaluate(two_images(), o);
  EXPECT_DOUBLE_EQ(r.fov_pooled.se, 1.0);
  EXPECT_DOUBLE_EQ(r.fov_pooled.precision, 8.0 / 22);
  EXPECT_EQ(r.threshold, 0.3);
}

TEST(Evaluate, JsonHasEveryKey) {
  const nlohmann::json j = to_json(evaluate(two_images(), EvalOptions{}));
  for (const char* k : {"threshold", "fov_pixels", "total_pixels", "fov_pooled", "whole_image_pooled",
                        "per_image_mean", "per_image_std", "per_image"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["fov_pixels"].get<int64_t>(), 28);
  ASSERT_TRUE(j["per_image"].contains("b"));
  const nlohmann::json& m = j["per_image"]["b"];
  EXPECT_EQ(m.size(), 10u);
  for (const char* k : {"se", "sp", "acc", "precision", "f1", "iou", "mcc", "auc_roc", "auc_pr", "cldice"})
    EXPECT_TRUE(m.contains(k)) << k;
  EXPECT_DOUBLE_EQ(m["se"].get<double>(), 0.5);
  const MetricSet back = j["fov_pooled"].get<MetricSet>();
  EXPECT_DOUBLE_EQ(back.se, 5.0 / 8);
}

TEST(Evaluate, MarkdownTableHasTheThreeRowsToFourDecimals) {
  const std::string md = to_markdown(evaluate(two_images(), EvalOptions{}), "Toy");
  EXPECT_EQ(md.rfind("# Toy", 0), 0u);
  EXPECT_NE(md.find("| | Se | Sp | Acc | Precision | F1 | IoU | MCC | AUC | PR-AUC | clDice |"),
            std::string::npos);
  EXPECT_NE(md.find("| FOV pooled | 0.6250 |"), std::string::npos);
  EXPECT_NE(md.find("| Whole image pooled | 0.6000 |"), std::string::npos);
  EXPECT_NE(md.find("| Per-image mean ± std | 0.7500 ± 0.3536 |"), std::string::npos);
  EXPECT_NE(md.find("| b | 0.5000 |"), std::string::npos);
}

TEST(Evaluate, WritesTheReportFolder) {
  test::ScratchDir dir("eval_report");
  write_eval_report(dir.path() / "out", evaluate(two_images(), EvalOptions{}), "Toy");
  for (const char* f : {"metrics.json", "metrics.md", "roc.svg", "pr.svg"}) {
    ASSERT_TRUE(fs::exists(dir.path() / "out" / f)) << f;
  }
  const auto j = nlohmann::json::parse(read_file(dir.path() / "out" / "metrics.json"));
  EXPECT_EQ(j["total_pixels"].get<int64_t>(), 32);
  for (const char* f : {"roc.svg", "pr.svg"}) {
    const std::string svg = read_file(dir.path() / "out" / f);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  }
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "out")) n += e.is_regular_file();
  EXPECT_EQ(n, 4);  // no temp files left behind
}

TEST(Evaluate, RejectsEmptyInputRepeatedIdsAndBadOptions) {
  EXPECT_THROW(evaluate({}, EvalOptions{}), UserError);
  auto items = two_images();
  items[1].id = "a";
  EXPECT_THROW(evaluate(items, EvalOptions{}), UserError);
  EvalOptions bad;
  bad.threshold = 1.5;
  EXPECT_THROW(evaluate(two_images(), bad), UserError);
  items = two_images();
  items[0].mask = torch::ones({5, 4});
  EXPECT_THROW(evaluate(items, EvalOptions{}), c10::Error);
}

TEST(Evaluate, SingleImageHasZeroStdAndMissingMaskMeansWholeImage) {
  auto items = two_images();
  items.resize(1);
  items[0].mask = torch::Tensor();
  const EvalReport r = evaluate(items, EvalOptions{});
  EXPECT_EQ(r.fov_pixels, 16);
  EXPECT_EQ(r.per_image_std.se, 0.0);
  EXPECT_DOUBLE_EQ(r.fov_pooled.f1, r.whole_image_pooled.f1);
}

TEST(EvalOptions, JsonRoundTripKeepsDefaultsForMissingKeys) {
  EvalOptions o;
  nlohmann::json j = nlohmann::json::object();
  j["threshold"] = 0.4;
  j.get_to(o);
  EXPECT_EQ(o.threshold, 0.4);
  EXPECT_EQ(o.curve_points, 1000);
  nlohmann::json back = o;
  EXPECT_EQ(back["threshold"].get<double>(), 0.4);
}

}  // namespace
}  // namespace vg
