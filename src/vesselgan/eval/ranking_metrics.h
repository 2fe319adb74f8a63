// Threshold-free metrics of a score map: ROC AUC, average precision (PR AUC) and the two curves.
// All are computed from a RankTable: the samples grouped by distinct score, highest first, with the
// number of positives and negatives at each score. Building it is one sort per class (radix sort on the
// float bits, O(n)), so ~7M pixels take well under a second; everything after it is one linear pass.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace vg {

struct RankTable {
  std::vector<float> score;       // distinct scores, strictly decreasing
  std::vector<int64_t> pos, neg;  // positives / negatives whose score is exactly score[i]
  int64_t total_pos = 0, total_neg = 0;
};

// scores: any shape, floating (compared as float32; no NaN). labels: same shape, bool or numeric
// (positive iff > 0.5). mask: undefined (`{}`: every sample counts) or same shape (counts iff > 0.5).
// CPU tensors.
RankTable rank_table(const torch::Tensor& scores, const torch::Tensor& labels,
                     const torch::Tensor& mask = {});

// A curve as points at the distinct thresholds, in order of decreasing threshold.
struct Curve {
  std::vector<double> x, y;
  std::vector<double> threshold;  // the first point's threshold is +infinity (nothing predicted positive)
};

// ROC AUC, exact with ties: the trapezoid rule between distinct thresholds, which equals the
// Mann-Whitney U statistic P(s+ > s-) + 0.5 P(s+ = s-) (Hanley & McNeil 1982). Computed in integers.
// Degenerate input (no positives or no negatives) returns 0.5, the value of an uninformative ranking.
double roc_auc(const RankTable& t);

// Average precision as scikit-learn defines it (a step function, no interpolation):
// AP = sum_n (R_n - R_{n-1}) P_n over the distinct thresholds n, R_0 = 0.
// No positives returns 0 (scikit-learn's value too); no negatives returns 1.
double average_precision(const RankTable& t);

// ROC curve: x = false positive rate, y = true positive rate; starts at (0, 0) (threshold +inf) and ends
// at (1, 1). With no positives (negatives) the missing rate is taken equal to the other (the chance
// diagonal, matching AUC 0.5). `max_points` > 0 thins the curve for plotting (thin_curve).
Curve roc_curve(const RankTable& t, int64_t max_points = 1000);

// Precision-recall curve: x = recall, y = precision; starts at (0, 1) (threshold +inf, scikit-learn's
// convention), then one point per distinct threshold. With no positives recall is taken as 1.
Curve pr_curve(const RankTable& t, int64_t max_points = 1000);

// Keeps the first and last point and, in between, a point whenever the path length walked since the
// last kept point reaches 1/(max_points - 2) of the total; so at most max_points points and the shape is
// kept where the curve moves. max_points <= 0 or a short curve: returned unchanged. max_points < 3 is
// raised to 3.
Curve thin_curve(const Curve& c, int64_t max_points);

// Conveniences over rank_table(scores, labels).
double roc_auc(const torch::Tensor& scores, const torch::Tensor& labels);
double average_precision(const torch::Tensor& scores, const torch::Tensor& labels);
Curve roc_curve(const torch::Tensor& scores, const torch::Tensor& labels, int64_t max_points = 1000);
Curve pr_curve(const torch::Tensor& scores, const torch::Tensor& labels, int64_t max_points = 1000);

}  // namespace vg
