#include "vesselgan/gan/gan_curves.h"

#include "vesselgan/core/files.h"
#include "vesselgan/eval/svg_plot.h"

namespace vg {

namespace {
PlotSeries column(const std::vector<nlohmann::json>& rows, const std::string& key, const std::string& name) {
  return column_series(rows, "kimg", key, name);
}
}  // namespace

void write_gan_curves(const std::filesystem::path& path, const std::vector<nlohmann::json>& rows, double ada_target) {
  PlotSpec losses;
  losses.title = "Losses and logits";
  losses.x_label = "kimg";
  losses.y_label = "value";
  losses.series = {column(rows, "loss_g", "loss G"), column(rows, "loss_d", "loss D"),
                   column(rows, "logits_real", "D(real)"), column(rows, "logits_fake", "D(fake)")};
  PlotSpec ada;
  ada.title = "ADA";
  ada.x_label = "kimg";
  ada.y_label = "value";
  ada.y_min = -1;
  ada.y_max = 1;
  ada.legend = LegendPosition::kBottomRight;
  PlotSeries target = column(rows, "r_t", "target");
  for (auto& y : target.y) y = ada_target;
  target.dashed = true;
  target.markers = false;
  ada.series = {column(rows, "augment_p", "p"), column(rows, "r_t", "r_t = E[sign D(real)]"), target};
  write_file_atomic(path, side_by_side_svg({losses, ada}));
}

}  // namespace vg
