// tests/test_plot_progress.cc — SVG plots (axis labels, legend, log scale), CSV, atomic writes, progress line.
#include "engine/check.h"
#include "nn/plot_svg.h"
#include "nn/progress.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <sstream>

using namespace unroll;

TEST_CASE("plot_svg: labels, legend and one polyline per series") {
  PlotSeries a{"RNN", {0, 1, 2, 3}, {1, 0.1, 0.01, 0.001}};
  PlotSeries b{"LSTM", {0, 1, 2, 3}, {1, 0.9, 0.8, 0.7}};
  std::string svg = plot_svg({a, b}, {.title = "gradient norm", .x_label = "time step t", .y_label = "||dL/dh_t||", .log_y = true});
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("time step t") != std::string::npos);
  CHECK(svg.find("||dL/dh_t|| (log scale)") != std::string::npos);
  CHECK(svg.find(">RNN</text>") != std::string::npos);
  CHECK(svg.find(">LSTM</text>") != std::string::npos);
  CHECK(svg.find("1e-3") != std::string::npos);  // a decade tick on the log axis
  std::size_t lines = 0;
  for (std::size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++lines;
  CHECK(lines == 2);
}

TEST_CASE("plot_svg: mismatched series lengths are an error naming the series") {
  PlotSeries bad{"dev", {0, 1}, {1}};
  CHECK_THROWS_WITH_AS(plot_svg({bad}, {}), doctest::Contains("series 'dev' has 2 x and 1 y"), ShapeError);
}

TEST_CASE("series_csv: header and rows; x must be shared") {
  PlotSeries tr{"train", {1, 2}, {2.5, 2.0}}, dv{"dev", {1, 2}, {2.6, 2.2}};
  CHECK(series_csv("epoch", {tr, dv}) == "epoch,train,dev\n1,2.5,2.6\n2,2,2.2\n");
  PlotSeries other{"x", {1, 3}, {0, 0}};
  CHECK_THROWS_AS(series_csv("epoch", {tr, other}), ShapeError);
}

TEST_CASE("write_file_atomic: replaces the file whole and leaves no temporary") {
  auto dir = std::filesystem::temp_directory_path() / "unroll_atomic_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / "curve.csv").string();
  write_file_atomic(path, "old\n");
  write_file_atomic(path, "new\n");
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  CHECK(ss.str() == "new\n");
  std::size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("plot_svg: a curve flat to the last bit still draws (ticks are counted, not stepped)") {
  PlotSeries flat{"loss", {0, 1}, {1.0, std::nextafter(1.0, 2.0)}};
  std::string svg = plot_svg({flat}, {});
  CHECK(svg.find("<polyline") != std::string::npos);
}

TEST_CASE("Progress: the status line carries epoch, step, loss and tokens/s") {
  Progress p(10, 1000, true);
  p.update(1, 2.5, 100);
  p.update(1, 2.0, 100);
  std::string s = p.line();
  CHECK(s.find("epoch 1 step 2/10 loss 2.0000") != std::string::npos);
  CHECK(s.find("tok/s") != std::string::npos);
}
