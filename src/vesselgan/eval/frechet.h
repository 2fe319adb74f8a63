// Distances between two sets of feature vectors, the standard scores of generative models: the Frechet
// distance between Gaussians fitted to each set (FID when the features are Inception's; Heusel et al. 2017,
// "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", eq. 6) and the kernel
// distance (KID; Binkowski et al. 2018, "Demystifying MMD GANs", sec. 4 and eq. 1). Pure math on CPU
// doubles; the feature network that produced the vectors lives elsewhere (gan/feature_network.h).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace vg {

// A Gaussian fitted to N feature vectors: mean [D] and unbiased covariance [D, D] (divided by N - 1),
// float64 on the CPU.
struct GaussianStats {
  torch::Tensor mu;
  torch::Tensor sigma;
  int64_t count = 0;
};

// features: [N, D] any float dtype and device, N >= 2 (UserError otherwise: a covariance needs two samples).
GaussianStats gaussian_stats(const torch::Tensor& features);

// Squared Frechet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) (Heusel 2017, eq. 6):
//   ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}).
// tr((S1 S2)^{1/2}) is the sum of the square roots of the eigenvalues of the symmetric positive
// semi-definite sqrt(S1) S2 sqrt(S1) (similar to S1 S2), from symmetric eigendecompositions in float64
// with round-off negatives clamped to 0, so singular covariances (N <= D) are fine. Clamped at 0.
double frechet_distance(const GaussianStats& a, const GaussianStats& b);

struct KidResult {
  double mean = 0, std = 0;  // over the subsets; std with Bessel's correction, 0 for one subset
  int64_t subsets = 0, subset_size = 0;
};

// Kernel Inception distance (Binkowski 2018): the unbiased estimate of MMD^2 with the cubic polynomial
// kernel k(x, y) = (x.y / D + 1)^3,
//   MMD^2_u = sum_{i != j} [k(x_i, x_j) + k(y_i, y_j)] / (m (m - 1)) - 2 sum_{i,j} k(x_i, y_j) / m^2,
// averaged over `subsets` random subsets of m = min(subset_size, N_a, N_b) rows drawn without replacement
// from each set. a: [N_a, D], b: [N_b, D], any float dtype and device. Deterministic for a seed (its own
// std::mt19937_64, never the global torch generator). UserError when m < 2, D differs, or subsets < 1.
// Unbiased, so it can be slightly negative when the two distributions are equal.
KidResult kernel_inception_distance(const torch::Tensor& a, const torch::Tensor& b, int64_t subsets = 100,
                                    int64_t subset_size = 1000, uint64_t seed = 0);

}  // namespace vg
