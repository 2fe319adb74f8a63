// Serializations of a RobustnessReport (robustness.h): JSON, Markdown, an SVG of the scores per shift kind,
// and the report folder.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vesselgan/core/files.h"
#include "vesselgan/eval/svg_plot.h"
#include "vesselgan/seg/robustness.h"

namespace vg {
namespace {

std::string format(const char* f, double v) {
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

nlohmann::json shift_json(const ShiftScore& s, bool with_scores) {
  nlohmann::json j{{"kind", s.shift.kind}, {"level", s.shift.level}};
  if (with_scores) {
    j["f1"] = s.fov_pooled.f1;
    j["auc_roc"] = s.fov_pooled.auc_roc;
  }
  j["f1_drop"] = s.f1_drop;
  j["auc_drop"] = s.auc_drop;
  if (with_scores) {
    j["fov_pixels"] = s.fov_pixels;
    j["fov_pooled"] = s.fov_pooled;
  }
  return j;
}

std::string protocol_lines(const EvalProtocol& p) {
  const std::pair<const char*, const std::string*> lines[] = {
      {"Data", &p.data}, {"Split", &p.split}, {"Ground truth", &p.annotation},
      {"FOV", &p.fov},   {"Scale", &p.scale}, {"Predictions", &p.predictions}};
  std::string s;
  for (const auto& [name, value] : lines)
    if (!value->empty()) s += "- " + std::string(name) + ": " + *value + "\n";
  return s;
}

std::string table_row(const std::string& kind, const std::string& level, const MetricSet& m, const std::string& f1_drop,
                      const std::string& auc_drop) {
  return "| " + kind + " | " + level + " | " + format("%.4f", m.f1) + " | " + f1_drop + " | " +
         format("%.4f", m.auc_roc) + " | " + auc_drop + " |\n";
}

// The kinds in the report, in order of first appearance.
std::vector<std::string> kinds_of(const RobustnessReport& r) {
  std::vector<std::string> kinds;
  for (const auto& s : r.shifts)
    if (std::find(kinds.begin(), kinds.end(), s.shift.kind) == kinds.end()) kinds.push_back(s.shift.kind);
  return kinds;
}

// F1 or AUC against the level for one kind, the clean score at the identity level (when the kind has one).
PlotSeries level_series(const RobustnessReport& r, const std::string& kind, bool auc) {
  std::vector<std::pair<double, double>> points;
  const auto id = identity_level(kind);
  if (id) points.emplace_back(*id, auc ? r.clean.auc_roc : r.clean.f1);
  for (const auto& s : r.shifts)
    if (s.shift.kind == kind) points.emplace_back(s.shift.level, auc ? s.fov_pooled.auc_roc : s.fov_pooled.f1);
  std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  PlotSeries series{auc ? "AUC" : "F1", {}, {}, auc ? "#d62728" : "#1f77b4", false, true};
  for (const auto& [x, y] : points) {
    series.x.push_back(x);
    series.y.push_back(y);
  }
  return series;
}

PlotSpec kind_panel(const RobustnessReport& r, const std::string& kind, double y_min, bool legend) {
  PlotSpec p;
  p.title = kind;
  p.x_label = kind + " level";
  p.y_label = "FOV pooled score";
  p.width = 320;
  p.height = 260;
  p.y_min = y_min;
  p.y_max = 1;
  p.legend = legend ? LegendPosition::kBottomLeft : LegendPosition::kNone;
  p.series.push_back(level_series(r, kind, false));
  p.series.push_back(level_series(r, kind, true));
  const auto& x = p.series.front().x;
  const double lo = x.empty() ? 0 : x.front(), hi = x.empty() ? 1 : x.back();
  p.series.push_back({"clean F1", {lo, hi}, {r.clean.f1, r.clean.f1}, "#1f77b4", true, false});
  p.series.push_back({"clean AUC", {lo, hi}, {r.clean.auc_roc, r.clean.auc_roc}, "#d62728", true, false});
  return p;
}

}  // namespace

nlohmann::json to_json(const RobustnessReport& r) {
  nlohmann::json shifts = nlohmann::json::array();
  for (const auto& s : r.shifts) shifts.push_back(shift_json(s, true));
  return nlohmann::json{{"protocol", r.protocol},
                        {"images", r.ids},
                        {"seed", r.seed},
                        {"threshold", r.threshold},
                        {"fov_pixels", r.fov_pixels},
                        {"clean", r.clean},
                        {"shifts", shifts},
                        {"mean_f1_drop", r.mean_f1_drop},
                        {"mean_auc_drop", r.mean_auc_drop},
                        {"worst_f1", shift_json(r.worst_f1, false)},
                        {"worst_auc", shift_json(r.worst_auc, false)}};
}

std::string to_markdown(const RobustnessReport& r, const std::string& title) {
  std::string s = "# " + title + "\n\n";
  const std::string protocol = protocol_lines(r.protocol);
  if (!protocol.empty()) s += "## Protocol\n\n" + protocol + "\n";
  std::string ids;
  for (const auto& id : r.ids) ids += (ids.empty() ? "" : ", ") + id;
  s += "Acquisition shifts of data/acquisition_shift.h (noise seed " + std::to_string(r.seed) + " + image index); " +
       std::to_string(r.ids.size()) + " images (" + ids + "); FOV pooled over the same " +
       std::to_string(r.fov_pixels) + " pixels of the original photographs in every condition (a scale shift's " +
       "prediction is resized back), F1 at threshold " + format("%g", r.threshold) +
       ". Drop = clean - shifted (positive: the shift hurts).\n\n";
  s += "| Shift | Level | F1 | F1 drop | AUC | AUC drop |\n|---|---|---|---|---|---|\n";
  s += table_row("clean", "", r.clean, "", "");
  for (const auto& x : r.shifts)
    s += table_row(x.shift.kind, format("%g", x.shift.level), x.fov_pooled, format("%+.4f", x.f1_drop),
                   format("%+.4f", x.auc_drop));
  s += "\nMean drop over " + std::to_string(r.shifts.size()) + " shifts: F1 " + format("%+.4f", r.mean_f1_drop) +
       ", AUC " + format("%+.4f", r.mean_auc_drop) + ".\n";
  s += "Worst case: F1 " + format("%+.4f", r.worst_f1.f1_drop) + " (" + to_string(r.worst_f1.shift) + "), AUC " +
       format("%+.4f", r.worst_auc.auc_drop) + " (" + to_string(r.worst_auc.shift) + ").\n";
  return s;
}

std::string robustness_svg(const RobustnessReport& r) {
  double lowest = std::min(r.clean.f1, r.clean.auc_roc);
  for (const auto& s : r.shifts) lowest = std::min({lowest, s.fov_pooled.f1, s.fov_pooled.auc_roc});
  const double y_min = std::isfinite(lowest) ? std::max(0.0, std::floor(lowest * 10 - 0.5) / 10) : 0;
  std::vector<PlotSpec> panels;
  for (const auto& kind : kinds_of(r)) panels.push_back(kind_panel(r, kind, y_min, panels.empty()));
  return grid_svg(panels, 3);
}

void write_robustness_report(const std::filesystem::path& dir, const RobustnessReport& r, const std::string& title) {
  write_file_atomic(dir / "robustness.json", to_json(r).dump(2) + "\n");
  write_file_atomic(dir / "robustness.md", to_markdown(r, title));
  write_file_atomic(dir / "robustness.svg", robustness_svg(r));
}

}  // namespace vg
