// nn/plot_svg.h — small line plots as standalone SVG (learning curves, gradient norms over time steps).
// No dependency: the file opens in any browser. Axis labels, ticks, a legend, optional log-scale y.
#pragma once

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

// Writes text to path through a temporary file and a rename, so a reader never sees half a file.
void write_file_atomic(const std::string& path, const std::string& text);

// CSV with a header: x_name, then one column per series (series must share x). Throws if they do not.
std::string series_csv(const std::string& x_name, const std::vector<PlotSeries>& series);

}  // namespace unroll
