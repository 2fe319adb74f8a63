#include "vesselgan/eval/cldice.h"

#include <vector>

#include "vesselgan/eval/confusion.h"
#include "vesselgan/eval/skeleton.h"

namespace vg {

ClDiceCounts& ClDiceCounts::operator+=(const ClDiceCounts& o) {
  pred_skeleton += o.pred_skeleton;
  pred_skeleton_in_label += o.pred_skeleton_in_label;
  label_skeleton += o.label_skeleton;
  label_skeleton_in_pred += o.label_skeleton_in_pred;
  return *this;
}

ClDiceCounts cldice_counts(const torch::Tensor& pred, const torch::Tensor& label, const torch::Tensor& mask) {
  const torch::Tensor p = detail::as_binary_hw(pred, "pred");
  const torch::Tensor l = detail::as_binary_hw(label, "label");
  TORCH_CHECK(p.sizes() == l.sizes(), "cldice: pred ", p.sizes(), " and label ", l.sizes(),
              " differ in size");
  torch::Tensor m;
  if (mask.defined()) {
    m = detail::as_binary_hw(mask, "mask");
    TORCH_CHECK(p.sizes() == m.sizes(), "cldice: pred ", p.sizes(), " and mask ", m.sizes(),
                " differ in size");
  }
  // Plain loops over byte buffers: this runs per image inside evaluate(), where many small torch ops
  // would cost more than the work.
  const int64_t h = p.size(0), w = p.size(1), n = h * w;
  const bool* pp = p.data_ptr<bool>();
  const bool* lp = l.data_ptr<bool>();
  const bool* mp = m.defined() ? m.data_ptr<bool>() : nullptr;
  std::vector<uint8_t> sp(n), sl(n);  // P ∧ M and L ∧ M, then their skeletons
  for (int64_t i = 0; i < n; ++i) {
    const bool in = mp == nullptr || mp[i];
    sp[i] = in && pp[i];
    sl[i] = in && lp[i];
  }
  skeletonize_inplace(sp.data(), h, w);
  skeletonize_inplace(sl.data(), h, w);
  ClDiceCounts c;
  for (int64_t i = 0; i < n; ++i) {  // skeletons lie inside M, so "∩ L" is "∩ (L ∧ M)"
    c.pred_skeleton += sp[i];
    c.pred_skeleton_in_label += sp[i] && lp[i];
    c.label_skeleton += sl[i];
    c.label_skeleton_in_pred += sl[i] && pp[i];
  }
  return c;
}

double topology_precision(const ClDiceCounts& c) {
  if (c.pred_skeleton == 0) return c.label_skeleton == 0 ? 1.0 : 0.0;
  return static_cast<double>(c.pred_skeleton_in_label) / static_cast<double>(c.pred_skeleton);
}

double topology_sensitivity(const ClDiceCounts& c) {
  if (c.label_skeleton == 0) return c.pred_skeleton == 0 ? 1.0 : 0.0;
  return static_cast<double>(c.label_skeleton_in_pred) / static_cast<double>(c.label_skeleton);
}

double cldice(const ClDiceCounts& c) {
  const double tp = topology_precision(c), ts = topology_sensitivity(c);
  return tp + ts > 0 ? 2 * tp * ts / (tp + ts) : 0.0;
}

double cldice(const torch::Tensor& pred, const torch::Tensor& label, const torch::Tensor& mask) {
  return cldice(cldice_counts(pred, label, mask));
}

}  // namespace vg
