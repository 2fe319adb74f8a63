// Metrics of one binary decision, all computed from confusion counts (protocol.md for definitions).
#pragma once
#include "vesselgan/eval/confusion.h"

namespace vg {

struct ThresholdMetrics {
  double se = 0;         // sensitivity, recall: TP / (TP + FN)
  double sp = 0;         // specificity: TN / (TN + FP)
  double acc = 0;        // (TP + TN) / (TP + FP + TN + FN)
  double precision = 0;  // TP / (TP + FP)
  double f1 = 0;         // 2 TP / (2 TP + FP + FN)  (= 2 Pr Se / (Pr + Se), Dice)
  double iou = 0;        // TP / (TP + FP + FN)  (Jaccard)
  double mcc = 0;        // (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))  (Matthews 1975)
};

// Empty denominators (no NaN is ever returned). A ratio whose denominator is 0 is about a class that is
// empty on one side; it is 1 when the other side agrees (that class is empty in both the prediction and
// the truth, so nothing was got wrong) and 0 otherwise:
//   se        : truth has no positives      -> 1 if the prediction has none either (FP = 0), else 0
//   sp        : truth has no negatives      -> 1 if the prediction has none either (FN = 0), else 0
//   precision : prediction has no positives -> 1 if the truth has none either (FN = 0), else 0
//   f1, iou   : TP = FP = FN = 0            -> 1
//   acc       : no pixels at all            -> 1
//   mcc       : any marginal is 0           -> 0 (undefined correlation)
ThresholdMetrics threshold_metrics(const Confusion& c);

}  // namespace vg
