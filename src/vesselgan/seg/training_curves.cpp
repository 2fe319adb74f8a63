#include "vesselgan/seg/training_curves.h"

#include "vesselgan/core/files.h"
#include "vesselgan/eval/svg_plot.h"

namespace vg {

namespace {
PlotSeries column(const std::vector<nlohmann::json>& rows, const std::string& key, const std::string& name) {
  return column_series(rows, "epoch", key, name);
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
  write_file_atomic(path, side_by_side_svg({loss, score}));
}

}  // namespace vg
