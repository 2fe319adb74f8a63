#include "vesselgan/eval/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <tuple>
#include <utility>

namespace vg {
namespace {

constexpr const char* kPalette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string num(double v) {  // SVG coordinates
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

// 1, 2 or 5 times a power of ten, close to `raw`.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

std::string tick_label(double v, double step) {
  char b[32];
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-4) {
    std::snprintf(b, sizeof b, "%.3g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(b, sizeof b, "%.*f", std::min(decimals, 10), v);
  }
  return b;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;        // in data units
  std::vector<double> minor_ticks;  // log axes only
  std::vector<std::string> labels;
};

// Range from the data (or the fixed limits), then ticks; an automatic end is widened to a tick. At most
// `max_intervals` linear tick intervals (about six when there is room), so that labels do not overlap on a
// narrow axis.
Axis make_axis(double dmin, double dmax, std::optional<double> fmin, std::optional<double> fmax, bool log,
               int max_intervals = 6) {
  Axis a;
  a.log = log;
  double lo = fmin ? *fmin : dmin, hi = fmax ? *fmax : dmax;
  if (log) {
    if (!(lo > 0) || !std::isfinite(lo)) lo = (hi > 0 && std::isfinite(hi)) ? hi / 10 : 0.1;
    if (!(hi > 0) || !std::isfinite(hi)) hi = lo * 10;
    if (hi <= lo) hi = lo * 10;
    double l0 = std::log10(lo), l1 = std::log10(hi);
    if (!fmin) l0 = std::floor(l0 + 1e-9);
    if (!fmax) l1 = std::ceil(l1 - 1e-9);
    if (l1 <= l0) l1 = l0 + 1;
    a.lo = std::pow(10.0, l0);
    a.hi = std::pow(10.0, l1);
    const int k0 = static_cast<int>(std::ceil(l0 - 1e-9)), k1 = static_cast<int>(std::floor(l1 + 1e-9));
    const int stride = std::max(1, (k1 - k0 + 7) / 8);
    for (int k = k0; k <= k1; k += stride) {
      const double v = std::pow(10.0, k);
      a.ticks.push_back(v);
      char b[32];
      std::snprintf(b, sizeof b, "%g", v);
      a.labels.push_back(b);
    }
    if (stride == 1) {
      for (int k = k0 - 1; k <= k1; ++k)
        for (int m = 2; m <= 9; ++m) {
          const double v = m * std::pow(10.0, k);
          if (v > a.lo && v < a.hi) a.minor_ticks.push_back(v);
        }
    }
    return a;
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 0.5 : std::fabs(lo) * 0.1;
    if (!fmin) lo -= pad;
    if (!fmax) hi += pad;
    if (hi == lo) hi = lo + 1;
  }
  max_intervals = std::max(1, max_intervals);
  double step = nice_step((hi - lo) / std::min(6, max_intervals));
  // The ends widened to ticks of `step`; a step too fine for the room moves up the 1-2-5 ladder.
  auto widened = [&](double st) {
    return std::pair<double, double>{fmin ? lo : std::floor(lo / st + 1e-9) * st, fmax ? hi : std::ceil(hi / st - 1e-9) * st};
  };
  for (int i = 0; i < 64; ++i) {
    const auto [l, h] = widened(step);
    if ((h - l) / step <= max_intervals + 1e-9) break;
    step = nice_step(step * 2.5);  // 1 -> 2 -> 5 -> 10
  }
  std::tie(lo, hi) = widened(step);
  a.lo = lo;
  a.hi = hi;
  const double k0 = std::ceil(lo / step - 1e-9), k1 = std::floor(hi / step + 1e-9);
  for (double k = k0; k <= k1 && a.ticks.size() < 64; k += 1) {
    const double t = k == 0 ? 0.0 : k * step;
    a.ticks.push_back(t);
    a.labels.push_back(tick_label(t, step));
  }
  return a;
}

double axis_fraction(const Axis& a, double v) {
  if (a.log) return (std::log10(v) - std::log10(a.lo)) / (std::log10(a.hi) - std::log10(a.lo));
  return (v - a.lo) / (a.hi - a.lo);
}

}  // namespace

std::string line_plot_svg(const PlotSpec& spec) {
  const double width = std::max(spec.width, 200), height = std::max(spec.height, 150);
  const double left = 72, right = 20, top = spec.title.empty() ? 16 : 40, bottom = 56;
  const double pw = width - left - right, ph = height - top - bottom;

  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!spec.log_y || y > 0);
  };
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : spec.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!usable(s.x[i], s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  if (!std::isfinite(ymin)) ymin = spec.log_y ? 0.1 : 0, ymax = 1;
  // x labels sit side by side: one per ~48 px (a five-character label and a gap) at most.
  const Axis ax = make_axis(xmin, xmax, spec.x_min, spec.x_max, false, std::max(1, static_cast<int>(pw / 48)));
  const Axis ay = make_axis(ymin, ymax, spec.y_min, spec.y_max, spec.log_y);
  auto px = [&](double x) { return left + axis_fraction(ax, x) * pw; };
  auto py = [&](double y) { return top + (1 - axis_fraction(ay, y)) * ph; };

  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
       "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + num(width) + "\" height=\"" + num(height) + "\" fill=\"white\"/>\n";
  o += "<defs><clipPath id=\"@CLIP@\"><rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
       num(pw) + "\" height=\"" + num(ph) + "\"/></clipPath></defs>\n";
  if (!spec.title.empty())
    o += "<text x=\"" + num(width / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" +
         escape_xml(spec.title) + "</text>\n";

  // Grid and ticks.
  o += "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double v : ay.minor_ticks)
    o += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(v)) + "\" x2=\"" + num(left + pw) + "\" y2=\"" +
         num(py(v)) + "\" stroke=\"#f3f3f3\"/>\n";
  for (double v : ax.ticks)
    o += "<line x1=\"" + num(px(v)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px(v)) + "\" y2=\"" +
         num(top + ph) + "\"/>\n";
  for (double v : ay.ticks)
    o += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(v)) + "\" x2=\"" + num(left + pw) + "\" y2=\"" +
         num(py(v)) + "\"/>\n";
  o += "</g>\n<g fill=\"#333333\">\n";
  for (size_t i = 0; i < ax.ticks.size(); ++i)
    o += "<text x=\"" + num(px(ax.ticks[i])) + "\" y=\"" + num(top + ph + 18) + "\" text-anchor=\"middle\">" +
         escape_xml(ax.labels[i]) + "</text>\n";
  for (size_t i = 0; i < ay.ticks.size(); ++i)
    o += "<text x=\"" + num(left - 6) + "\" y=\"" + num(py(ay.ticks[i]) + 4) + "\" text-anchor=\"end\">" +
         escape_xml(ay.labels[i]) + "</text>\n";
  o += "</g>\n";
  o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"#333333\"/>\n";
  if (!spec.x_label.empty())
    o += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(height - 14) + "\" text-anchor=\"middle\">" +
         escape_xml(spec.x_label) + "</text>\n";
  if (!spec.y_label.empty())
    o += "<text x=\"18\" y=\"" + num(top + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
         num(top + ph / 2) + ")\">" + escape_xml(spec.y_label) + "</text>\n";

  // Series, clipped to the plot area.
  std::vector<std::string> colors;
  size_t palette_next = 0;
  o += "<g clip-path=\"url(#@CLIP@)\" fill=\"none\" stroke-width=\"1.8\" stroke-linejoin=\"round\">\n";
  for (const auto& s : spec.series) {
    const std::string color = s.color.empty() ? kPalette[palette_next++ % 10] : s.color;
    colors.push_back(color);
    const std::string style =
        "stroke=\"" + escape_xml(color) + "\"" + (s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    const size_t n = std::min(s.x.size(), s.y.size());
    std::string pts;
    size_t run = 0;
    auto flush = [&] {
      if (run >= 2) o += "<polyline " + style + " points=\"" + pts + "\"/>\n";
      pts.clear();
      run = 0;
    };
    size_t usable_points = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!usable(s.x[i], s.y[i])) {
        flush();
        continue;
      }
      ++usable_points;
      if (run++ > 0) pts += ' ';
      pts += num(px(s.x[i])) + "," + num(py(s.y[i]));
    }
    flush();
    if (s.markers || usable_points == 1) {
      for (size_t i = 0; i < n; ++i)
        if (usable(s.x[i], s.y[i]))
          o += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"2.5\" fill=\"" +
               escape_xml(color) + "\" stroke=\"none\"/>\n";
    }
  }
  o += "</g>\n";

  // Legend.
  std::vector<size_t> named;
  for (size_t i = 0; i < spec.series.size(); ++i)
    if (!spec.series[i].name.empty()) named.push_back(i);
  if (spec.legend != LegendPosition::kNone && !named.empty()) {
    size_t longest = 0;
    for (size_t i : named) longest = std::max(longest, spec.series[i].name.size());
    const double lw = 40 + 7.0 * static_cast<double>(longest),
                 lh = 8 + 18.0 * static_cast<double>(named.size());
    const bool at_right =
        spec.legend == LegendPosition::kTopRight || spec.legend == LegendPosition::kBottomRight;
    const bool at_top = spec.legend == LegendPosition::kTopRight || spec.legend == LegendPosition::kTopLeft;
    const double lx = at_right ? left + pw - lw - 8 : left + 8, ly = at_top ? top + 8 : top + ph - lh - 8;
    o += "<g>\n<rect x=\"" + num(lx) + "\" y=\"" + num(ly) + "\" width=\"" + num(lw) + "\" height=\"" +
         num(lh) + "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999999\"/>\n";
    for (size_t k = 0; k < named.size(); ++k) {
      const PlotSeries& s = spec.series[named[k]];
      const double y = ly + 4 + 18.0 * static_cast<double>(k) + 9;
      if (std::min(s.x.size(), s.y.size()) == 1)  // a lone point: a dot, not a line
        o += "<circle cx=\"" + num(lx + 18) + "\" cy=\"" + num(y) + "\" r=\"3\" fill=\"" +
             escape_xml(colors[named[k]]) + "\"/>\n";
      else
        o += "<line x1=\"" + num(lx + 6) + "\" y1=\"" + num(y) + "\" x2=\"" + num(lx + 30) + "\" y2=\"" +
             num(y) + "\" stroke=\"" + escape_xml(colors[named[k]]) + "\" stroke-width=\"2\"" +
             (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
      o += "<text x=\"" + num(lx + 36) + "\" y=\"" + num(y + 4) + "\">" + escape_xml(s.name) + "</text>\n";
    }
    o += "</g>\n";
  }
  o += "</svg>\n";
  // The clip path's id must be unique when several plots share one page (e.g. nested in one outer SVG):
  // name it after a hash of the document, so different plots get different ids and the output stays a
  // pure function of the spec.
  char id[40];
  std::snprintf(id, sizeof id, "plot-area-%016llx",
                static_cast<unsigned long long>(std::hash<std::string>{}(o)));
  for (size_t k = o.find("@CLIP@"); k != std::string::npos; k = o.find("@CLIP@", k)) o.replace(k, 6, id);
  return o;
}

PlotSeries column_series(const std::vector<nlohmann::json>& rows, const std::string& x_key, const std::string& y_key,
                         const std::string& name) {
  PlotSeries s;
  s.name = name;
  for (const auto& r : rows) {
    if (!r.contains(x_key) || !r.contains(y_key)) continue;
    s.x.push_back(r[x_key].get<double>());
    s.y.push_back(r[y_key].get<double>());
  }
  s.markers = s.x.size() < 30;
  return s;
}

std::string side_by_side_svg(const std::vector<PlotSpec>& panels) {
  int width = 0, height = 0;
  for (const auto& p : panels) {
    width += p.width;
    height = std::max(height, p.height);
  }
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                    std::to_string(height) + "\">\n";
  int x = 0;
  for (const auto& p : panels) {
    svg += "<g transform=\"translate(" + std::to_string(x) + ",0)\">" + line_plot_svg(p) + "</g>\n";
    x += p.width;
  }
  return svg + "</svg>\n";
}

std::string grid_svg(const std::vector<PlotSpec>& panels, int columns) {
  TORCH_CHECK(columns >= 1, "grid_svg: columns must be >= 1, got ", columns);
  int cell_w = 0, cell_h = 0;
  for (const auto& p : panels) {
    cell_w = std::max(cell_w, p.width);
    cell_h = std::max(cell_h, p.height);
  }
  const int n = static_cast<int>(panels.size());
  const int cols = std::min(columns, std::max(n, 1)), rows = (n + cols - 1) / cols;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(cols * cell_w) +
                    "\" height=\"" + std::to_string(rows * cell_h) + "\">\n";
  for (int i = 0; i < n; ++i) {
    const std::string at = std::to_string((i % cols) * cell_w) + "," + std::to_string((i / cols) * cell_h);
    svg += "<g transform=\"translate(" + at + ")\">" + line_plot_svg(panels[static_cast<size_t>(i)]) + "</g>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace vg
