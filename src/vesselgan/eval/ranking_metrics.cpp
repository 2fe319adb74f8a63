#include "vesselgan/eval/ranking_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

namespace vg {
namespace {

// Order-preserving map float -> uint32 with the order reversed (higher score, smaller key), so sorting
// keys ascending sorts scores descending. -0 is folded onto +0 so that equal floats give equal keys.
uint32_t descending_key(float f) {
  if (f == 0.0f) f = 0.0f;
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~ascending;
}

float score_of_key(uint32_t key) {
  const uint32_t ascending = ~key;
  const uint32_t u = (ascending & 0x80000000u) ? (ascending & 0x7fffffffu) : ~ascending;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// LSD radix sort, two 16-bit digits.
void radix_sort(std::vector<uint32_t>& a) {
  if (a.size() < 4096) {
    std::sort(a.begin(), a.end());
    return;
  }
  std::vector<size_t> lo(65536, 0), hi(65536, 0);
  for (uint32_t k : a) {
    ++lo[k & 0xffffu];
    ++hi[k >> 16];
  }
  size_t s_lo = 0, s_hi = 0;
  for (size_t d = 0; d < 65536; ++d) {
    const size_t c_lo = lo[d], c_hi = hi[d];
    lo[d] = s_lo;
    hi[d] = s_hi;
    s_lo += c_lo;
    s_hi += c_hi;
  }
  std::unique_ptr<uint32_t[]> tmp(new uint32_t[a.size()]);  // not zero-filled: every slot is written
  for (uint32_t k : a) tmp[lo[k & 0xffffu]++] = k;
  for (size_t i = 0; i < a.size(); ++i) a[hi[tmp[i] >> 16]++] = tmp[i];
}

torch::Tensor flat_binary(const torch::Tensor& t) {
  torch::Tensor b = t.scalar_type() == torch::kBool ? t : t.gt(0.5);
  return b.reshape({-1}).contiguous();
}

}  // namespace

RankTable rank_table(const torch::Tensor& scores, const torch::Tensor& labels, const torch::Tensor& mask) {
  TORCH_CHECK(scores.defined() && labels.defined(), "rank_table: scores and labels must be defined");
  TORCH_CHECK(scores.device().is_cpu() && labels.device().is_cpu(), "rank_table: CPU tensors expected");
  TORCH_CHECK(scores.is_floating_point(), "rank_table: scores must be floating, got ", scores.scalar_type());
  TORCH_CHECK(scores.sizes() == labels.sizes(), "rank_table: scores ", scores.sizes(), " and labels ",
              labels.sizes(), " differ in shape");
  const torch::Tensor s = scores.to(torch::kFloat).reshape({-1}).contiguous();
  const torch::Tensor l = flat_binary(labels);
  torch::Tensor m;
  if (mask.defined()) {
    TORCH_CHECK(mask.device().is_cpu(), "rank_table: mask must be a CPU tensor");
    TORCH_CHECK(mask.sizes() == scores.sizes(), "rank_table: scores ", scores.sizes(), " and mask ",
                mask.sizes(), " differ in shape");
    m = flat_binary(mask);
  }
  const int64_t n = s.numel();
  const float* sp = s.data_ptr<float>();
  const bool* lp = l.data_ptr<bool>();
  const bool* mp = m.defined() ? m.data_ptr<bool>() : nullptr;

  std::vector<uint32_t> kp, kn;  // keys of positives / negatives
  {
    int64_t npos = 0, ncount = n;
    if (mp != nullptr) ncount = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (mp != nullptr && !mp[i]) continue;
      if (mp != nullptr) ++ncount;
      npos += lp[i] ? 1 : 0;
    }
    kp.reserve(npos);
    kn.reserve(ncount - npos);
  }
  for (int64_t i = 0; i < n; ++i) {
    if (mp != nullptr && !mp[i]) continue;
    TORCH_CHECK(!std::isnan(sp[i]), "rank_table: scores contain NaN (at flat index ", i, ")");
    (lp[i] ? kp : kn).push_back(descending_key(sp[i]));
  }
  radix_sort(kp);
  radix_sort(kn);

  RankTable t;
  t.total_pos = static_cast<int64_t>(kp.size());
  t.total_neg = static_cast<int64_t>(kn.size());
  size_t i = 0, j = 0;
  while (i < kp.size() || j < kn.size()) {
    uint32_t k;
    if (i == kp.size())
      k = kn[j];
    else if (j == kn.size())
      k = kp[i];
    else
      k = std::min(kp[i], kn[j]);
    int64_t p = 0, q = 0;
    while (i < kp.size() && kp[i] == k) ++i, ++p;
    while (j < kn.size() && kn[j] == k) ++j, ++q;
    t.score.push_back(score_of_key(k));
    t.pos.push_back(p);
    t.neg.push_back(q);
  }
  return t;
}

double roc_auc(const RankTable& t) {
  if (t.total_pos == 0 || t.total_neg == 0) return 0.5;
  // 2 * U = sum over groups of neg_g * (2 * positives ranked strictly above + pos_g); exact in int64 for
  // up to ~2e9 samples.
  int64_t twice_u = 0, tp_above = 0;
  for (size_t g = 0; g < t.score.size(); ++g) {
    twice_u += t.neg[g] * (2 * tp_above + t.pos[g]);
    tp_above += t.pos[g];
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(t.total_pos) * static_cast<double>(t.total_neg));
}

double average_precision(const RankTable& t) {
  if (t.total_pos == 0) return 0.0;
  double ap = 0;
  int64_t tp = 0, fp = 0;
  for (size_t g = 0; g < t.score.size(); ++g) {
    tp += t.pos[g];
    fp += t.neg[g];
    if (t.pos[g] > 0)
      ap += static_cast<double>(t.pos[g]) * static_cast<double>(tp) / static_cast<double>(tp + fp);
  }
  return ap / static_cast<double>(t.total_pos);
}

Curve roc_curve(const RankTable& t, int64_t max_points) {
  Curve c;
  const size_t n = t.score.size() + 1;
  c.x.reserve(n);
  c.y.reserve(n);
  c.threshold.reserve(n);
  auto add = [&](int64_t tp, int64_t fp, double thr) {
    double tpr = t.total_pos > 0 ? static_cast<double>(tp) / t.total_pos : -1;
    double fpr = t.total_neg > 0 ? static_cast<double>(fp) / t.total_neg : -1;
    if (tpr < 0 && fpr < 0) tpr = fpr = 0;  // no samples at all
    if (tpr < 0) tpr = fpr;
    if (fpr < 0) fpr = tpr;
    c.x.push_back(fpr);
    c.y.push_back(tpr);
    c.threshold.push_back(thr);
  };
  add(0, 0, std::numeric_limits<double>::infinity());
  int64_t tp = 0, fp = 0;
  for (size_t g = 0; g < t.score.size(); ++g) {
    tp += t.pos[g];
    fp += t.neg[g];
    add(tp, fp, t.score[g]);
  }
  if (t.score.empty()) {  // no samples: still a curve from (0, 0) to (1, 1)
    c.x.push_back(1);
    c.y.push_back(1);
    c.threshold.push_back(-std::numeric_limits<double>::infinity());
  }
  return thin_curve(c, max_points);
}

Curve pr_curve(const RankTable& t, int64_t max_points) {
  Curve c;
  const size_t n = t.score.size() + 1;
  c.x.reserve(n);
  c.y.reserve(n);
  c.threshold.reserve(n);
  c.x.push_back(0);
  c.y.push_back(1);
  c.threshold.push_back(std::numeric_limits<double>::infinity());
  int64_t tp = 0, fp = 0;
  for (size_t g = 0; g < t.score.size(); ++g) {
    tp += t.pos[g];
    fp += t.neg[g];
    c.x.push_back(t.total_pos > 0 ? static_cast<double>(tp) / t.total_pos : 1.0);
    c.y.push_back(static_cast<double>(tp) /
                  static_cast<double>(tp + fp));  // tp + fp > 0: groups are non-empty
    c.threshold.push_back(t.score[g]);
  }
  return thin_curve(c, max_points);
}

Curve thin_curve(const Curve& c, int64_t max_points) {
  const int64_t n = static_cast<int64_t>(c.x.size());
  if (max_points <= 0 || n <= max_points) return c;
  max_points = std::max<int64_t>(max_points, 3);
  double total = 0;
  for (int64_t i = 1; i < n; ++i) total += std::hypot(c.x[i] - c.x[i - 1], c.y[i] - c.y[i - 1]);
  const double step = total / static_cast<double>(max_points - 2);
  Curve out;
  auto keep = [&](int64_t i) {
    out.x.push_back(c.x[i]);
    out.y.push_back(c.y[i]);
    out.threshold.push_back(c.threshold[i]);
  };
  keep(0);
  double walked = 0;
  for (int64_t i = 1; i + 1 < n; ++i) {
    walked += std::hypot(c.x[i] - c.x[i - 1], c.y[i] - c.y[i - 1]);
    if (step > 0 && walked >= step) {
      keep(i);
      walked = 0;
    }
  }
  keep(n - 1);
  return out;
}

double roc_auc(const torch::Tensor& scores, const torch::Tensor& labels) {
  return roc_auc(rank_table(scores, labels));
}
double average_precision(const torch::Tensor& scores, const torch::Tensor& labels) {
  return average_precision(rank_table(scores, labels));
}
Curve roc_curve(const torch::Tensor& scores, const torch::Tensor& labels, int64_t max_points) {
  return roc_curve(rank_table(scores, labels), max_points);
}
Curve pr_curve(const torch::Tensor& scores, const torch::Tensor& labels, int64_t max_points) {
  return pr_curve(rank_table(scores, labels), max_points);
}

}  // namespace vg
