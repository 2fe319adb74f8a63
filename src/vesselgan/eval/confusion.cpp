#include "vesselgan/eval/confusion.h"

#include <cmath>
#include <string>

namespace vg {

Confusion& Confusion::operator+=(const Confusion& o) {
  tp += o.tp;
  fp += o.fp;
  tn += o.tn;
  fn += o.fn;
  return *this;
}

Confusion operator+(Confusion a, const Confusion& b) { return a += b; }

bool operator==(const Confusion& a, const Confusion& b) {
  return a.tp == b.tp && a.fp == b.fp && a.tn == b.tn && a.fn == b.fn;
}

namespace detail {

torch::Tensor as_hw(const torch::Tensor& t, const char* name) {
  TORCH_CHECK(t.defined(), name, " is an undefined tensor");
  TORCH_CHECK(t.device().is_cpu(), name, " must be a CPU tensor, got ", t.device());
  TORCH_CHECK(t.dim() == 2 || (t.dim() == 3 && t.size(0) == 1), name, " must be [H, W] or [1, H, W], got ",
              t.sizes());
  return (t.dim() == 3 ? t[0] : t).contiguous();
}

torch::Tensor as_binary_hw(const torch::Tensor& t, const char* name) {
  torch::Tensor hw = as_hw(t, name);
  if (hw.scalar_type() == torch::kBool) return hw;
  return hw.gt(0.5).contiguous();
}

torch::Tensor as_prob_hw(const torch::Tensor& prob) {
  torch::Tensor p = as_hw(prob, "prob");
  TORCH_CHECK(p.is_floating_point(), "prob must be a floating tensor, got ", p.scalar_type());
  p = p.to(torch::kFloat).contiguous();
  const float* pp = p.data_ptr<float>();
  const int64_t n = p.numel();
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += !(pp[i] >= 0.0f && pp[i] <= 1.0f);  // NaN fails too
  if (bad > 0) {
    const torch::Tensor finite = p.masked_select(p.isnan().logical_not());
    TORCH_CHECK(false, "prob must lie in [0, 1] (no NaN); got min ",
                finite.numel() ? finite.min().item<float>() : NAN, ", max ",
                finite.numel() ? finite.max().item<float>() : NAN, ", NaN count ",
                p.isnan().sum().item<int64_t>());
  }
  return p;
}

}  // namespace detail

torch::Tensor binarize(const torch::Tensor& prob, double threshold) {
  const torch::Tensor p = detail::as_prob_hw(prob);
  torch::Tensor out = torch::empty(p.sizes(), torch::kBool);
  const float* pp = p.data_ptr<float>();
  bool* op = out.data_ptr<bool>();
  const int64_t n = p.numel();
  for (int64_t i = 0; i < n; ++i) op[i] = static_cast<double>(pp[i]) >= threshold;
  return out;
}

Confusion confusion_at(const torch::Tensor& prob, const torch::Tensor& label, const torch::Tensor& mask,
                       double threshold) {
  const torch::Tensor p = detail::as_prob_hw(prob);
  const torch::Tensor l = detail::as_binary_hw(label, "label");
  TORCH_CHECK(p.sizes() == l.sizes(), "prob ", p.sizes(), " and label ", l.sizes(), " differ in size");
  torch::Tensor m;
  if (mask.defined()) {
    m = detail::as_binary_hw(mask, "mask");
    TORCH_CHECK(p.sizes() == m.sizes(), "prob ", p.sizes(), " and mask ", m.sizes(), " differ in size");
  }
  const float* pp = p.data_ptr<float>();
  const bool* lp = l.data_ptr<bool>();
  const bool* mp = m.defined() ? m.data_ptr<bool>() : nullptr;
  // Compare in double so that e.g. threshold 0.5 and prob 0.5f give the documented ">=" exactly.
  const int64_t n = p.numel();
  int64_t counts[4] = {0, 0, 0, 0};  // index = 2 * predicted + truth: tn, fn, fp, tp
  for (int64_t i = 0; i < n; ++i) {
    if (mp != nullptr && !mp[i]) continue;
    const int pred = static_cast<double>(pp[i]) >= threshold ? 1 : 0;
    ++counts[2 * pred + (lp[i] ? 1 : 0)];
  }
  Confusion c;
  c.tn = counts[0];
  c.fn = counts[1];
  c.fp = counts[2];
  c.tp = counts[3];
  return c;
}

}  // namespace vg
