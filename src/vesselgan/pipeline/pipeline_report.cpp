#include "vesselgan/pipeline/pipeline_report.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <sstream>

#include "vesselgan/core/files.h"
#include "vesselgan/eval/paired_test.h"
#include "vesselgan/eval/svg_plot.h"

namespace vg {

namespace fs = std::filesystem;

namespace {

using Field = double MetricSet::*;
const std::vector<std::pair<const char*, Field>>& table_fields() {
  static const std::vector<std::pair<const char*, Field>> f = {
      {"Se", &MetricSet::se},       {"Sp", &MetricSet::sp},        {"Acc", &MetricSet::acc},
      {"AUC", &MetricSet::auc_roc}, {"F1", &MetricSet::f1},        {"Precision", &MetricSet::precision},
      {"MCC", &MetricSet::mcc},     {"clDice", &MetricSet::cldice}};
  return f;
}

const std::vector<Field>& all_fields() {
  static const std::vector<Field> f = {
      &MetricSet::se,  &MetricSet::sp,  &MetricSet::acc,     &MetricSet::precision, &MetricSet::f1,
      &MetricSet::iou, &MetricSet::mcc, &MetricSet::auc_roc, &MetricSet::auc_pr,    &MetricSet::cldice};
  return f;
}

void mean_std(const std::vector<MetricSet>& xs, MetricSet& mean, MetricSet& sd) {
  mean = sd = MetricSet{};
  const double n = static_cast<double>(xs.size());
  for (Field f : all_fields()) {
    double s = 0;
    for (const auto& x : xs) s += x.*f;
    const double m = s / n;
    double v = 0;
    for (const auto& x : xs) v += (x.*f - m) * (x.*f - m);
    mean.*f = m;
    sd.*f = xs.size() > 1 ? std::sqrt(v / (n - 1)) : 0.0;
  }
}

// Per-image FOV F1 of a row, averaged over its seeds, keyed by image id.
std::map<std::string, double> per_image_f1(const std::vector<const ScoredModel*>& models) {
  std::map<std::string, double> sum;
  for (const auto* m : models)
    for (const auto& [id, ms] : m->report.per_image) sum[id] += ms.f1 / static_cast<double>(models.size());
  return sum;
}

std::string fmt(double v, int digits = 4) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// p-values: three decimals, small ones in scientific notation (a permutation test's p is never exactly 0).
std::string fmt_p(double p) {
  if (p >= 0.001) return fmt(p, 3);
  char b[32];
  std::snprintf(b, sizeof b, "%.1e", p);
  return b;
}

std::string cell(double mean, double sd, int64_t seeds) {
  return seeds > 1 ? fmt(mean) + " ± " + fmt(sd) : fmt(mean);
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '<')
      o += "&lt;";
    else if (ch == '>')
      o += "&gt;";
    else if (ch == '&')
      o += "&amp;";
    else
      o += ch;
  }
  return o;
}

// The Markdown table of one protocol ("fov" or "whole").
std::string metrics_table(const std::vector<ReportRow>& rows, bool fov) {
  std::ostringstream md;
  md << "| method | seeds |";
  for (const auto& [name, f] : table_fields()) md << " " << name << " |";
  if (fov) md << " ΔF1 vs baseline [95% CI] | p |";
  md << "\n|---|---|";
  for (size_t i = 0; i < table_fields().size(); ++i) md << "---|";
  if (fov) md << "---|---|";
  md << "\n";
  for (const auto& r : rows) {
    const MetricSet& m = fov ? r.fov_mean : r.whole_mean;
    const MetricSet& s = fov ? r.fov_std : r.whole_std;
    md << "| " << r.row << " | " << r.seeds << " |";
    for (const auto& [name, f] : table_fields()) md << " " << cell(m.*f, s.*f, r.seeds) << " |";
    if (fov) {
      if (r.compared)
        md << " " << (r.f1_diff >= 0 ? "+" : "") << fmt(r.f1_diff) << " [" << fmt(r.ci_low) << ", "
           << fmt(r.ci_high) << "] | " << fmt_p(r.p_value) << " |";
      else
        md << " | |";
    }
    md << "\n";
  }
  return md.str();
}

// A minimal Markdown-table-to-HTML conversion for the report's own tables.
std::string table_html(const std::string& md_table) {
  std::istringstream in(md_table);
  std::string line, out = "<table>\n";
  int row = 0;
  while (std::getline(in, line)) {
    if (line.rfind("|---", 0) == 0) continue;
    std::vector<std::string> cells;
    std::string cur;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '|') {
        cells.push_back(cur);
        cur.clear();
      } else {
        cur += line[i];
      }
    }
    const char* tag = row == 0 ? "th" : "td";
    out += "<tr>";
    for (auto& c : cells) out += std::string("<") + tag + ">" + html_escape(c) + "</" + tag + ">";
    out += "</tr>\n";
    ++row;
  }
  return out + "</table>\n";
}

// FOV pooled curves of the first seed of each method: ROC (pr false) or precision-recall (pr true).
std::string curve_svg(const std::vector<ScoredModel>& scored, bool pr) {
  PlotSpec spec;
  spec.title = pr ? "Precision-recall, FOV pooled (first seed of each method)"
                  : "ROC, FOV pooled (first seed of each method)";
  spec.x_label = pr ? "recall (Se)" : "1 - specificity";
  spec.y_label = pr ? "precision" : "sensitivity";
  spec.x_min = 0;
  spec.x_max = 1;
  spec.y_min = 0;
  spec.y_max = 1;
  spec.legend = pr ? LegendPosition::kBottomLeft : LegendPosition::kBottomRight;
  std::map<std::string, bool> seen;
  for (const auto& m : scored) {
    const Curve& c = pr ? m.report.pr_fov : m.report.roc_fov;
    if (seen[m.row] || c.x.empty()) continue;
    seen[m.row] = true;
    PlotSeries s;
    s.name = m.row;
    s.x = c.x;
    s.y = c.y;
    s.markers = m.kind == "observer";
    spec.series.push_back(s);
  }
  return line_plot_svg(spec);
}

// The first paragraph of a report on phantoms (issue 31): what its synthetic gain does and does not show.
const char* const kPhantomCaveat =
    "Read this first: the test photographs here are phantoms, and the synthetic vessel trees the generator "
    "paints come from the same procedural process that drew them, so a gain from the synthetic data on "
    "phantoms is circular and says nothing about real photographs. On real photographs (DRIVE), synthetic "
    "patches did not help SA-UNet in any arm measured: docs/results.md.";

}  // namespace

std::vector<ReportRow> summarize(const std::vector<ScoredModel>& scored) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ScoredModel*>> by_row;
  for (const auto& m : scored) {
    if (!by_row.count(m.row)) order.push_back(m.row);
    by_row[m.row].push_back(&m);
  }
  const std::vector<const ScoredModel*>* baseline = nullptr;
  for (const auto& name : order)
    if (by_row[name].front()->kind == "baseline") baseline = &by_row[name];
  std::map<std::string, double> base_f1;
  if (baseline) base_f1 = per_image_f1(*baseline);

  std::vector<ReportRow> rows;
  for (const auto& name : order) {
    const auto& ms = by_row[name];
    ReportRow r;
    r.row = name;
    r.kind = ms.front()->kind;
    r.seeds = static_cast<int64_t>(ms.size());
    std::vector<MetricSet> fov, whole;
    for (const auto* m : ms) {
      fov.push_back(m->report.fov_pooled);
      whole.push_back(m->report.whole_image_pooled);
    }
    mean_std(fov, r.fov_mean, r.fov_std);
    mean_std(whole, r.whole_mean, r.whole_std);
    if (baseline && (r.kind == "variant" || r.kind == "ensemble")) {
      const auto f1 = per_image_f1(ms);
      std::vector<double> a, b;
      for (const auto& [id, v] : f1)
        if (base_f1.count(id)) {
          a.push_back(base_f1.at(id));
          b.push_back(v);
        }
      if (a.size() >= 2) {
        const PairedComparison c = paired_bootstrap(a, b, 10000, 0.95, 0);
        r.compared = true;
        r.f1_diff = c.mean_diff;
        r.ci_low = c.ci_low;
        r.ci_high = c.ci_high;
        r.p_value = c.p_value;
      }
    }
    rows.push_back(r);
  }
  return rows;
}

std::string base64(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string write_pipeline_report(const fs::path& dir, const PipelineReport& r) {
  fs::create_directories(dir);
  const auto rows = summarize(r.scored);
  const std::string fov_table = metrics_table(rows, true), whole_table = metrics_table(rows, false);

  std::ostringstream stages_md;
  stages_md << "| stage | wall time (s) | this run |\n|---|---|---|\n";
  for (const auto& s : r.stages)
    stages_md << "| " << s.name << " | " << fmt(s.seconds, 1) << " | " << (s.cached ? "cached" : "ran")
              << " |\n";
  // The GAN block, one item per feature network, written as a Markdown list and as an HTML list.
  std::ostringstream gan_md, gan_html;
  for (const auto& g : r.gan_metrics) {
    const std::string network = g.value("feature_network", std::string());
    std::ostringstream figures;
    figures << ": FID " << fmt(g.value("fid", 0.0)) << ", KID " << fmt(g["kid"].value("mean", 0.0), 5) << " ± "
            << fmt(g["kid"].value("std", 0.0), 5) << " (" << g.value("real_count", 0) << " real views of the training photographs, "
            << g.value("fake_count", 0) << " synthetic)";
    gan_md << "- features `" << network << "`" << figures.str() << "\n";
    gan_html << "<li>features <code>" << html_escape(network) << "</code>" << html_escape(figures.str()) << "</li>\n";
  }

  std::ostringstream md;
  md << "# " << r.title << "\n\n";
  if (r.phantom_data) md << "**" << kPhantomCaveat << "**\n\n";
  md << "Protocol: " << r.protocol << "\n\nMachine: " << r.machine << "\n\n"
     << "Rows are mean ± sample std over seeds (each seed trains its own model). ΔF1: the mean over test "
        "images "
        "of the per-image FOV F1 difference to the baseline (per-image F1 averaged over seeds first), with a "
        "95% percentile bootstrap interval over images and a two-sided sign-flip permutation p-value "
        "(eval/paired_test.h). All choices (epochs, ensemble weights) were made on validation images held "
        "out "
        "of the training split.\n\n"
     << "## FOV pooled (headline)\n\n"
     << fov_table << "\n"
     << "## Whole image pooled (the SA-UNet paper's protocol)\n\n"
     << whole_table << "\n";
  if (!r.gan_metrics.empty()) md << "## GAN\n\n" << gan_md.str() << "\n";
  if (!r.notes.empty()) md << r.notes << "\n\n";
  if (!r.synthetic_grid.empty())
    md << "Synthetic images and their labels: `" << r.synthetic_grid.filename().string() << "`. "
       << r.synthetic_caption << "\n\n";
  if (!r.whole_grid.empty())
    md << "Whole synthetic photographs and their labels: `" << r.whole_grid.filename().string() << "`. "
       << r.whole_caption << "\n\n";
  if (!r.comparison_grid.empty())
    md << "## Errors side by side\n\n`" << r.comparison_grid.filename().string() << "`: " << r.comparison_caption
       << "\n\n";
  md << "ROC and precision-recall curves: `roc.svg`, `pr.svg`\n\n## Wall time per stage\n\n"
     << stages_md.str() << "\n"
     << "## Config\n\n```json\n"
     << r.config.dump(2) << "\n```\n";

  const std::string svg = curve_svg(r.scored, false), pr_svg = curve_svg(r.scored, true);
  write_file_atomic(dir / "roc.svg", svg);
  write_file_atomic(dir / "pr.svg", pr_svg);

  std::ostringstream html;
  html
      << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html_escape(r.title)
      << "</title>\n"
      << "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}pre{background:#f6f6f6;padding:1em}"
         "</style></head><body>\n"
      << "<h1>" << html_escape(r.title) << "</h1>\n"
      << (r.phantom_data ? "<p><strong>" + html_escape(kPhantomCaveat) + "</strong></p>\n" : std::string())
      << "<p>Protocol: " << html_escape(r.protocol)
      << "</p>\n<p>Machine: " << html_escape(r.machine) << "</p>\n<h2>FOV pooled (headline)</h2>\n"
      << table_html(fov_table) << "<h2>Whole image pooled</h2>\n"
      << table_html(whole_table);
  if (!r.gan_metrics.empty()) html << "<h2>GAN</h2>\n<ul>\n" << gan_html.str() << "</ul>\n";
  if (!r.notes.empty()) html << "<p>" << html_escape(r.notes) << "</p>\n";
  html << "<h2>ROC</h2>\n" << svg << "<h2>Precision-recall</h2>\n" << pr_svg;
  if (!r.synthetic_grid.empty() && fs::exists(r.synthetic_grid))
    html << "<h2>Synthetic images and labels</h2>\n<p>" << html_escape(r.synthetic_caption) << "</p>\n<img style=\"max-width:100%\" alt=\"synthetic images\" src=\"data:image/png;base64,"
         << base64(read_file(r.synthetic_grid)) << "\">\n";
  if (!r.whole_grid.empty() && fs::exists(r.whole_grid))
    html << "<h2>Whole synthetic photographs and labels</h2>\n<p>" << html_escape(r.whole_caption)
         << "</p>\n<img style=\"max-width:100%\" alt=\"whole synthetic photographs\" src=\"data:image/png;base64,"
         << base64(read_file(r.whole_grid)) << "\">\n";
  if (!r.comparison_grid.empty() && fs::exists(r.comparison_grid))
    html << "<h2>Errors side by side</h2>\n<p>" << html_escape(r.comparison_caption)
         << "</p>\n<img style=\"max-width:100%\" alt=\"errors side by side\" src=\"data:image/png;base64,"
         << base64(read_file(r.comparison_grid)) << "\">\n";
  html << "<h2>Wall time per stage</h2>\n"
       << table_html(stages_md.str()) << "<h2>Config</h2>\n<pre>" << html_escape(r.config.dump(2))
       << "</pre>\n</body></html>\n";

  nlohmann::json results = {{"title", r.title},
                            {"protocol", r.protocol},
                            {"machine", r.machine},
                            {"config", r.config},
                            {"gan_metrics", r.gan_metrics}};
  results["rows"] = nlohmann::json::array();
  for (const auto& row : rows)
    results["rows"].push_back({{"row", row.row},
                               {"kind", row.kind},
                               {"seeds", row.seeds},
                               {"fov_mean", row.fov_mean},
                               {"fov_std", row.fov_std},
                               {"whole_mean", row.whole_mean},
                               {"whole_std", row.whole_std},
                               {"compared", row.compared},
                               {"f1_diff", row.f1_diff},
                               {"ci_low", row.ci_low},
                               {"ci_high", row.ci_high},
                               {"p_value", row.p_value}});
  results["models"] = nlohmann::json::array();
  for (const auto& m : r.scored)
    results["models"].push_back({{"row", m.row},
                                 {"kind", m.kind},
                                 {"seed", m.seed},
                                 {"model", m.model},
                                 {"fov_pooled", m.report.fov_pooled},
                                 {"whole_image_pooled", m.report.whole_image_pooled}});
  results["stages"] = nlohmann::json::array();
  for (const auto& s : r.stages)
    results["stages"].push_back({{"name", s.name}, {"seconds", s.seconds}, {"cached", s.cached}});

  write_file_atomic(dir / "report.md", md.str());
  write_file_atomic(dir / "report.html", html.str());
  write_file_atomic(dir / "results.json", results.dump(2) + "\n");
  return md.str();
}

}  // namespace vg
