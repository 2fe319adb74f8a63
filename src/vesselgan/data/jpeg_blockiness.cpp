#include "vesselgan/data/jpeg_blockiness.h"

#include <algorithm>
#include <vector>

namespace vg {

namespace {

constexpr int64_t kBlock = 8;

// Along dim (1: rows, 2: columns) of luma [1, H, W]: the largest ratio over the 8 grid offsets of the mean step
// across a grid line to the mean step elsewhere, steps counted where both pixels lie in `inside`. 0 when the
// axis is shorter than two blocks or has no steps on one side.
double axis_blockiness(const torch::Tensor& luma, const torch::Tensor& inside, int64_t dim) {
  const int64_t n = luma.size(dim);
  if (n < 2 * kBlock) return 0;
  const auto step = (luma.narrow(dim, 1, n - 1) - luma.narrow(dim, 0, n - 1)).abs();
  const auto both = (inside.narrow(dim, 1, n - 1) * inside.narrow(dim, 0, n - 1)).to(torch::kDouble);
  // Per position along the axis (the step between pixel k and k + 1): summed steps and counts.
  std::vector<int64_t> other;
  for (int64_t d = 0; d < 3; ++d)
    if (d != dim) other.push_back(d);
  const auto sums = (step.to(torch::kDouble) * both).sum(other);
  const auto counts = both.sum(other);
  double sum_by_offset[kBlock] = {0}, count_by_offset[kBlock] = {0};
  const auto s = sums.accessor<double, 1>();
  const auto c = counts.accessor<double, 1>();
  for (int64_t k = 0; k < n - 1; ++k) {
    sum_by_offset[(k + 1) % kBlock] += s[k];  // the step between k and k + 1 crosses a line at offset (k + 1) % 8
    count_by_offset[(k + 1) % kBlock] += c[k];
  }
  double total_sum = 0, total_count = 0;
  for (int64_t o = 0; o < kBlock; ++o) {
    total_sum += sum_by_offset[o];
    total_count += count_by_offset[o];
  }
  double best = 0;
  for (int64_t o = 0; o < kBlock; ++o) {
    const double on_count = count_by_offset[o], off_count = total_count - on_count;
    const double off_sum = total_sum - sum_by_offset[o];
    if (on_count == 0 || off_count == 0 || off_sum <= 0) continue;
    best = std::max(best, (sum_by_offset[o] / on_count) / (off_sum / off_count));
  }
  return best;
}

}  // namespace

double jpeg_blockiness(const torch::Tensor& image, const torch::Tensor& fov) {
  TORCH_CHECK(image.dim() == 3 && (image.size(0) == 3 || image.size(0) == 1),
              "jpeg_blockiness expects an image [3, H, W] or [1, H, W], got ", image.sizes());
  TORCH_CHECK(!fov.defined() || (fov.dim() == 3 && fov.size(0) == 1 && fov.size(1) == image.size(1) &&
                                 fov.size(2) == image.size(2)),
              "jpeg_blockiness: FOV mask ", fov.sizes(), " does not fit the image ", image.sizes());
  torch::NoGradGuard no_grad;
  const auto x = image.to(torch::kCPU, torch::kFloat);
  // JPEG codes luma in its own blocks (ITU-R BT.601 weights, as JPEG's colour transform).
  const auto luma = x.size(0) == 3 ? (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0) : x;
  const auto inside = fov.defined() ? (fov.to(torch::kCPU, torch::kFloat) > 0.5).to(torch::kFloat)
                                    : torch::ones_like(luma);
  double sum = 0;
  int axes = 0;
  for (int64_t dim : {1, 2}) {
    const double b = axis_blockiness(luma, inside, dim);
    if (b > 0) {
      sum += b;
      ++axes;
    }
  }
  return axes == 0 ? 1.0 : sum / axes;
}

}  // namespace vg
