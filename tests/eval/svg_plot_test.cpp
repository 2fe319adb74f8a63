#include "vesselgan/eval/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace vg {
namespace {

// Minimal XML well-formedness: every element opened is closed in order (self-closing allowed), no stray
// '<' or '&' in text. Returns an empty string when fine, else what went wrong.
std::string check_xml(const std::string& s) {
  std::vector<std::string> open;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      const size_t semi = s.find(';', i);
      if (semi == std::string::npos || semi - i > 6) return "bare & at " + std::to_string(i);
      i = semi + 1;
      continue;
    }
    if (s[i] != '<') {
      ++i;
      continue;
    }
    const size_t end = s.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = s.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag";
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
    i = end + 1;
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

bool starts_and_ends_right(const std::string& svg) {
  return svg.rfind("<svg", 0) == 0 && svg.size() > 7 && svg.substr(svg.size() - 7) == "</svg>\n";
}

TEST(SvgPlot, IsWellFormedWithTitleAxesSeriesAndLegend) {
  PlotSpec p;
  p.title = "Loss <train> & val";
  p.x_label = "epoch";
  p.y_label = "loss";
  p.series.push_back({"train", {1, 2, 3, 4}, {0.9, 0.5, 0.4, 0.35}, "", false, false});
  p.series.push_back({"val \"a\"", {1, 2, 3, 4}, {1.0, 0.7, 0.6, 0.62}, "", true, true});
  const std::string svg = line_plot_svg(p);
  EXPECT_TRUE(starts_and_ends_right(svg));
  EXPECT_EQ(check_xml(svg), "");
  EXPECT_NE(svg.find("Loss &lt;train&gt; &amp; val"), std::string::npos);
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find("val &quot;a&quot;"), std::string::npos);
  EXPECT_NE(svg.find(">epoch</text>"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  // Two series, two polylines; the marker series has 4 dots.
  size_t polylines = 0, circles = 0;
  for (size_t k = svg.find("<polyline"); k != std::string::npos; k = svg.find("<polyline", k + 1))
    ++polylines;
  for (size_t k = svg.find("<circle"); k != std::string::npos; k = svg.find("<circle", k + 1)) ++circles;
  EXPECT_EQ(polylines, 2u);
  EXPECT_EQ(circles, 4u);
}

TEST(SvgPlot, DifferentPlotsUseDifferentClipIds) {
  PlotSpec a, b;
  a.series.push_back({"a", {0, 1}, {0, 1}, "", false, false});
  b.series.push_back({"b", {0, 1}, {1, 0}, "", false, false});
  auto clip_id = [](const std::string& svg) {
    const size_t k = svg.find("clipPath id=\"") + 13;
    return svg.substr(k, svg.find('"', k) - k);
  };
  const std::string sa = line_plot_svg(a), sb = line_plot_svg(b);
  EXPECT_EQ(clip_id(sa).rfind("plot-area-", 0), 0u);
  EXPECT_NE(clip_id(sa), clip_id(sb));
  EXPECT_NE(sa.find("url(#" + clip_id(sa) + ")"), std::string::npos);
  EXPECT_EQ(sa, line_plot_svg(a));  // deterministic
}

TEST(SvgPlot, NiceTicksCoverTheData) {
  PlotSpec p;
  p.series.push_back({"s", {0, 10}, {0.0, 0.93}, "", false, false});
  const std::string svg = line_plot_svg(p);
  // y axis widened to a tick above 0.93 with step 0.2: 0, 0.2, ..., 1.0.
  EXPECT_NE(svg.find(">1.0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.2</text>"), std::string::npos);
  EXPECT_NE(svg.find(">10</text>"), std::string::npos);
}

TEST(SvgPlot, ANarrowPanelGetsFewerXTicksSoTheirLabelsDoNotOverlap) {
  // 0..0.2 in steps of 0.02 is eleven labels: on a 230 px panel they ran into each other.
  PlotSpec p;
  p.width = 320;
  p.series.push_back({"s", {0, 0.1, 0.2}, {0.5, 0.6, 0.7}, "", false, false});
  const std::string narrow = line_plot_svg(p);
  EXPECT_EQ(narrow.find(">0.02</text>"), std::string::npos);
  EXPECT_NE(narrow.find(">0.05</text>"), std::string::npos);
  EXPECT_NE(narrow.find(">0.20</text>"), std::string::npos);
  EXPECT_EQ(check_xml(narrow), "");
  p.width = 900;  // room for the finer step
  EXPECT_NE(line_plot_svg(p).find(">0.02</text>"), std::string::npos);
}

TEST(SvgPlot, LogYSkipsNonPositiveAndNonFiniteValues) {
  PlotSpec p;
  p.log_y = true;
  p.series.push_back({"loss", {0, 1, 2, 3, 4, 5}, {1.0, 0.1, 0.0, NAN, 0.01, 0.001}, "", false, false});
  const std::string svg = line_plot_svg(p);
  EXPECT_EQ(check_xml(svg), "");
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_NE(svg.find(">0.001</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1</text>"), std::string::npos);
  size_t polylines = 0;
  for (size_t k = svg.find("<polyline"); k != std::string::npos; k = svg.find("<polyline", k + 1))
    ++polylines;
  EXPECT_EQ(polylines, 2u);  // broken at the 0 and the NaN
}

TEST(SvgPlot, DegenerateInputsStillGiveAValidDocument) {
  PlotSpec empty;
  EXPECT_TRUE(starts_and_ends_right(line_plot_svg(empty)));
  EXPECT_EQ(check_xml(line_plot_svg(empty)), "");
  PlotSpec one;
  one.series.push_back({"point", {3}, {3}, "", false, false});
  one.series.push_back({"", {}, {}, "", false, false});
  const std::string svg = line_plot_svg(one);
  EXPECT_EQ(check_xml(svg), "");
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(SvgPlot, GridPlacesPanelsInRowsOfTheGivenColumns) {
  std::vector<PlotSpec> panels(5);
  for (size_t i = 0; i < panels.size(); ++i) {
    panels[i].title = "panel " + std::to_string(i);
    panels[i].width = 200;
    panels[i].height = i == 4 ? 180 : 150;
    panels[i].series.push_back({"s", {0, 1}, {0, double(i)}, "", false, false});
  }
  const std::string svg = grid_svg(panels, 2);
  EXPECT_TRUE(starts_and_ends_right(svg));
  EXPECT_EQ(check_xml(svg), "");
  EXPECT_NE(svg.find("width=\"400\" height=\"540\""), std::string::npos);  // 2 columns x 3 rows of 200 x 180
  EXPECT_NE(svg.find("translate(200,0)"), std::string::npos);
  EXPECT_NE(svg.find("translate(0,360)"), std::string::npos);
  EXPECT_NE(svg.find(">panel 4</text>"), std::string::npos);
  EXPECT_TRUE(starts_and_ends_right(grid_svg({}, 3)));
}

}  // namespace
}  // namespace vg
