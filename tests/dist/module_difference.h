// Comparing the networks that two runs ended with, for the data-parallel equivalence tests.
#pragma once
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>

namespace vg::test {

// The largest difference between two modules' parameters and buffers (paired by name), relative to the largest
// magnitude of each tensor, and the name of the tensor where it lies.
inline std::pair<double, std::string> largest_relative_difference(const torch::nn::Module& a,
                                                                  const torch::nn::Module& b) {
  std::pair<double, std::string> worst{0.0, ""};
  auto check = [&](const std::string& name, const torch::Tensor& x, const torch::Tensor& y) {
    const torch::Tensor xd = x.to(torch::kDouble), yd = y.to(torch::kDouble);
    const double scale = std::max(xd.abs().max().item<double>(), 1e-6);
    const double d = (xd - yd).abs().max().item<double>() / scale;
    if (d >= worst.first) worst = {d, name};
  };
  const auto pb = b.named_parameters(), bb = b.named_buffers();
  for (const auto& p : a.named_parameters()) check(p.key(), p.value(), pb[p.key()]);
  for (const auto& p : a.named_buffers()) check(p.key(), p.value(), bb[p.key()]);
  return worst;
}

}  // namespace vg::test
