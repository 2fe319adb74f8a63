#include "vesselgan/gan/snapshot_metrics.h"

#include <cmath>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/eval/frechet.h"
#include "vesselgan/gan/sampler.h"

namespace vg {

namespace {

const auto kSnapshotMetricsFields = [](auto& o, auto&& field) {
  field("count", o.count, within(2, 100000, "2 to 100000 images"));
  field("truncation", o.truncation, within(0, 1, "0 to 1"));
  field("seed", o.seed);
  field("batch", o.batch, within(1, 4096, "1 to 4096"));
};

// Mean over pairs i < j of the distance between rows of x [N, D].
double mean_pairwise_distance(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  auto d = torch::cdist(x.unsqueeze(0), x.unsqueeze(0)).squeeze(0);
  return d.triu(1).sum().item<double>() / (static_cast<double>(n) * (n - 1) / 2);
}

// The edge-direction histogram of maps [N, H, W]: central-difference gradients, the direction folded into
// [0, 180) degrees, each pixel weighted by its squared magnitude; normalised (empty when there is no edge).
std::vector<double> orientation_histogram(const torch::Tensor& maps) {
  const auto m = maps.to(torch::kDouble).cpu();
  const int64_t h = m.size(1), w = m.size(2);
  const auto gx = (m.slice(2, 2, w) - m.slice(2, 0, w - 2)).slice(1, 1, h - 1);
  const auto gy = (m.slice(1, 2, h) - m.slice(1, 0, h - 2)).slice(2, 1, w - 1);
  const auto weight = (gx * gx + gy * gy).flatten();
  const auto angle = torch::atan2(gy, gx).flatten().remainder(M_PI);  // [0, pi)
  const auto bin = angle.mul(kOrientationBins / M_PI).floor().clamp(0, kOrientationBins - 1).to(torch::kLong);
  const auto hist = torch::zeros({kOrientationBins}, torch::kDouble).index_add_(0, bin, weight);
  const double total = hist.sum().item<double>();
  if (total <= 0) return {};
  std::vector<double> out(kOrientationBins);
  for (int64_t b = 0; b < kOrientationBins; ++b) out[static_cast<size_t>(b)] = hist[b].item<double>() / total;
  return out;
}

torch::Tensor features_of(const torch::Tensor& signed_images, FeatureNetwork& net, int64_t batch) {
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < signed_images.size(0); i += batch)
    out.push_back(net.features(feature_view(signed_images.slice(0, i, i + batch))));
  return torch::cat(out);
}

}  // namespace

void to_json(nlohmann::json& j, const SnapshotMetricsOptions& o) { j = fields_to_json(o, kSnapshotMetricsFields); }
void validate(const SnapshotMetricsOptions& o) { validate_fields("snapshot metrics", o, kSnapshotMetricsFields); }

torch::Tensor feature_view(const torch::Tensor& signed_images) {
  TORCH_CHECK(signed_images.dim() == 4, "feature_view: expected [N, C, R, R], got ", signed_images.sizes());
  const int64_t c = signed_images.size(1);
  TORCH_CHECK(c == 1 || c == 3 || c == 4, "feature_view: expected 1, 3 or 4 channels, got ", c);
  auto x = c == 1 ? signed_images.expand({-1, 3, -1, -1}) : signed_images.slice(1, 0, 3);
  return x.add(1).div(2).clamp(0, 1).to(torch::kFloat).cpu();
}

ImageSetStats image_set_stats(const torch::Tensor& images, const torch::Tensor& features, int64_t vessel_channel) {
  if (images.size(0) < 2 || features.size(0) != images.size(0))
    throw UserError("image set statistics need at least 2 images with one feature vector each (got " +
                    std::to_string(images.size(0)) + " images, " + std::to_string(features.size(0)) + " vectors)");
  ImageSetStats s;
  s.feature_spread = mean_pairwise_distance(features.to(torch::kDouble));
  const int64_t pixels = images[0].numel();
  s.pixel_spread = mean_pairwise_distance(images.flatten(1).to(torch::kDouble).cpu()) / std::sqrt(double(pixels));
  if (vessel_channel >= 0) {
    auto frac = images.select(1, vessel_channel).gt(0).to(torch::kDouble).mean({1, 2}).cpu();
    s.vessel_fraction = frac.mean().item<double>();
    auto q = torch::quantile(frac, torch::tensor({0.05, 0.95}, torch::kDouble));
    s.vessel_fraction_p05 = q[0].item<double>();
    s.vessel_fraction_p95 = q[1].item<double>();
    s.orientation = orientation_histogram(images.select(1, vessel_channel));
  }
  return s;
}

double orientation_distance(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty()) return 1;  // one set has no edges: nothing alike
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += std::abs(a[i] - b[i]);
  return d / 2;
}

void to_json(nlohmann::json& j, const ImageSetStats& s) {
  j = {{"feature_spread", s.feature_spread}, {"pixel_spread", s.pixel_spread}};
  if (s.vessel_fraction >= 0)
    j.update({{"vessel_fraction", s.vessel_fraction},
              {"vessel_fraction_p05", s.vessel_fraction_p05},
              {"vessel_fraction_p95", s.vessel_fraction_p95},
              {"orientation", s.orientation}});
}

namespace {
int64_t vessel_channel_of(int64_t channels) { return channels == 1 ? 0 : channels == 4 ? 3 : -1; }
}  // namespace

RealReference real_reference(const torch::Tensor& real_a, const torch::Tensor& real_b, FeatureNetwork& net,
                             int64_t batch) {
  RealReference r;
  r.features_a = features_of(real_a, net, batch);
  r.features_b = features_of(real_b, net, batch);
  r.stats_a = image_set_stats(real_a, r.features_a, vessel_channel_of(real_a.size(1)));
  r.floor_fd = frechet_distance(gaussian_stats(r.features_a), gaussian_stats(r.features_b));
  const int64_t vc = vessel_channel_of(real_b.size(1));
  if (vc >= 0)
    r.floor_orientation = orientation_distance(r.stats_a.orientation, orientation_histogram(real_b.select(1, vc)));
  return r;
}

nlohmann::json snapshot_metrics(const LoadedGenerator& g, const RealReference& real, FeatureNetwork& net,
                                const SnapshotMetricsOptions& o, const torch::Device& device) {
  validate(o);
  if (!g.G) throw UserError("snapshot metrics need a StyleGAN2 generator (" + g.path.string() + " holds none)");
  std::vector<torch::Tensor> parts;
  Generator G = g.G;
  for (int64_t i = 0; i < o.count; i += o.batch)
    parts.push_back(sample_images(G, i, std::min(o.batch, o.count - i), o.truncation, o.seed, device).cpu());
  const auto fakes = torch::cat(parts);
  const auto features = features_of(fakes, net, o.batch);
  const ImageSetStats fake = image_set_stats(fakes, features, vessel_channel_of(fakes.size(1)));
  nlohmann::json row = {
      {"kimg", g.state.value("kimg", 0.0)},
      {"fd", frechet_distance(gaussian_stats(real.features_a), gaussian_stats(features))},
      {"fd_floor", real.floor_fd},
      {"diversity_features", fake.feature_spread / real.stats_a.feature_spread},
      {"diversity_pixels", fake.pixel_spread / real.stats_a.pixel_spread},
      {"fake", fake},
      {"real", real.stats_a},
      {"feature_network", net.name()},
      {"count", o.count}};
  if (fake.vessel_fraction >= 0 && real.floor_orientation >= 0) {
    row["orientation_distance"] = orientation_distance(fake.orientation, real.stats_a.orientation);
    row["orientation_floor"] = real.floor_orientation;
  }
  return row;
}

}  // namespace vg
