#include "vesselgan/gan/lazy_regularization.h"

#include <cmath>

namespace vg {

torch::optim::AdamOptions lazy_adam_options(double lr, double beta1, double beta2, int64_t interval) {
  TORCH_CHECK(lr > 0 && beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "lazy_adam_options: lr ", lr,
              ", betas (", beta1, ", ", beta2, ")");
  const double c = interval > 0 ? static_cast<double>(interval) / static_cast<double>(interval + 1) : 1.0;
  return torch::optim::AdamOptions(lr * c).betas({std::pow(beta1, c), std::pow(beta2, c)}).eps(1e-8);
}

}  // namespace vg
