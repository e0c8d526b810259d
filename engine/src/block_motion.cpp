#include "haineifrdm/block_motion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

constexpr float kTrunc = 0.1f;   // per-pixel cap of the search cost (objects, defects)
constexpr int32_t kRefine = 2;   // search radius at the finer levels
constexpr int32_t kCoarse = 4;   // resolution divisor of the exhaustive search

// Mean truncated |centre - neighbour(p + d)| over the square [y0, y1) x [x0, x1) of
// one level; infinity when under half the square is covered by the moved frame, and
// as soon as the rows summed so far put the mean above `give_up` (the sum only grows,
// so such a displacement cannot win; the margin keeps rounding from ever dropping one
// that would have: the search's result is the exhaustive one, bit for bit).
double square_cost(const Grey& c, const Grey& n, int level, int32_t y0, int32_t x0, int32_t y1,
                   int32_t x1, int32_t dy, int32_t dx, double give_up) {
  const int32_t ya = std::max(y0, -dy), yb = std::min(y1, n.h[level] - dy);
  const int32_t xa = std::max(x0, -dx), xb = std::min(x1, n.w[level] - dx);
  const int64_t covered = static_cast<int64_t>(std::max(yb - ya, 0)) * std::max(xb - xa, 0);
  const int64_t area = static_cast<int64_t>(y1 - y0) * (x1 - x0);
  if (covered == 0 || 2 * covered < area) return std::numeric_limits<double>::infinity();
  const double limit = give_up * static_cast<double>(covered) * (1.0 + 1e-9) + 1e-12;
  const float* cp = c.px[level].data();
  const float* np = n.px[level].data();
  const int64_t cw = c.w[level], nw = n.w[level];
  double total = 0.0;
  for (int32_t y = ya; y < yb; ++y) {
    const float* crow = cp + y * cw;
    const float* nrow = np + (y + dy) * nw + dx;
    float row = 0.0f;
    for (int32_t x = xa; x < xb; ++x) row += std::min(std::fabs(crow[x] - nrow[x]), kTrunc);
    total += row;
    if (total > limit) return std::numeric_limits<double>::infinity();
  }
  return total / static_cast<double>(covered);
}

}  // namespace

Grey make_grey(const float* rgb, int32_t h, int32_t w) {
  Grey g;
  g.h[0] = h;
  g.w[0] = w;
  g.px[0].resize(sz(static_cast<int64_t>(h) * w));
  for (int64_t i = 0; i < static_cast<int64_t>(h) * w; ++i) {
    g.px[0][sz(i)] = (rgb[i * 3] + rgb[i * 3 + 1] + rgb[i * 3 + 2]) * (1.0f / 3.0f);
  }
  for (int l = 1; l < 3; ++l) {
    const int32_t ph = g.h[l - 1], pw = g.w[l - 1];
    g.h[l] = std::max(ph / 2, 1);
    g.w[l] = std::max(pw / 2, 1);
    g.px[l].resize(sz(static_cast<int64_t>(g.h[l]) * g.w[l]));
    for (int32_t y = 0; y < g.h[l]; ++y) {
      for (int32_t x = 0; x < g.w[l]; ++x) {
        const int32_t y0 = std::min(2 * y, ph - 1), y1 = std::min(2 * y + 1, ph - 1);
        const int32_t x0 = std::min(2 * x, pw - 1), x1 = std::min(2 * x + 1, pw - 1);
        g.px[l][sz(static_cast<int64_t>(y) * g.w[l] + x)] =
            0.25f * (g.at(l - 1, y0, x0) + g.at(l - 1, y0, x1) + g.at(l - 1, y1, x0) +
                     g.at(l - 1, y1, x1));
      }
    }
  }
  return g;
}

std::vector<Grey> window_greys(const float* window, int32_t frames, int32_t h, int32_t w,
                               ThreadPool* pool) {
  const int64_t npx = static_cast<int64_t>(h) * w;
  std::vector<Grey> grey(sz(frames));
  run_on(pool, frames, [&](int64_t lo, int64_t hi) {
    for (int64_t f = lo; f < hi; ++f) grey[sz(f)] = make_grey(window + sz(f * npx * 3), h, w);
  });
  return grey;
}

std::vector<int32_t> other_frames(int32_t frames, int32_t centre) {
  std::vector<int32_t> others;
  for (int32_t f = 0; f < frames; ++f) {
    if (f != centre) others.push_back(f);
  }
  return others;
}

// One displacement for the full-resolution square [y0, y1) x [x0, x1).
Motion square_motion(const Grey& c, const Grey& n, int32_t y0, int32_t x0, int32_t y1, int32_t x1,
                     int32_t max_shift) {
  int32_t by = 0, bx = 0;
  for (int level = 2; level >= 0; --level) {
    const int32_t s = 1 << level;
    const int32_t ly0 = std::min(y0 / s, c.h[level] - 1), lx0 = std::min(x0 / s, c.w[level] - 1);
    const int32_t ly1 = std::clamp((y1 + s - 1) / s, ly0 + 1, c.h[level]);
    const int32_t lx1 = std::clamp((x1 + s - 1) / s, lx0 + 1, c.w[level]);
    int32_t cy = 2 * by, cx = 2 * bx, radius = kRefine;
    if (level == 2) {
      cy = cx = 0;
      radius = (max_shift + kCoarse - 1) / kCoarse;
    }
    double best = std::numeric_limits<double>::infinity();
    int32_t ay = cy, ax = cx;
    for (int32_t dy = cy - radius; dy <= cy + radius; ++dy) {
      for (int32_t dx = cx - radius; dx <= cx + radius; ++dx) {
        // a tiny pull towards no motion settles ties in flat squares; a displacement
        // that cannot beat the best so far is given up part way (square_cost)
        const double pull = 1e-6 * (std::abs(dy) + std::abs(dx)) * s;
        const double cost = square_cost(c, n, level, ly0, lx0, ly1, lx1, dy, dx, best - pull) +
                            pull;
        if (cost < best) {
          best = cost;
          ay = dy;
          ax = dx;
        }
      }
    }
    if (!std::isfinite(best)) return Motion{};
    by = ay;
    bx = ax;
  }
  Motion m{by, bx, 0.0f, true};
  double sum = 0.0;
  int64_t count = 0;
  for (int32_t y = std::max(y0, -by); y < std::min(y1, c.h[0] - by); ++y) {
    for (int32_t x = std::max(x0, -bx); x < std::min(x1, c.w[0] - bx); ++x) {
      const float d = c.at(0, y, x) - n.at(0, y + by, x + bx);
      if (std::fabs(d) < kTrunc) {
        sum += d;
        ++count;
      }
    }
  }
  if (count > 0) m.offset = static_cast<float>(sum / static_cast<double>(count));
  return m;
}

float shifted_diff(const Grey& c, const Grey& n, int32_t y, int32_t x, const Motion& m,
                   bool subpixel) {
  const int32_t ny = y + m.dy, nx = x + m.dx;
  if (ny < 0 || nx < 0 || ny >= n.h[0] || nx >= n.w[0]) return 1.0f;
  const float v = c.at(0, y, x) - m.offset, a = n.at(0, ny, nx);
  if (!subpixel) return std::fabs(v - a);
  float lo = a, hi = a;
  const int32_t dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
  for (int k = 0; k < 4; ++k) {
    const int32_t yy = ny + dy[k], xx = nx + dx[k];
    if (yy < 0 || xx < 0 || yy >= n.h[0] || xx >= n.w[0]) continue;
    const float half = 0.5f * (a + n.at(0, yy, xx));
    lo = std::min(lo, half);
    hi = std::max(hi, half);
  }
  return std::max({lo - v, v - hi, 0.0f});
}

float box_shifted_diff(const Grey& c, const Grey& n, int32_t y, int32_t x, const Motion& m,
                       bool subpixel) {
  const int32_t h = c.h[0], w = c.w[0];
  float sum = 0.0f;
  for (int32_t yy = y - 1; yy <= y + 1; ++yy) {
    for (int32_t xx = x - 1; xx <= x + 1; ++xx) {
      const int32_t ry = std::clamp(yy < 0 ? -yy : (yy >= h ? 2 * h - 2 - yy : yy), 0, h - 1);
      const int32_t rx = std::clamp(xx < 0 ? -xx : (xx >= w ? 2 * w - 2 - xx : xx), 0, w - 1);
      sum += shifted_diff(c, n, ry, rx, m, subpixel);
    }
  }
  return sum / 9.0f;
}

}  // namespace haineifrdm
