// A small self-contained SVG line-plot writer: title, axis labels, "nice" ticks with grid lines, several
// named series with a legend, optional log-scaled y axis. Used for ROC / PR curves and training curves.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace vg {

struct PlotSeries {
  std::string name;          // legend entry; empty: not listed in the legend
  std::vector<double> x, y;  // same length; non-finite points (and y <= 0 on a log axis) break the line
  std::string color;         // any SVG colour; empty: the next colour of a 10-colour palette
  bool dashed = false;
  bool markers = false;  // a dot at every point (a 1-point series always gets one)
};

enum class LegendPosition { kTopRight, kTopLeft, kBottomRight, kBottomLeft, kNone };

struct PlotSpec {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
  bool log_y = false;
  // Fixed axis limits; unset ones come from the data (widened to the nearest ticks).
  std::optional<double> x_min, x_max, y_min, y_max;
  int width = 640, height = 480;  // pixels
  LegendPosition legend = LegendPosition::kTopRight;
};

// The whole SVG document: starts with "<svg" and ends with "</svg>\n". Never throws on odd data (empty
// series, a single point, all-equal values, NaN); an empty plot shows axes over [0, 1].
std::string line_plot_svg(const PlotSpec& spec);

// The series (row[x_key], row[y_key]) of the rows that hold both keys (stats.jsonl rows), with markers when
// there are few points.
PlotSeries column_series(const std::vector<nlohmann::json>& rows, const std::string& x_key, const std::string& y_key,
                         const std::string& name);

// Several plots side by side in one SVG document (each at its own width; the height of the tallest).
std::string side_by_side_svg(const std::vector<PlotSpec>& panels);

// Plots in rows of `columns` (>= 1) in one SVG document, each in a cell as wide as the widest panel and as
// tall as the tallest, filled left to right, top to bottom.
std::string grid_svg(const std::vector<PlotSpec>& panels, int columns);

}  // namespace vg
