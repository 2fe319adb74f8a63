#include "vesselgan/seg/training_curves.h"

#include "vesselgan/core/files.h"
#include "vesselgan/eval/svg_plot.h"

namespace vg {

namespace {
PlotSeries column(const std::vector<nlohmann::json>& rows, const std::string& key, const std::string& name) {
  PlotSeries s;
  s.name = name;
  for (const auto& r : rows) {
    if (!r.contains(key) || !r.contains("epoch")) continue;
    s.x.push_back(r["epoch"].get<double>());
    s.y.push_back(r[key].get<double>());
  }
  s.markers = s.x.size() < 30;
  return s;
}
}  // namespace

void write_training_curves(const std::filesystem::path& path, const std::vector<nlohmann::json>& rows) {
  PlotSpec loss;
  loss.title = "Loss";
  loss.x_label = "epoch";
  loss.y_label = "loss";
  loss.log_y = true;
  loss.series = {column(rows, "train_loss", "train"), column(rows, "val_loss", "validation")};
  PlotSpec score;
  score.title = "Validation (FOV, pooled)";
  score.x_label = "epoch";
  score.y_label = "score";
  score.legend = LegendPosition::kBottomRight;
  score.series = {column(rows, "val_f1", "F1"), column(rows, "val_auc", "ROC AUC")};
  // Two standalone SVG documents placed side by side in one outer SVG.
  const int w = loss.width, h = loss.height;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(2 * w) + "\" height=\"" +
                    std::to_string(h) + "\">\n";
  svg += "<g>" + line_plot_svg(loss) + "</g>\n";
  svg += "<g transform=\"translate(" + std::to_string(w) + ",0)\">" + line_plot_svg(score) + "</g>\n";
  svg += "</svg>\n";
  write_file_atomic(path, svg);
}

}  // namespace vg
