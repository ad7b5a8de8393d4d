// nn/plot_svg.cc — SVG line plots and CSV for learning curves and gradient-flow curves.
#include "nn/plot_svg.h"

#include "engine/check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace unroll {

namespace {
const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// About n "nice" tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k).
std::vector<double> nice_ticks(double lo, double hi, int n) {
  double span = hi - lo;
  if (!(span > 0)) return {lo};
  double raw = span / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  // Count the ticks rather than adding steps: a step below the ULP of lo would never advance.
  const double first = std::ceil(lo / step) * step;
  const double count = std::floor((hi - first) / step + 1e-9) + 1;
  if (!(count >= 1 && count <= 100)) return {lo, hi};
  std::vector<double> t;
  for (int i = 0; i < int(count); ++i) {
    double v = first + i * step;
    t.push_back(std::abs(v) < 1e-12 * step ? 0 : v);
  }
  return t;
}
}  // namespace

std::string plot_svg(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  const double L = 80, R = 170, Tm = 40, Bm = 55;  // margins: the legend sits on the right
  const double W = o.width - L - R, H = o.height - Tm - Bm;
  auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0); };
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : series) {
    UNROLL_CHECK(s.x.size() == s.y.size(), "plot_svg: series '{}' has {} x and {} y values", s.name, s.x.size(), s.y.size());
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], s.y[i])) continue;
      double y = o.log_y ? std::log10(s.y[i]) : s.y[i];
      xmin = std::min(xmin, s.x[i]); xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, y); ymax = std::max(ymax, y);
    }
  }
  if (!std::isfinite(xmin)) { xmin = 0; xmax = 1; ymin = 0; ymax = 1; }
  if (xmax == xmin) { xmin -= 0.5; xmax += 0.5; }
  if (ymax == ymin) { ymin -= 0.5; ymax += 0.5; }
  if (o.log_y) { ymin = std::floor(ymin); ymax = std::ceil(ymax); }
  else { double pad = 0.05 * (ymax - ymin); ymin -= pad; ymax += pad; }
  auto px = [&](double x) { return L + (x - xmin) / (xmax - xmin) * W; };
  auto py = [&](double y) { return Tm + (1 - (y - ymin) / (ymax - ymin)) * H; };

  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      o.width, o.height, o.width, o.height);
  s += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", L + W / 2, esc(o.title));
  // grid and ticks
  for (double t : nice_ticks(xmin, xmax, 8))
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e6e6e6\"/>"
                     "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4:g}</text>\n",
                     px(t), Tm, Tm + H, Tm + H + 16, t);
  std::vector<double> yt = o.log_y ? std::vector<double>{} : nice_ticks(ymin, ymax, 6);
  if (o.log_y) for (double e = ymin; e <= ymax; e += std::max(1.0, std::ceil((ymax - ymin) / 8))) yt.push_back(e);
  for (double t : yt)
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e6e6e6\"/>"
                     "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                     L, py(t), L + W, L - 6, py(t) + 4, o.log_y ? fmt::format("1e{:g}", t) : fmt::format("{:g}", t));
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", L, Tm, W, H);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", L + W / 2, o.height - 12, esc(o.x_label));
  s += fmt::format("<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">{1}</text>\n",
                   Tm + H / 2, esc(o.y_label + (o.log_y ? " (log scale)" : "")));
  // series and legend
  for (std::size_t k = 0; k < series.size(); ++k) {
    const char* color = kColors[k % 8];
    std::string pts;
    for (std::size_t i = 0; i < series[k].x.size(); ++i) {
      if (!usable(series[k].x[i], series[k].y[i])) continue;
      double y = o.log_y ? std::log10(series[k].y[i]) : series[k].y[i];
      pts += fmt::format("{:.1f},{:.1f} ", px(series[k].x[i]), py(y));
    }
    s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" points=\"{}\"/>\n", color, pts);
    double ly = Tm + 14 + 20.0 * k;
    s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>"
                     "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
                     L + W + 12, ly, L + W + 34, color, L + W + 40, ly + 4, esc(series[k].name));
  }
  s += "</svg>\n";
  return s;
}

std::string series_csv(const std::string& x_name, const std::vector<PlotSeries>& series) {
  std::string out = x_name;
  for (const auto& s : series) out += "," + s.name;
  out += "\n";
  if (series.empty()) return out;
  for (const auto& s : series)
    UNROLL_CHECK(s.x == series[0].x, "series_csv: series '{}' does not share x with '{}'", s.name, series[0].name);
  for (std::size_t i = 0; i < series[0].x.size(); ++i) {
    out += fmt::format("{:g}", series[0].x[i]);
    for (const auto& s : series) out += fmt::format(",{:.9g}", s.y[i]);
    out += "\n";
  }
  return out;
}

}  // namespace unroll
