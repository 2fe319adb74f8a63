#include "vesselgan/seg/pseudo_label.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "vesselgan/core/error.h"
#include "vesselgan/core/files.h"
#include "vesselgan/core/option_fields.h"
#include "vesselgan/data/fov.h"
#include "vesselgan/io/image_io.h"

namespace vg {

namespace {

const auto kPseudoLabelFields = [](auto& o, auto&& field) {
  field("mode", o.mode, one_of({"hard", "soft"}));
  field("tta", o.tta);
  field("fov_diameter", o.fov_diameter,
        rule([](double d) { return d == -1 || d >= 0; },
             "-1 (the model's training scale), 0 (native) or a diameter > 0 in pixels"));
  field("min_confidence", o.min_confidence, within(0, 1, "0 <= min_confidence <= 1"));
  field("min_vessel_fraction", o.min_vessel_fraction, within(0, 1, "0 <= min_vessel_fraction <= 1"));
  field("max_vessel_fraction", o.max_vessel_fraction);  // min_vessel_fraction..1, checked in validate
};

}  // namespace

void to_json(nlohmann::json& j, const PseudoLabelOptions& o) { j = fields_to_json(o, kPseudoLabelFields); }
void from_json(const nlohmann::json& j, PseudoLabelOptions& o) {
  fields_from_json(j, "pseudo_label", o, kPseudoLabelFields);
}
void validate(const PseudoLabelOptions& o) {
  validate_fields("pseudo_label", o, kPseudoLabelFields);
  check_field(
      o.max_vessel_fraction >= o.min_vessel_fraction && o.max_vessel_fraction <= 1,
      "pseudo_label.max_vessel_fraction", o.max_vessel_fraction,
      "min_vessel_fraction (" + std::to_string(o.min_vessel_fraction) + ") <= max_vessel_fraction <= 1");
}

void to_json(nlohmann::json& j, const PseudoLabelRecord& r) {
  j = {{"id", r.id},
       {"status", r.accepted ? "accepted" : "rejected"},
       {"confidence", r.confidence},
       {"vessel_fraction", r.vessel_fraction},
       {"fov", r.fov}};
  if (!r.accepted) j["reason"] = r.reason;
}

void from_json(const nlohmann::json& j, PseudoLabelRecord& r) {
  std::string status;
  JsonFields(j, "pseudo_label.images[]")
      .get("id", r.id)
      .get("status", status)
      .get("reason", r.reason)
      .get("confidence", r.confidence)
      .get("vessel_fraction", r.vessel_fraction)
      .get("fov", r.fov)
      .finish();
  check_field(status == "accepted" || status == "rejected", "pseudo_label.images[].status", status,
              "accepted, rejected");
  r.accepted = status == "accepted";
}

namespace {

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// The records of an earlier run into `json_path` (empty when there is none); UserError when it was run
// with other options or the file is not a pseudo-label record.
std::map<std::string, PseudoLabelRecord> earlier_records(const fs::path& json_path,
                                                         const PseudoLabelOptions& opt) {
  std::map<std::string, PseudoLabelRecord> out;
  if (!fs::exists(json_path)) return out;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(json_path));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(json_path.string() + " is not valid JSON (delete it or pseudo-label into a new folder)");
  }
  if (!j.is_object() || !j.contains("options") || !j.contains("images") || !j["images"].is_array())
    throw UserError(json_path.string() + " is not a pseudo-label record (expected options and images)");
  if (j["options"] != nlohmann::json(opt))
    throw UserError(json_path.string() + " was written with options " + j["options"].dump() + ", not " +
                    nlohmann::json(opt).dump() +
                    " (resume with the same options or pseudo-label into a new folder)");
  for (const auto& r : j["images"]) {
    auto rec = r.get<PseudoLabelRecord>();
    out[rec.id] = rec;
  }
  return out;
}

bool same_folder(const fs::path& a, const fs::path& b) {
  std::error_code ec1, ec2;
  const fs::path ca = fs::weakly_canonical(a, ec1), cb = fs::weakly_canonical(b, ec2);
  return !ec1 && !ec2 && ca == cb;
}

// Copies a PNG byte for byte (atomically); converts anything else to an 8-bit RGB PNG.
void write_image_png(const SampleFiles& f, const torch::Tensor& image, const fs::path& dst) {
  std::string ext = f.image.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".png") {
    write_file_atomic(dst, read_file(f.image));
  } else {
    write_png(dst, image, 8);
  }
}

}  // namespace

PseudoLabelResult pseudo_label(const Segmenter& seg, const DatasetFiles& images, const fs::path& out,
                               const PseudoLabelOptions& opt, const ProgressFn& progress) {
  validate(opt);
  for (const auto& f : images.samples)
    if (same_folder(f.image.parent_path(), out / "images"))
      throw UserError("pseudo-label output " + out.string() + " would overwrite the input photographs in " +
                      f.image.parent_path().string() + " (choose another output folder)");
  const fs::path json_path = out / "pseudo_label.json";
  const auto earlier = earlier_records(json_path, opt);

  PredictOptions popt;
  popt.tta = opt.tta;
  popt.fov_diameter = seg.resolve_fov_diameter(opt.fov_diameter);

  PseudoLabelResult result;
  auto write_json = [&] {
    nlohmann::json j;
    j["options"] = opt;
    j["model"] = {{"version", seg.header().version}, {"state", seg.header().state}};
    j["scale_fov_diameter"] = popt.fov_diameter;
    int64_t accepted = 0, rejected = 0;
    for (const auto& r : result.records) (r.accepted ? accepted : rejected)++;
    j["accepted"] = accepted;
    j["rejected"] = rejected;
    j["images"] = result.records;
    write_file_atomic(json_path, j.dump(2) + "\n");
  };

  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : images.samples) {
    const fs::path label_path = out / "labels" / (f.id + ".png");
    const auto old = earlier.find(f.id);
    const bool done_before = fs::exists(label_path) || (old != earlier.end() && !old->second.accepted);
    if (done_before) {
      PseudoLabelRecord r;
      if (old != earlier.end()) {
        r = old->second;
      } else {  // labelled by a run killed before it recorded the image
        r.id = f.id;
        r.accepted = true;
        r.fov = "unknown (labelled by an earlier run)";
      }
      result.records.push_back(r);
      ++result.skipped;
    } else {
      Sample s = load_sample(f);
      PseudoLabelRecord r;
      r.id = f.id;
      torch::Tensor fov = s.mask;
      if (s.has_mask) {
        r.fov = "given";
      } else {
        if (!s.mask_estimated) fov = estimate_fov(s.image, popt.fov);
        r.fov = "estimated";
      }
      // p: [1, H, W] float in [0, 1]; fov: [1, H, W] {0, 1}.
      const torch::Tensor p = seg.probability(s.image, fov, popt);
      const torch::Tensor in_fov = fov.gt(0.5);
      const int64_t fov_pixels = in_fov.sum().item<int64_t>();
      if (fov_pixels == 0) {
        r.reason = "empty FOV";
      } else {
        const torch::Tensor pf = p.masked_select(in_fov).to(torch::kDouble);
        r.confidence = (pf * 2 - 1).abs().mean().item<double>();
        r.vessel_fraction =
            static_cast<double>(pf.ge(0.5).sum().item<int64_t>()) / static_cast<double>(fov_pixels);
        if (r.confidence < opt.min_confidence)
          r.reason = "confidence " + fmt(r.confidence) + " < min_confidence " + fmt(opt.min_confidence);
        else if (r.vessel_fraction < opt.min_vessel_fraction || r.vessel_fraction > opt.max_vessel_fraction)
          r.reason = "vessel fraction " + fmt(r.vessel_fraction) + " outside [" +
                     fmt(opt.min_vessel_fraction) + ", " + fmt(opt.max_vessel_fraction) + "]";
      }
      r.accepted = r.reason.empty();
      if (r.accepted) {
        const torch::Tensor fov01 = in_fov.to(torch::kFloat);
        write_image_png(f, s.image, out / "images" / (f.id + ".png"));
        write_png(out / "masks" / (f.id + ".png"), fov01, 8);
        if (opt.mode == "hard")
          write_png(label_path, p.ge(0.5).to(torch::kFloat) * fov01, 8);
        else
          write_png(label_path, p * fov01, 16);
        ++result.accepted;
      } else {
        ++result.rejected;
      }
      result.records.push_back(r);
      write_json();
    }
    if (progress) {
      Progress pr;
      pr.stage = "pseudo-label";
      pr.unit = "image";
      pr.done = static_cast<int64_t>(result.records.size());
      pr.total = static_cast<int64_t>(images.samples.size());
      pr.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      pr.scalars["accepted"] = static_cast<double>(result.accepted);
      pr.scalars["rejected"] = static_cast<double>(result.rejected);
      progress(pr);
    }
  }
  write_json();  // also when every image was skipped, so the record lists them all in order
  return result;
}

std::pair<double, double> vessel_fraction_range(const DatasetFiles& labelled) {
  double lo = 1, hi = 0;
  int64_t n = 0;
  for (const auto& f : labelled.samples) {
    if (f.label.empty()) continue;
    const Sample s = load_sample(f);
    const torch::Tensor in_fov = s.mask.gt(0.5);
    const int64_t fov_pixels = in_fov.sum().item<int64_t>();
    if (fov_pixels == 0) continue;
    const double frac = static_cast<double>(s.label.gt(0.5).logical_and(in_fov).sum().item<int64_t>()) /
                        static_cast<double>(fov_pixels);
    lo = std::min(lo, frac);
    hi = std::max(hi, frac);
    ++n;
  }
  if (n == 0)
    throw UserError("no labelled images with a non-empty FOV in " + labelled.root.string() +
                    " (the real vessel-fraction range needs labels)");
  return {lo, hi};
}

}  // namespace vg
