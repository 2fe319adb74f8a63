// Serializations of an EvalReport (evaluator.h): JSON, Markdown, and the report folder with SVG curves.
#include <cstdio>

#include "vesselgan/core/files.h"
#include "vesselgan/eval/evaluator.h"
#include "vesselgan/eval/svg_plot.h"

namespace vg {
namespace {

std::string fixed4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

std::string with_thousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::vector<double> values(const MetricSet& m) {
  return {m.se, m.sp, m.acc, m.precision, m.f1, m.iou, m.mcc, m.auc_roc, m.auc_pr, m.cldice};
}

const char* kHeader =
    "| | Se | Sp | Acc | Precision | F1 | IoU | MCC | AUC | PR-AUC | clDice |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|\n";

std::string row(const std::string& name, const MetricSet& m) {
  std::string s = "| " + name + " |";
  for (double v : values(m)) s += " " + fixed4(v) + " |";
  return s + "\n";
}

}  // namespace

void to_json(nlohmann::json& j, const EvalProtocol& p) {
  j = nlohmann::json{{"data", p.data},   {"split", p.split}, {"annotation", p.annotation},
                     {"fov", p.fov},     {"scale", p.scale}, {"predictions", p.predictions}};
}

nlohmann::json to_json(const EvalReport& r) {
  nlohmann::json per_image = nlohmann::json::object();
  for (const auto& [id, m] : r.per_image) per_image[id] = m;
  return nlohmann::json{{"protocol", r.protocol},
                        {"threshold", r.threshold},
                        {"fov_pixels", r.fov_pixels},
                        {"total_pixels", r.total_pixels},
                        {"fov_pooled", r.fov_pooled},
                        {"whole_image_pooled", r.whole_image_pooled},
                        {"per_image_mean", r.per_image_mean},
                        {"per_image_std", r.per_image_std},
                        {"per_image", per_image},
                        {"calibration_fov", r.calibration_fov}};
}

void to_json(nlohmann::json& j, const EvalReport& r) { j = to_json(r); }

std::string to_markdown(const EvalReport& r, const std::string& title) {
  std::string s = "# " + title + "\n\n";
  char b[64];
  std::snprintf(b, sizeof b, "%g", r.threshold);
  if (!r.protocol.empty()) {
    s += "## Protocol\n\n";
    const std::pair<const char*, const std::string*> lines[] = {
        {"Data", &r.protocol.data},          {"Split", &r.protocol.split}, {"Ground truth", &r.protocol.annotation},
        {"FOV", &r.protocol.fov},            {"Scale", &r.protocol.scale}, {"Predictions", &r.protocol.predictions}};
    for (const auto& [name, value] : lines) {
      if (!value->empty()) s += "- " + std::string(name) + ": " + *value + "\n";
    }
    s += "\n";
  }
  s += "Threshold " + std::string(b) + "; " + std::to_string(r.per_image.size()) + " images; " +
       with_thousands(r.fov_pixels) + " FOV pixels of " + with_thousands(r.total_pixels) + ".\n\n";
  s += kHeader;
  s += row("FOV pooled", r.fov_pooled);
  s += row("Whole image pooled", r.whole_image_pooled);
  s += "| Per-image mean ± std |";
  const std::vector<double> mean = values(r.per_image_mean), sd = values(r.per_image_std);
  for (size_t k = 0; k < mean.size(); ++k) s += " " + fixed4(mean[k]) + " ± " + fixed4(sd[k]) + " |";
  s += "\n\nCalibration over the FOV pixels (15 equal-width probability bins): expected calibration error " +
       fixed4(r.calibration_fov.ece) + ", largest bin gap " + fixed4(r.calibration_fov.mce) +
       " (metrics.json: calibration_fov has the reliability bins).\n";
  s += "\n## Per image (inside the FOV)\n\n";
  s += std::string(kHeader).replace(1, 1, " image ");
  for (const auto& [id, m] : r.per_image) s += row(id, m);
  return s;
}

void write_eval_report(const std::filesystem::path& dir, const EvalReport& r, const std::string& title) {
  write_file_atomic(dir / "metrics.json", to_json(r).dump(2) + "\n");
  write_file_atomic(dir / "metrics.md", to_markdown(r, title));

  PlotSpec roc;
  roc.title = title + ": ROC (FOV, pooled)";
  roc.x_label = "false positive rate (1 - Sp)";
  roc.y_label = "true positive rate (Se)";
  roc.x_min = roc.y_min = 0.0;
  roc.x_max = roc.y_max = 1.0;
  roc.legend = LegendPosition::kBottomRight;
  roc.series.push_back({"AUC " + fixed4(r.fov_pooled.auc_roc), r.roc_fov.x, r.roc_fov.y, "", false, false});
  roc.series.push_back({"chance", {0.0, 1.0}, {0.0, 1.0}, "#999999", true, false});
  roc.series.push_back(
      {"threshold " + fixed4(r.threshold), {1 - r.fov_pooled.sp}, {r.fov_pooled.se}, "", false, true});
  write_file_atomic(dir / "roc.svg", line_plot_svg(roc));

  PlotSpec pr;
  pr.title = title + ": precision-recall (FOV, pooled)";
  pr.x_label = "recall (Se)";
  pr.y_label = "precision";
  pr.x_min = pr.y_min = 0.0;
  pr.x_max = pr.y_max = 1.0;
  pr.legend = LegendPosition::kBottomLeft;
  pr.series.push_back({"AP " + fixed4(r.fov_pooled.auc_pr), r.pr_fov.x, r.pr_fov.y, "", false, false});
  pr.series.push_back(
      {"threshold " + fixed4(r.threshold), {r.fov_pooled.se}, {r.fov_pooled.precision}, "", false, true});
  write_file_atomic(dir / "pr.svg", line_plot_svg(pr));
}

}  // namespace vg
