#include "vesselgan/seg/model_input.h"

#include <cmath>

#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/clahe.h"
#include "vesselgan/data/fov.h"

namespace vg {

namespace {

const auto kInputFields = [](auto& o, auto&& field) {
  field("resize", o.resize, rule([](int64_t r) { return r == 0 || (r >= 16 && r <= 8192); }, "0 or 16..8192"));
  field("pad_to", o.pad_to, within(0, 16384, "0 or a canvas side up to 16384"));
  field("enhance", o.enhance, one_of({"none", "green-clahe"}));
  field("clahe_clip", o.clahe_clip, within(1, 1000, "a clip limit in 1..1000"));
  field("clahe_tile", o.clahe_tile, within(8, 1024, "a tile side of 8..1024 px"));
};

}  // namespace

void to_json(nlohmann::json& j, const InputOptions& o) {
  j = fields_to_json(o, kInputFields);
  if (o.enhance == "none") {
    for (const char* key : {"enhance", "clahe_clip", "clahe_tile"}) j.erase(key);
  }
}
void from_json(const nlohmann::json& j, InputOptions& o) { fields_from_json(j, "input", o, kInputFields); }
void validate(const InputOptions& o) { validate_fields("input", o, kInputFields); }

bool same_geometry(const InputOptions& a, const InputOptions& b) {
  return a.resize == b.resize && a.pad_to == b.pad_to;
}

torch::Tensor enhance_image(const torch::Tensor& image, const InputOptions& opt) {
  if (opt.enhance == "none") return image;
  TORCH_CHECK(opt.enhance == "green-clahe", "enhance_image: unknown enhance '", opt.enhance, "'");
  TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "enhance_image expects a photograph [3, H, W], got ",
              image.sizes());
  return clahe(image.select(0, 1), opt.clahe_clip, opt.clahe_tile).unsqueeze(0).expand({3, -1, -1}).contiguous();
}

torch::Tensor fit_to_canvas(const torch::Tensor& x, const InputOptions& opt, int64_t multiple, FitInfo* info,
                            bool nearest) {
  TORCH_CHECK(x.dim() == 3, "fit_to_canvas expects [C, H, W], got ", x.sizes());
  FitInfo fi;
  fi.orig_h = x.size(1);
  fi.orig_w = x.size(2);
  torch::Tensor y = x;
  if (opt.resize > 0 && std::max(fi.orig_h, fi.orig_w) != opt.resize) {
    const double s = static_cast<double>(opt.resize) / static_cast<double>(std::max(fi.orig_h, fi.orig_w));
    const int64_t h = std::max<int64_t>(1, std::llround(fi.orig_h * s));
    const int64_t w = std::max<int64_t>(1, std::llround(fi.orig_w * s));
    y = resize_to(y, h, w, nearest);
  }
  fi.res_h = y.size(1);
  fi.res_w = y.size(2);
  int64_t ch = round_up(fi.res_h, multiple), cw = round_up(fi.res_w, multiple);
  if (opt.pad_to > 0 && opt.pad_to >= fi.res_h && opt.pad_to >= fi.res_w) ch = cw = round_up(opt.pad_to, multiple);
  y = pad_center(y, ch, cw, &fi.pad);
  if (info) *info = fi;
  return y;
}

torch::Tensor map_back(const torch::Tensor& p, const FitInfo& info) {
  TORCH_CHECK(p.dim() == 3, "map_back expects [C, H, W], got ", p.sizes());
  torch::Tensor y = crop_back(p, info.pad);
  if (info.res_h != info.orig_h || info.res_w != info.orig_w) y = resize_to(y, info.orig_h, info.orig_w);
  return y;
}

double fov_scale(double fov_diameter, double target) {
  if (!(target > 0) || !(fov_diameter > 0)) return 1.0;
  const double s = target / fov_diameter;
  return std::abs(s - 1.0) < 0.02 ? 1.0 : s;
}

bool fov_cut_by_frame(const torch::Tensor& mask) {
  const auto m = mask.reshape({mask.size(-2), mask.size(-1)}).gt(0.5);
  return m.select(0, 0).any().item<bool>() && m.select(0, m.size(0) - 1).any().item<bool>() &&
         m.select(1, 0).any().item<bool>() && m.select(1, m.size(1) - 1).any().item<bool>();
}

double training_fov_diameter(const std::vector<Sample>& train, const InputOptions& input) {
  double sum = 0;
  int64_t n = 0;
  for (const auto& s : train) {
    TORCH_CHECK(s.mask.defined() && s.mask.dim() == 3, "training_fov_diameter: sample ", s.id, " has no mask [1, H, W]");
    if (fov_cut_by_frame(s.mask)) continue;
    const double longer = static_cast<double>(std::max(s.mask.size(1), s.mask.size(2)));
    const double resize = input.resize > 0 ? static_cast<double>(input.resize) / longer : 1.0;
    sum += fov_diameter(s.mask) * resize;
    ++n;
  }
  return n == 0 ? 0 : sum / static_cast<double>(n);
}

}  // namespace vg
