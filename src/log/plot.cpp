// Learning curves: eval.csv in, SVG out.
#include "edgerl/plot.hpp"

#include "core/text.hpp"
#include "log/files.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

namespace edgerl {
namespace {

// Tableau 10, the palette of matplotlib's default cycle.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string read_text(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw PlotError(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw PlotError(path + ": cannot read: " + std::strerror(errno));
  return text;
}

// Empty cells are missing values; anything else must be a number.
bool parse_cell(std::string_view cell, double& v, const std::string& where) {
  if (cell.empty()) return false;
  if (!parse_double(std::string(cell), &v))
    throw PlotError(where + ": '" + std::string(cell) + "' is not a number");
  return std::isfinite(v);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

// Spans and positions are computed on halves, x / 2 - y / 2: the difference of any two finite
// doubles is then finite, where x - y overflows to inf for values near the largest double (an
// infinite span made the tick loop endless). Halving is exact but for subnormal numbers, so an
// ordinary plot has the same bits either way.
constexpr double kLargest = std::numeric_limits<double>::max();
// More than an axis ever needs (about 5 to 11): a bound for any input.
constexpr int kMaxTicks = 64;

// 1, 2 or 5 times a power of ten, so that a span of 2 * `half_span` needs about `target` steps.
double nice_step(double half_span, int target) {
  const double raw = half_span / target * 2;
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  // p = 10^floor(log10(raw)), the same double as pow(10, k) (10^|k| is exact by products up
  // to 1e22, and 10^-k one correctly rounded division), without libm's pow and log10: this
  // line alone would link about 12 kB of them into the static binary (docs/edge.md).
  double up = 1, p = 1;
  if (raw >= 1) {
    while (up * 10 <= raw) up *= 10;
    p = up;
  } else {
    while (1 / up > raw && up < 1e300) up *= 10;  // (a subnormal span: p stays normal)
    p = 1 / up;
  }
  const double m = raw / p;
  const double step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  return std::isfinite(step) ? step : raw;
}

std::string tick_label(double v, double step) {
  char buf[32];
  const double a = std::fabs(v);
  if (std::fabs(v) < step * 1e-9) return "0";
  // (No suffix where %g would print an exponent anyway: 1e+302, not 1e+296M.)
  if (a >= 1e6 && a < 1e12 && step >= 1e5)
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  else if (a >= 1e3 && a < 1e9 && step >= 100)
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct Axis {
  double lo, hi, step;
};

// lo..hi widened to multiples of a nice step; an end that would pass the largest double stays
// where the data ends.
Axis make_axis(double lo, double hi) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo = std::max(lo - pad, -kLargest);
    hi = std::min(hi + pad, kLargest);
  }
  const double step = nice_step(hi / 2 - lo / 2, 5);
  const double a = std::floor(lo / step) * step, b = std::ceil(hi / step) * step;
  return {std::isfinite(a) ? a : lo, std::isfinite(b) ? b : hi, step};
}

// The multiples of the step from lo to hi, at most kMaxTicks of them.
std::vector<double> ticks(const Axis& a) {
  std::vector<double> v;
  const double first = std::ceil(a.lo / a.step - 1e-9), last = std::floor(a.hi / a.step + 1e-9);
  for (int i = 0; i < kMaxTicks && first + i <= last; ++i) {
    const double t = (first + i) * a.step;
    if (std::isfinite(t)) v.push_back(t);
  }
  return v;
}

// Where v lies from a.lo (0) to a.hi (1), without overflow.
double fraction(const Axis& a, double v) {
  return (v / 2 - a.lo / 2) / (a.hi / 2 - a.lo / 2);
}

// Numbers and fixed markup only: user text is escaped and appended directly.
void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& out, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  if (n > 0) out.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

}  // namespace

Curve read_curve(const std::string& csv_path, const std::string& metric, std::string label) {
  const std::string text = read_text(csv_path);
  const size_t header_end = text.find('\n');
  if (header_end == std::string::npos) throw PlotError(csv_path + ": has no header line");
  const auto header = logfiles::split_csv_line(std::string_view(text).substr(0, header_end));
  auto column = [&](const std::string& name) -> long {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : it - header.begin();
  };
  const long t_col = column("timestep");
  long mean_col = column(metric + "_mean");
  const long lo_col = column(metric + "_min"), hi_col = column(metric + "_max");
  if (mean_col < 0) mean_col = column(metric);
  if (t_col < 0) throw PlotError(csv_path + ": has no timestep column; is it an eval.csv?");
  if (mean_col < 0)
    throw PlotError(csv_path + ": has no " + metric + "_mean or " + metric + " column");
  const bool band = lo_col >= 0 && hi_col >= 0;

  Curve curve;
  curve.label = std::move(label);
  std::vector<std::array<double, 4>> rows;
  size_t pos = header_end + 1;
  for (int line = 2; pos < text.size(); ++line) {
    const size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;  // torn by a run that is still writing
    const auto cells = logfiles::split_csv_line(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    const std::string where = csv_path + ":" + std::to_string(line);
    if (cells.size() != header.size())
      throw PlotError(where + ": has " + std::to_string(cells.size()) + " cells, the header " +
                      std::to_string(header.size()));
    std::array<double, 4> r{};
    if (!parse_cell(cells[t_col], r[0], where) || !parse_cell(cells[mean_col], r[1], where))
      continue;
    if (band &&
        (!parse_cell(cells[lo_col], r[2], where) || !parse_cell(cells[hi_col], r[3], where)))
      r[2] = r[3] = r[1];
    rows.push_back(r);
  }
  if (rows.empty()) throw PlotError(csv_path + ": has no rows with a value of " + metric);
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a[0] < b[0]; });
  for (const auto& r : rows) {
    curve.timestep.push_back(r[0]);
    curve.mean.push_back(r[1]);
    if (band) {
      curve.lo.push_back(r[2]);
      curve.hi.push_back(r[3]);
    }
  }
  return curve;
}

std::string render_svg(const std::vector<Curve>& curves, const PlotOptions& options) {
  constexpr double left = 72, right = 24, top = 44, bottom = 56, legend_row = 20;
  const double width = options.width, plot_height = options.height;
  const double height = plot_height + legend_row * static_cast<double>(curves.size()) + 8;
  const double x0 = left, x1 = width - right, y0 = top, y1 = plot_height - bottom;

  double t_lo = 0, t_hi = 0, v_lo = INFINITY, v_hi = -INFINITY;
  for (const auto& c : curves) {
    for (size_t i = 0; i < c.timestep.size(); ++i) {
      t_lo = std::min(t_lo, c.timestep[i]);
      t_hi = std::max(t_hi, c.timestep[i]);
      v_lo = std::min(v_lo, c.lo.empty() ? c.mean[i] : std::min(c.lo[i], c.mean[i]));
      v_hi = std::max(v_hi, c.hi.empty() ? c.mean[i] : std::max(c.hi[i], c.mean[i]));
    }
  }
  if (!(v_lo <= v_hi)) v_lo = v_hi = 0;
  const Axis xa = make_axis(t_lo, t_hi), ya = make_axis(v_lo, v_hi);
  const auto px = [&](double t) { return x0 + fraction(xa, t) * (x1 - x0); };
  const auto py = [&](double v) { return y1 - fraction(ya, v) * (y1 - y0); };

  std::string svg;
  svg.reserve(4096);
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  appendf(svg,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
          "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
          "font-size=\"12\">\n",
          width, height, width, height);
  appendf(svg, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", width, height);
  if (!options.title.empty()) {
    appendf(svg, "<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">",
            (x0 + x1) / 2);
    svg += xml_escape(options.title) + "</text>\n";
  }

  const std::vector<double> x_ticks = ticks(xa), y_ticks = ticks(ya);
  svg += "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (const double v : x_ticks)
    appendf(svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", px(v), y0, px(v), y1);
  for (const double v : y_ticks)
    appendf(svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x0, py(v), x1, py(v));
  svg += "</g>\n<g fill=\"#333\">\n";
  for (const double v : x_ticks)
    appendf(svg, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n", px(v), y1 + 18,
            tick_label(v, xa.step).c_str());
  for (const double v : y_ticks)
    appendf(svg, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", x0 - 8, py(v) + 4,
            tick_label(v, ya.step).c_str());
  appendf(svg, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">timestep</text>\n",
          (x0 + x1) / 2, y1 + 40);
  appendf(svg,
          "<text x=\"18\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.2f)\">",
          (y0 + y1) / 2, (y0 + y1) / 2);
  svg += xml_escape(options.y_label) + "</text>\n";
  svg += "</g>\n";
  appendf(svg,
          "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
          "stroke=\"#333\"/>\n",
          x0, y0, x1 - x0, y1 - y0);

  for (size_t k = 0; k < curves.size(); ++k) {
    const Curve& c = curves[k];
    const char* colour = kPalette[k % (sizeof kPalette / sizeof *kPalette)];
    const size_t n = c.timestep.size();
    if (n > 0 && !c.lo.empty()) {
      appendf(svg, "<polygon fill=\"%s\" fill-opacity=\"0.2\" stroke=\"none\" points=\"", colour);
      for (size_t i = 0; i < n; ++i) appendf(svg, "%.2f,%.2f ", px(c.timestep[i]), py(c.hi[i]));
      for (size_t i = n; i-- > 0;) appendf(svg, "%.2f,%.2f ", px(c.timestep[i]), py(c.lo[i]));
      svg.back() = '"';
      svg += "/>\n";
    }
    if (n > 0) {
      appendf(svg,
              "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\" "
              "points=\"",
              colour);
      for (size_t i = 0; i < n; ++i) appendf(svg, "%.2f,%.2f ", px(c.timestep[i]), py(c.mean[i]));
      svg.back() = '"';
      svg += "/>\n";
    }
    if (n == 1)
      appendf(svg, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", px(c.timestep[0]),
              py(c.mean[0]), colour);
    const double ly = plot_height + legend_row * static_cast<double>(k) + 4;
    appendf(svg,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"3\"/>\n",
            x0, ly, x0 + 24, ly, colour);
    appendf(svg, "<text x=\"%.2f\" y=\"%.2f\">", x0 + 32, ly + 4);
    svg += xml_escape(c.label);
    svg += "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace edgerl
