#include "cli/render.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/detmath.hpp"

namespace edgerl::cli {
namespace {

// detmath's sin and cos (libm's would add ~30 kB to the static binaries), called, not inlined
// at each of the drawings' call sites.
[[gnu::noinline]] double sin_of(double x) {
  return detmath::sin(x);
}
[[gnu::noinline]] double cos_of(double x) {
  return detmath::cos(x);
}

struct Canvas {
  int w, h;
  std::vector<std::string> rows;
  Canvas(int w_, int h_)
      : w(w_), h(h_), rows(static_cast<size_t>(h_), std::string(static_cast<size_t>(w_), ' ')) {}
  void put(int x, int y, char c) {
    if (x >= 0 && x < w && y >= 0 && y < h)
      rows[static_cast<size_t>(y)][static_cast<size_t>(x)] = c;
  }
  // A line from (x0, y0) to (x1, y1) in canvas cells (Bresenham).
  void line(int x0, int y0, int x1, int y1, char c) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
      put(x0, y0, c);
      if (x0 == x1 && y0 == y1) return;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  std::string text() const {
    std::string out;
    for (const std::string& r : rows) out += r + "\n";
    return out;
  }
};

// World coordinates (x right, y up) to cells; a cell is about twice as tall as it is wide.
struct View {
  double x0, x1, y0, y1;
  int w, h;
  int cx(double x) const { return static_cast<int>(std::lround((x - x0) / (x1 - x0) * (w - 1))); }
  int cy(double y) const { return static_cast<int>(std::lround((y1 - y) / (y1 - y0) * (h - 1))); }
};

}  // namespace

std::string render_ascii(const Env& env, int w, int h, const std::string& status) {
  Canvas c(w, h);
  const std::string& name = env.info().name;
  const double* s = env.state();
  if (name == "CartPole-v1") {
    const View v{-2.4, 2.4, -0.2, 1.6, w, h};
    for (int x = 0; x < w; ++x) c.put(x, v.cy(0.0), '-');
    const double cart = s[0], theta = s[2];
    const int cy = v.cy(0.1);
    for (int x = v.cx(cart - 0.25); x <= v.cx(cart + 0.25); ++x) c.put(x, cy, '#');
    c.line(v.cx(cart), cy - 1, v.cx(cart + sin_of(theta)), v.cy(0.1 + cos_of(theta)), '|');
    c.put(v.cx(cart + sin_of(theta)), v.cy(0.1 + cos_of(theta)), 'o');
  } else if (name == "Pendulum-v1") {
    const View v{-1.4, 1.4, -1.4, 1.4, w, h};
    const double theta = s[0];  // 0 = upright
    c.line(v.cx(0), v.cy(0), v.cx(sin_of(theta)), v.cy(cos_of(theta)), '*');
    c.put(v.cx(sin_of(theta)), v.cy(cos_of(theta)), 'O');
    c.put(v.cx(0), v.cy(0), '+');
  } else if (name == "MountainCar-v0" || name == "MountainCarContinuous-v0") {
    const View v{-1.2, 0.6, -0.1, 1.1, w, h};
    auto height = [](double x) { return 0.45 * sin_of(3 * x) + 0.55; };
    for (int x = 0; x < w; ++x) {
      const double wx = v.x0 + (v.x1 - v.x0) * x / (w - 1);
      c.put(x, v.cy(height(wx)), '.');
    }
    const double goal = name == "MountainCar-v0" ? 0.5 : 0.45;
    c.line(v.cx(goal), v.cy(height(goal)), v.cx(goal), v.cy(height(goal)) - 3, '|');
    c.put(v.cx(goal) + 1, v.cy(height(goal)) - 3, '>');
    c.put(v.cx(s[0]), v.cy(height(s[0])) - 1, '@');
  } else if (name == "Acrobot-v1") {
    const View v{-2.2, 2.2, -2.2, 2.2, w, h};
    const double x1 = sin_of(s[0]), y1 = -cos_of(s[0]);
    const double x2 = x1 + sin_of(s[0] + s[1]), y2 = y1 - cos_of(s[0] + s[1]);
    c.line(v.cx(0), v.cy(0), v.cx(x1), v.cy(y1), '*');
    c.line(v.cx(x1), v.cy(y1), v.cx(x2), v.cy(y2), '*');
    for (int x = 0; x < w; ++x) c.put(x, v.cy(1.0), '-');  // the line to swing above
    c.put(v.cx(0), v.cy(0), '+');
  } else {
    std::string line;
    for (size_t i = 0; i < env.info().state_dim; ++i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s %.4f  ", env.info().state_names[i].c_str(), s[i]);
      line += buf;
    }
    c.rows[0] = line.substr(0, static_cast<size_t>(w));
  }
  return c.text() + status + "\n";
}

}  // namespace edgerl::cli
