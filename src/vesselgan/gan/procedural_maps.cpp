#include "vesselgan/gan/procedural_maps.h"

#include "vesselgan/core/error.h"
#include "vesselgan/core/rng.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/phantom.h"
#include "vesselgan/gan/gan_data.h"

namespace vg {

namespace {

const auto kMapFields = [](auto& o, auto&& field) {
  field("photo_size", o.photo_size, within(64, 4096, "64 to 4096"));
  field("vessel_bias", o.vessel_bias, within(0, 1, "0 to 1"));
  field("vessel_fraction", o.vessel_fraction, rule([](double f) { return f > 0 && f <= 0.4; }, "(0, 0.4]"));
};

}  // namespace

void to_json(nlohmann::json& j, const ProceduralMapOptions& o) { j = fields_to_json(o, kMapFields); }
void from_json(const nlohmann::json& j, ProceduralMapOptions& o) {
  fields_from_json(j, "procedural_maps", o, kMapFields);
}
void validate(const ProceduralMapOptions& o) { validate_fields("procedural_maps", o, kMapFields); }

namespace {

// One crop of one phantom's label: [1, size, size] in {0, 1}.
torch::Tensor one_map(uint64_t seed, int64_t size, const ProceduralMapOptions& o) {
  PhantomOptions po;
  po.size = o.photo_size;
  po.vessel_fraction = o.vessel_fraction;
  const PhantomSample p = make_phantom(po, seed);
  const int64_t stride = std::max<int64_t>(1, size / 16);
  auto pool = [&](const torch::Tensor& t) {
    return torch::avg_pool2d(t.unsqueeze(0), {size, size}, {stride, stride}).squeeze(0).squeeze(0);
  };
  const auto inside = pool(p.mask).ge(1 - 1e-6);
  const auto where = inside.nonzero();  // [P, 2] pooled (row, col)
  TORCH_CHECK(where.size(0) > 0, "procedural_vessel_maps: no ", size, " px crop inside a ", o.photo_size,
              " px phantom's FOV");
  const auto w = vessel_biased_weights(pool(p.label).index({inside}), o.vessel_bias);
  auto gen = at::detail::createCPUGenerator(mix_seed(seed ^ 0x63726f70ULL));
  const int64_t k = torch::multinomial(w, 1, false, gen).item<int64_t>();
  const int64_t top = where[k][0].item<int64_t>() * stride, left = where[k][1].item<int64_t>() * stride;
  auto crop = p.label.slice(1, top, top + size).slice(2, left, left + size);
  if (torch::rand({1}, gen).item<double>() < 0.5) crop = crop.flip({2});
  return crop.contiguous();
}

}  // namespace

torch::Tensor procedural_vessel_maps(uint64_t seed, int64_t first, int64_t n, int64_t size,
                                     const ProceduralMapOptions& o) {
  validate(o);
  TORCH_CHECK(n >= 1 && first >= 0 && size >= 8 && size <= o.photo_size / 2,
              "procedural_vessel_maps: need n >= 1, first >= 0 and 8 <= size <= photo_size / 2, got n=", n,
              " first=", first, " size=", size);
  std::vector<torch::Tensor> maps;
  for (int64_t i = first; i < first + n; ++i)
    maps.push_back(one_map(mix_seed(mix_seed(seed ^ 0x7472656573ULL) ^ static_cast<uint64_t>(i)), size, o));
  return torch::stack(maps).mul(2).sub(1);
}

}  // namespace vg
