// plot: learning curves read from run folders' eval.csv, drawn as a dependency-free SVG (mean line,
// min-max band, one colour per run, a legend). `edgerl plot` (src/cmd_plot.cpp) is its front end.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "edgerl/error.hpp"

namespace edgerl {

// An unreadable or unsuitable input: what() is one line naming the file (and line).
struct PlotError : Error {
  using Error::Error;
};

// One run's curve; lo/hi are empty when the CSV has no min/max columns for the metric.
struct Curve {
  std::string label;
  std::vector<double> timestep, mean, lo, hi;
};

// Reads `metric` from an eval.csv written by the logger: <metric>_mean with <metric>_min and
// <metric>_max as the band, or a plain <metric> column. Rows whose cells are empty or not
// finite are skipped, as is a torn last line (a run still writing). Throws PlotError.
Curve read_curve(const std::string& csv_path, const std::string& metric, std::string label);

struct PlotOptions {
  std::string title;
  std::string y_label = "episode return";
  int width = 800;
  int height = 480;  // of the plot; each legend row adds to it
};

// A standalone SVG 1.1 document. Each curve is one <polyline> with a point per row, and, when
// it has a band, one <polygon> with two points per row.
std::string render_svg(const std::vector<Curve>& curves, const PlotOptions& options);

}  // namespace edgerl
