#include "haineifrdm/registration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "haineifrdm/patch_grid.hpp"
#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

constexpr int32_t kFactors[] = {1, 2, 4, 8};
constexpr int32_t kRefine = 2;  // search radius at every finer level

}  // namespace

int32_t scaled_max_shift(int32_t side, int32_t full_side) {
  if (side <= 0 || full_side <= 0) throw std::invalid_argument("scaled_max_shift: sides must be positive");
  return static_cast<int32_t>(
      std::ceil(static_cast<double>(kMaxShiftPerFrame) * side / full_side));
}

WindowPyramid::WindowPyramid(const float* window, int32_t frames, int32_t h, int32_t w,
                             ThreadPool* pool)
    : frames_(frames) {
  if (frames <= 0 || h <= 0 || w <= 0) {
    throw std::invalid_argument("WindowPyramid: empty window");
  }
  const int64_t npx = static_cast<int64_t>(h) * w;
  Level base;
  base.factor = 1;
  base.h = h;
  base.w = w;
  base.grey.resize(sz(frames * npx));
  run_on(pool, frames * static_cast<int64_t>(h), [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      const float* src = window + sz(row * w * 3);
      float* dst = base.grey.data() + sz(row * w);
      for (int32_t x = 0; x < w; ++x) {
        dst[x] = (src[x * 3] + src[x * 3 + 1] + src[x * 3 + 2]) * (1.0f / 3.0f);
      }
    }
  });
  levels_.push_back(std::move(base));
  for (size_t li = 1; li < std::size(kFactors); ++li) {
    const Level& prev = levels_.back();
    if (prev.h < 2 || prev.w < 2) break;
    Level lv;
    lv.factor = kFactors[li];
    lv.h = prev.h / 2;
    lv.w = prev.w / 2;
    lv.grey.resize(sz(static_cast<int64_t>(frames) * lv.h * lv.w));
    const int64_t ppx = static_cast<int64_t>(prev.h) * prev.w;
    const int64_t lpx = static_cast<int64_t>(lv.h) * lv.w;
    run_on(pool, static_cast<int64_t>(frames) * lv.h, [&](int64_t lo, int64_t hi) {
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t f = task / lv.h;
        const int64_t y = task % lv.h;
        const float* a = prev.grey.data() + sz(f * ppx + 2 * y * prev.w);
        const float* b = a + prev.w;
        float* dst = lv.grey.data() + sz(f * lpx + y * lv.w);
        for (int32_t x = 0; x < lv.w; ++x) {
          dst[x] = 0.25f * (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1]);
        }
      }
    });
    levels_.push_back(std::move(lv));
  }
}

double WindowPyramid::cost(const Level& lv, int32_t f, int32_t y0, int32_t x0, int32_t y1,
                           int32_t x1, int32_t dy, int32_t dx, bool penalise_uncovered) const {
  // region [y0, y1) x [x0, x1) of the centre against the frame moved by (dy, dx)
  const int32_t ya = std::max(y0, -dy), yb = std::min(y1, lv.h - dy);
  const int32_t xa = std::max(x0, -dx), xb = std::min(x1, lv.w - dx);
  const int64_t area = static_cast<int64_t>(y1 - y0) * (x1 - x0);
  const int64_t n = static_cast<int64_t>(std::max(yb - ya, 0)) * std::max(xb - xa, 0);
  if (4 * n < area || n == 0) return std::numeric_limits<double>::infinity();
  const int64_t lpx = static_cast<int64_t>(lv.h) * lv.w;
  const float* c = lv.grey.data() + sz((frames_ / 2) * lpx);
  const float* g = lv.grey.data() + sz(f * lpx);
  // each side's mean over the overlap removed: flicker (a grey-level offset) and the
  // content's changing average do not pull the answer
  double sum_c = 0.0, sum_g = 0.0;
  for (int32_t y = ya; y < yb; ++y) {
    const float* cr = c + sz(static_cast<int64_t>(y) * lv.w);
    const float* gr = g + sz(static_cast<int64_t>(y + dy) * lv.w + dx);
    float rc = 0.0f, rg = 0.0f;
    for (int32_t x = xa; x < xb; ++x) {
      rc += cr[x];
      rg += gr[x];
    }
    sum_c += rc;
    sum_g += rg;
  }
  const auto bias = static_cast<float>((sum_c - sum_g) / static_cast<double>(n));
  double total = 0.0;
  for (int32_t y = ya; y < yb; ++y) {
    const float* cr = c + sz(static_cast<int64_t>(y) * lv.w);
    const float* gr = g + sz(static_cast<int64_t>(y + dy) * lv.w + dx);
    float row = 0.0f;
    for (int32_t x = xa; x < xb; ++x) row += std::min(std::fabs(cr[x] - gr[x] - bias), kTruncate);
    total += row;
  }
  // in the exhaustive search a pixel the frame does not cover costs kUncovered:
  // partial overlaps of flat or dark corners must not beat the true motion of the
  // whole region; a +-2 px refinement compares like with like (no bias to small
  // shifts at the frame's edges)
  if (!penalise_uncovered) return total / static_cast<double>(n);
  return (total + static_cast<double>(area - n) * kUncovered) / static_cast<double>(area);
}

std::vector<Shift> WindowPyramid::patch_shifts(int32_t y, int32_t x, int32_t size,
                                               int32_t max_shift) const {
  if (size <= 0) throw std::invalid_argument("patch_shifts: size must be positive");
  std::vector<Shift> shifts(sz(frames_));
  const int32_t centre = frames_ / 2;
  // the region matched: the patch, widened about its centre to at least kMinRegion
  // pixels a side (small patches see too little to match reliably), inside the frame
  const Level& full = levels_.front();
  const int32_t side = std::max(size, kMinRegion);
  const int32_t ry0 = std::max(y + size / 2 - side / 2, 0);
  const int32_t rx0 = std::max(x + size / 2 - side / 2, 0);
  const int32_t ry1 = std::min(y + size / 2 - side / 2 + side, full.h);
  const int32_t rx1 = std::min(x + size / 2 - side / 2 + side, full.w);
  if (ry1 <= ry0 || rx1 <= rx0) return shifts;
  // coarsest level whose view of the region is still at least kMinCoarseSide wide
  const int32_t view = std::min(ry1 - ry0, rx1 - rx0);
  size_t top = 0;
  while (top + 1 < levels_.size() && view / levels_[top + 1].factor >= kMinCoarseSide) ++top;
  for (int32_t f = 0; f < frames_; ++f) {
    if (f == centre) continue;
    const int32_t dist = std::abs(f - centre);
    int32_t by = 0, bx = 0;
    for (size_t li = top + 1; li-- > 0;) {
      const Level& lv = levels_[li];
      const int32_t s = lv.factor;
      const int32_t y0 = std::min(ry0 / s, lv.h - 1), x0 = std::min(rx0 / s, lv.w - 1);
      const int32_t y1 = std::clamp(ry1 / s, y0 + 1, lv.h), x1 = std::clamp(rx1 / s, x0 + 1, lv.w);
      int32_t cy = 0, cx = 0, radius = 0;
      if (li == top) {
        radius = (max_shift * dist + s - 1) / s;
      } else {
        const int32_t up = levels_[li + 1].factor / s;
        cy = by * up;
        cx = bx * up;
        radius = kRefine;
      }
      double best = std::numeric_limits<double>::infinity();
      int32_t ay = cy, ax = cx;
      for (int32_t dy = cy - radius; dy <= cy + radius; ++dy) {
        for (int32_t dx = cx - radius; dx <= cx + radius; ++dx) {
          // a tiny pull towards no motion settles ties in flat regions
          const double c = cost(lv, f, y0, x0, y1, x1, dy, dx, li == top) +
                           1e-6 * (std::abs(dy) + std::abs(dx)) * s;
          if (c < best) {
            best = c;
            ay = dy;
            ax = dx;
          }
        }
      }
      by = ay;
      bx = ax;
    }
    shifts[sz(f)] = Shift{by, bx};
  }
  return shifts;
}

void extract_patch_rows(const float* window, int32_t frames, int32_t h, int32_t w, int32_t y,
                        int32_t x, int32_t size, const Shift* shifts, int32_t row_lo,
                        int32_t row_hi, float* dst) {
  const int64_t npx = static_cast<int64_t>(h) * w;
  const int64_t pp = static_cast<int64_t>(size) * size;
  for (int32_t f = 0; f < frames; ++f) {
    const Shift s = shifts != nullptr ? shifts[f] : Shift{};
    const float* fr = window + sz(f * npx * 3);
    float* planes = dst + sz(static_cast<int64_t>(f) * 3 * pp);
    for (int32_t py = row_lo; py < row_hi; ++py) {
      const int64_t sy = reflect_index(static_cast<int64_t>(y) + py + s.dy, h);
      const float* row = fr + sz(sy * w * 3);
      const int64_t d = static_cast<int64_t>(py) * size;
      for (int32_t px = 0; px < size; ++px) {
        const int64_t sx = reflect_index(static_cast<int64_t>(x) + px + s.dx, w);
        for (int32_t c = 0; c < 3; ++c) planes[sz(c * pp + d + px)] = row[sx * 3 + c];
      }
    }
  }
}

}  // namespace haineifrdm
