#include "vesselgan/eval/temperature.h"

#include <cmath>

#include "vesselgan/core/error.h"

namespace vg {

void to_json(nlohmann::json& j, const TemperatureFit& f) {
  j = {{"temperature", f.temperature}, {"nll_before", f.nll_before}, {"nll_after", f.nll_after}, {"pixels", f.pixels}};
}

namespace {

constexpr double kEps = 1e-7;

torch::Tensor clamped_logit(const torch::Tensor& p) {
  const torch::Tensor q = p.to(torch::kDouble).clamp(kEps, 1 - kEps);
  return torch::log(q) - torch::log1p(-q);
}

// Mean binary NLL of sigmoid(z / T) against y: softplus(z/T) - y z/T, computed stably.
double nll(const torch::Tensor& z, const torch::Tensor& y, double temperature) {
  const torch::Tensor s = z / temperature;
  return (torch::nn::functional::softplus(s) - y * s).mean().item<double>();
}

}  // namespace

TemperatureFit fit_temperature(const torch::Tensor& prob, const torch::Tensor& truth) {
  TORCH_CHECK(prob.numel() == truth.numel(), "fit_temperature: ", prob.numel(), " probabilities for ",
              truth.numel(), " labels");
  TemperatureFit f;
  f.pixels = prob.numel();
  if (f.pixels == 0) throw UserError("temperature scaling needs pixels to fit on, got none");
  const torch::Tensor z = clamped_logit(prob.reshape({-1}).cpu());
  const torch::Tensor y = truth.reshape({-1}).cpu().to(torch::kDouble);
  const double positives = y.sum().item<double>();
  if (positives == 0 || positives == static_cast<double>(f.pixels))
    throw UserError("temperature scaling needs vessel and background pixels, got only " +
                    std::string(positives == 0 ? "background" : "vessel"));
  // Golden-section search on u = log T.
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(0.05), b = std::log(20.0);
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = nll(z, y, std::exp(c)), fd = nll(z, y, std::exp(d));
  for (int i = 0; i < 60 && b - a > 1e-6; ++i) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - phi * (b - a);
      fc = nll(z, y, std::exp(c));
    } else {
      a = c, c = d, fc = fd;
      d = a + phi * (b - a);
      fd = nll(z, y, std::exp(d));
    }
  }
  f.temperature = std::exp((a + b) / 2);
  f.nll_before = nll(z, y, 1.0);
  f.nll_after = nll(z, y, f.temperature);
  return f;
}

torch::Tensor apply_temperature(const torch::Tensor& prob, double temperature) {
  TORCH_CHECK(temperature > 0 && std::isfinite(temperature), "apply_temperature: T must be positive, got ",
              temperature);
  if (temperature == 1) return prob;
  return torch::sigmoid(clamped_logit(prob) / temperature).to(prob.scalar_type());
}

}  // namespace vg
