#include "vesselgan/eval/threshold_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vg {
namespace {

TEST(ThresholdMetrics, MatchHandComputedValues) {
  // tp 30, fp 10, tn 50, fn 10 (total 100).
  const ThresholdMetrics m = threshold_metrics(Confusion{30, 10, 50, 10});
  EXPECT_DOUBLE_EQ(m.se, 30.0 / 40);
  EXPECT_DOUBLE_EQ(m.sp, 50.0 / 60);
  EXPECT_DOUBLE_EQ(m.acc, 80.0 / 100);
  EXPECT_DOUBLE_EQ(m.precision, 30.0 / 40);
  EXPECT_DOUBLE_EQ(m.f1, 60.0 / 80);
  EXPECT_DOUBLE_EQ(m.iou, 30.0 / 50);
  // (30*50 - 10*10) / sqrt(40 * 40 * 60 * 60) = 1400 / 2400
  EXPECT_DOUBLE_EQ(m.mcc, 1400.0 / 2400);
}

TEST(ThresholdMetrics, F1IsHarmonicMeanOfPrecisionAndRecall) {
  const ThresholdMetrics m = threshold_metrics(Confusion{7, 3, 100, 11});
  EXPECT_NEAR(m.f1, 2 * m.precision * m.se / (m.precision + m.se), 1e-15);
  EXPECT_NEAR(m.iou, m.f1 / (2 - m.f1), 1e-15);
}

TEST(ThresholdMetrics, MccIsMinusOneForInvertedPrediction) {
  EXPECT_DOUBLE_EQ(threshold_metrics(Confusion{0, 5, 0, 7}).mcc, -1.0);
  EXPECT_DOUBLE_EQ(threshold_metrics(Confusion{5, 0, 7, 0}).mcc, 1.0);
}

TEST(ThresholdMetrics, EmptyDenominatorsFollowTheDocumentedConvention) {
  // No positives anywhere: perfect on the empty class.
  ThresholdMetrics m = threshold_metrics(Confusion{0, 0, 10, 0});
  EXPECT_EQ(m.se, 1.0);
  EXPECT_EQ(m.precision, 1.0);
  EXPECT_EQ(m.f1, 1.0);
  EXPECT_EQ(m.iou, 1.0);
  EXPECT_EQ(m.sp, 1.0);
  EXPECT_EQ(m.mcc, 0.0);
  // No positive prediction but positives in the truth: precision 0.
  m = threshold_metrics(Confusion{0, 0, 10, 5});
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.se, 0.0);
  EXPECT_EQ(m.f1, 0.0);
  // Truth has no positives, prediction has some: se 0.
  EXPECT_EQ(threshold_metrics(Confusion{0, 3, 10, 0}).se, 0.0);
  // Truth has no negatives: sp 1 if the prediction has none either, else 0.
  EXPECT_EQ(threshold_metrics(Confusion{4, 0, 0, 0}).sp, 1.0);
  EXPECT_EQ(threshold_metrics(Confusion{4, 0, 0, 1}).sp, 0.0);
  // Nothing at all: no NaN.
  m = threshold_metrics(Confusion{});
  for (double v : {m.se, m.sp, m.acc, m.precision, m.f1, m.iou, m.mcc}) EXPECT_FALSE(std::isnan(v));
  EXPECT_EQ(m.acc, 1.0);
}

TEST(ThresholdMetrics, MccDoesNotOverflowOnLargeCounts) {
  const ThresholdMetrics m =
      threshold_metrics(Confusion{3000000000LL, 1000000000LL, 5000000000LL, 1000000000LL});
  EXPECT_NEAR(m.mcc, 1400.0 / 2400, 1e-12);
}

}  // namespace
}  // namespace vg
