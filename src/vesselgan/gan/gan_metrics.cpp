#include "vesselgan/gan/gan_metrics.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "vesselgan/core/error.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/dataset.h"
#include "vesselgan/io/image_io.h"

namespace vg {
namespace {

namespace fs = std::filesystem;


// Features of `count` images delivered by `image(i)` ([3, H, W] float in [0, 1]), batched by `batch`
// consecutive images of equal size -> [count, D] float on the CPU.
template <class ImageFn>
torch::Tensor extract_features(FeatureNetwork& net, int64_t count, int64_t batch, ImageFn image,
                               const std::string& stage, const ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<torch::Tensor> feats, pending;
  int64_t done = 0;
  auto flush = [&] {
    if (pending.empty()) return;
    const auto f = net.features(torch::stack(pending));
    TORCH_CHECK(f.dim() == 2 && f.size(0) == static_cast<int64_t>(pending.size()), net.name(),
                ": features must be [N, D] for N = ", pending.size(), " images, got ", f.sizes());
    feats.push_back(f.to(torch::kCPU, torch::kFloat));
    done += static_cast<int64_t>(pending.size());
    pending.clear();
    if (progress) {
      Progress p;
      p.stage = stage;
      p.unit = "image";
      p.done = done;
      p.total = count;
      p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      progress(p);
    }
  };
  for (int64_t i = 0; i < count; ++i) {
    torch::Tensor img = image(i);
    if (!pending.empty() &&
        (img.sizes() != pending.front().sizes() || static_cast<int64_t>(pending.size()) >= batch))
      flush();
    pending.push_back(std::move(img));
  }
  flush();
  return feats.empty() ? torch::Tensor() : torch::cat(feats, 0);
}

void check_count(int64_t n, const std::string& what) {
  if (n < 2)
    throw UserError(
        what + ": " + std::to_string(n) +
        " image(s) are too few for FID / KID (valid: at least 2 per side; thousands for stable scores)");
}

}  // namespace

std::vector<fs::path> list_image_files(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UserError(what + " images: folder " + dir.string() +
                    " does not exist (expected a folder of images or a data set root)");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code ec_file;
    if (p.filename().string().rfind('.', 0) == 0 || !it->is_regular_file(ec_file) || !has_image_extension(p))
      continue;
    files.push_back(p);
  }
  if (ec) throw UserError(what + " images: cannot list folder " + dir.string() + ": " + ec.message());
  if (!files.empty()) {
    std::sort(files.begin(), files.end());
    return files;
  }
  DatasetFiles data;
  try {
    data = find_dataset(dir, "all");
  } catch (const UserError& e) {
    throw UserError(what + " images: no image files (.png, .jpg, .tif, ...) in " + dir.string() +
                    " and no data set there (" + e.what() + ")");
  }
  for (const auto& s : data.samples) files.push_back(s.image);
  return files;
}

namespace {

const auto kMetricsFields = [](auto& o, auto&& field) {
  field("features", o.features);
  field("max_images", o.max_images, at_least(2, ">= 2"));
  field("batch", o.batch, within(1, 4096, "1..4096"));
  field("kid_subsets", o.kid_subsets, at_least(1, ">= 1"));
  field("kid_subset_size", o.kid_subset_size, at_least(2, ">= 2"));
  field("seed", o.seed);
};

}  // namespace

void to_json(nlohmann::json& j, const GanMetricsOptions& o) { j = fields_to_json(o, kMetricsFields); }
void from_json(const nlohmann::json& j, GanMetricsOptions& o) {
  fields_from_json(j, "gan_metrics", o, kMetricsFields);
}
void validate(const GanMetricsOptions& o) { validate_fields("gan_metrics", o, kMetricsFields); }

void to_json(nlohmann::json& j, const GanMetrics& m) {
  j = {{"fid", m.fid},
       {"kid",
        {{"mean", m.kid.mean},
         {"std", m.kid.std},
         {"subsets", m.kid.subsets},
         {"subset_size", m.kid.subset_size}}},
       {"feature_network", m.feature_network},
       {"real_count", m.real_count},
       {"fake_count", m.fake_count}};
}

std::string to_string(const GanMetrics& m) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "FID %.4g, KID %.4g \xC2\xB1 %.2g (%lld subsets of %lld), features %s, %lld real / %lld fake",
                m.fid, m.kid.mean, m.kid.std, static_cast<long long>(m.kid.subsets),
                static_cast<long long>(m.kid.subset_size), m.feature_network.c_str(),
                static_cast<long long>(m.real_count), static_cast<long long>(m.fake_count));
  return buf;
}

GanMetrics gan_metrics_from_features(const torch::Tensor& real_features, const torch::Tensor& fake_features,
                                     const std::string& network, const GanMetricsOptions& o) {
  validate(o);
  check_count(real_features.defined() ? real_features.size(0) : 0, "real images");
  check_count(fake_features.defined() ? fake_features.size(0) : 0, "fake images");
  GanMetrics m;
  m.feature_network = network;
  m.real_count = real_features.size(0);
  m.fake_count = fake_features.size(0);
  m.fid = frechet_distance(gaussian_stats(real_features), gaussian_stats(fake_features));
  m.kid = kernel_inception_distance(real_features, fake_features, o.kid_subsets, o.kid_subset_size, o.seed);
  return m;
}

GanMetrics compute_gan_metrics(const torch::Tensor& real, const torch::Tensor& fake, FeatureNetwork& net,
                               const GanMetricsOptions& o) {
  // real: [N, 3, H, W], fake: [M, 3, H', W'], float in [0, 1]
  validate(o);
  TORCH_CHECK(real.defined() && real.dim() == 4 && real.size(1) == 3,
              "compute_gan_metrics: real must be [N, 3, H, W], got ",
              real.defined() ? real.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(fake.defined() && fake.dim() == 4 && fake.size(1) == 3,
              "compute_gan_metrics: fake must be [N, 3, H, W], got ",
              fake.defined() ? fake.sizes() : torch::IntArrayRef{});
  auto features = [&](const torch::Tensor& images, const std::string& what) {
    const int64_t n = std::min(images.size(0), o.max_images);
    check_count(n, what);
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < n; i += o.batch)
      parts.push_back(net.features(images.slice(0, i, std::min(n, i + o.batch))));
    return torch::cat(parts, 0);
  };
  const torch::Tensor fr = features(real, "real images"), ff = features(fake, "fake images");
  return gan_metrics_from_features(fr, ff, net.name(), o);
}

GanMetrics compute_gan_metrics(const fs::path& real, const fs::path& fake, const GanMetricsOptions& o,
                               const torch::Device& device, const ProgressFn& progress) {
  validate(o);
  // List both sides before any network is loaded or image read, so a typo fails fast.
  std::vector<fs::path> real_files = list_image_files(real, "real"), fake_files = list_image_files(fake, "fake");
  check_count(std::min<int64_t>(static_cast<int64_t>(real_files.size()), o.max_images), "real images in " + real.string());
  check_count(std::min<int64_t>(static_cast<int64_t>(fake_files.size()), o.max_images), "fake images in " + fake.string());
  return compute_gan_metrics(std::move(real_files), std::move(fake_files), o, device, progress);
}

GanMetrics compute_gan_metrics(std::vector<fs::path> real_files, std::vector<fs::path> fake_files,
                               const GanMetricsOptions& o, const torch::Device& device, const ProgressFn& progress) {
  validate(o);
  for (auto* files : {&real_files, &fake_files})
    if (static_cast<int64_t>(files->size()) > o.max_images) files->resize(o.max_images);
  check_count(static_cast<int64_t>(real_files.size()), "real images");
  check_count(static_cast<int64_t>(fake_files.size()), "fake images");
  const std::unique_ptr<FeatureNetwork> net = make_feature_network(o.features, device);
  auto side = [&](const std::vector<fs::path>& files, const std::string& stage) {
    auto image = [&files](int64_t i) {
      torch::Tensor px = read_image(files[i]).pixels;  // [C, H, W], C = 1 or 3
      return px.size(0) == 1 ? px.expand({3, -1, -1}).contiguous() : px;
    };
    return extract_features(*net, static_cast<int64_t>(files.size()), o.batch, image, stage, progress);
  };
  const torch::Tensor fr = side(real_files, "real"), ff = side(fake_files, "fake");
  return gan_metrics_from_features(fr, ff, net->name(), o);
}

}  // namespace vg
