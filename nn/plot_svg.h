// nn/plot_svg.h — small line plots as standalone SVG (learning curves, gradient norms over time steps).
// No dependency: the file opens in any browser. Axis labels, ticks, a legend, optional log-scale y.
#pragma once

#include "nn/safetensors.h"  // write_file_atomic (temporary file, fsync, rename): how plots and CSVs are written

#include <string>
#include <vector>

namespace unroll {

struct PlotSeries {
  std::string name;                 // legend entry
  std::vector<double> x, y;         // same length; non-finite points (and y <= 0 on a log axis) are skipped
};

struct PlotOptions {
  std::string title;
  std::string x_label = "x";
  std::string y_label = "y";
  bool log_y = false;               // e.g. gradient norms spanning many orders of magnitude
  int width = 720, height = 440;
};

std::string plot_svg(const std::vector<PlotSeries>& series, const PlotOptions& options);

// CSV with a header: x_name, then one column per series (series must share x). Throws if they do not.
std::string series_csv(const std::string& x_name, const std::vector<PlotSeries>& series);

}  // namespace unroll
