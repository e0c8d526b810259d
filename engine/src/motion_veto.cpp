#include "haineifrdm/motion_veto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "haineifrdm/block_motion.hpp"
#include "haineifrdm/change_mask.hpp"
#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

}  // namespace

VetoStats motion_veto(const float* window, int32_t frames, int32_t h, int32_t w, float* out,
                      const VetoParams& p, ThreadPool* pool) {
  if (h <= 0 || w <= 0) throw std::invalid_argument("motion_veto: empty frame");
  if (p.block <= 0 || p.max_shift < 0 || p.min_shift < 0 || p.protect < 0 || p.scratch_width < 0 ||
      !(p.tau > 0.0f)) {
    throw std::invalid_argument(
        "motion_veto: block and tau must be positive, shifts, protect and scratch_width >= 0");
  }
  VetoStats stats;
  if (frames < 3) return stats;
  const int64_t npx = static_cast<int64_t>(h) * w;
  const int32_t ci = frames / 2;
  const float* centre = window + sz(ci * npx * 3);

  const std::vector<uint8_t> changed = change_mask(out, centre, npx, p.changed, stats.changed);
  if (stats.changed == 0) return stats;

  // squares with a change, and the ring of squares around them (their motion is a
  // candidate for the changed ones)
  const int32_t B = p.block;
  const int32_t nby = (h + B - 1) / B, nbx = (w + B - 1) / B;
  std::vector<uint8_t> has_change(sz(static_cast<int64_t>(nby) * nbx), 0);
  for (int64_t i = 0; i < npx; ++i) {
    if (changed[sz(i)]) {
      has_change[sz((i / w) / B * nbx + (i % w) / B)] = 1;
    }
  }
  std::vector<int64_t> active;
  for (int32_t by = 0; by < nby; ++by) {
    for (int32_t bx = 0; bx < nbx; ++bx) {
      bool near = false;
      for (int32_t y = std::max(by - 1, 0); y <= std::min(by + 1, nby - 1) && !near; ++y) {
        for (int32_t x = std::max(bx - 1, 0); x <= std::min(bx + 1, nbx - 1); ++x) {
          near = near || has_change[sz(static_cast<int64_t>(y) * nbx + x)];
        }
      }
      if (near) active.push_back(static_cast<int64_t>(by) * nbx + bx);
    }
  }

  const Grey grey_c = make_grey(centre, h, w);
  const int32_t neighbours[2] = {ci - 1, ci + 1};
  Grey grey_n[2];
  run_on(pool, 2, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      grey_n[k] = make_grey(window + sz(neighbours[k] * npx * 3), h, w);
    }
  });
  std::vector<Motion> motion(sz(2 * static_cast<int64_t>(nby) * nbx));
  run_on(pool, 2 * static_cast<int64_t>(active.size()), [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t k = task % 2, b = active[sz(task / 2)];
      const auto y0 = static_cast<int32_t>(b / nbx) * B, x0 = static_cast<int32_t>(b % nbx) * B;
      motion[sz(k * nby * nbx + b)] = square_motion(grey_c, grey_n[k], y0, x0, std::min(y0 + B, h),
                                                    std::min(x0 + B, w), p.max_shift);
    }
  });

  // per changed pixel: is its content in a neighbour, displaced?
  std::vector<uint8_t> vetoed(sz(npx), 0);
  run_on(pool, h, [&](int64_t lo, int64_t hi) {
    for (int64_t y64 = lo; y64 < hi; ++y64) {
      const auto y = static_cast<int32_t>(y64);
      const int32_t by = y / B;
      for (int32_t x = 0; x < w; ++x) {
        if (!changed[sz(static_cast<int64_t>(y) * w + x)]) continue;
        const int32_t bx = x / B;
        bool seen = false;
        for (int k = 0; k < 2 && !seen; ++k) {
          for (int32_t qy = std::max(by - 1, 0); qy <= std::min(by + 1, nby - 1) && !seen; ++qy) {
            for (int32_t qx = std::max(bx - 1, 0); qx <= std::min(bx + 1, nbx - 1) && !seen; ++qx) {
              const Motion& m = motion[sz(k * nby * nbx + static_cast<int64_t>(qy) * nbx + qx)];
              if (!m.found || std::max(std::abs(m.dy), std::abs(m.dx)) < p.min_shift) continue;
              const float own = shifted_diff(grey_c, grey_n[k], y, x, m, p.subpixel);
              if (own >= p.pixel_k * p.tau) continue;
              seen = box_shifted_diff(grey_c, grey_n[k], y, x, m, p.subpixel) < p.tau;
            }
          }
        }
        vetoed[sz(static_cast<int64_t>(y) * w + x)] = seen ? 1 : 0;
      }
    }
  });

  // line scratches run the height of the frame: columns (+-2 px) holding an unbroken
  // run of change over at least `column` of it are left as restored (an object is
  // at most half the frame tall)
  std::vector<int64_t> per_col(sz(w), 0), run_len(sz(w), 0);
  for (int64_t i = 0; i < npx; ++i) {
    const size_t x = sz(i % w);
    run_len[x] = changed[sz(i)] ? run_len[x] + 1 : 0;
    per_col[x] = std::max(per_col[x], run_len[x]);
  }
  // ...in a band of such columns no wider than scratch_width px (the network also tones
  // down wider full-height bands of picture detail: those are no scratch)
  const auto tall = [&](int32_t x) {
    return static_cast<double>(per_col[sz(x)]) >= static_cast<double>(p.column) * h;
  };
  for (int32_t x = 0; x < w;) {
    if (!tall(x)) {
      ++x;
      continue;
    }
    int32_t end = x;
    while (end < w && tall(end)) ++end;
    if (end - x > p.scratch_width) {
      for (int32_t xx = x; xx < end; ++xx) per_col[sz(xx)] = 0;
    }
    x = end;
  }
  std::vector<uint8_t> scratch_col(sz(w), 0);
  for (int32_t x = 0; x < w; ++x) {
    int64_t most = 0;
    for (int32_t xx = std::max(x - 2, 0); xx <= std::min(x + 2, w - 1); ++xx) {
      most = std::max(most, per_col[sz(xx)]);
    }
    scratch_col[sz(x)] = static_cast<double>(most) >= static_cast<double>(p.column) * h ? 1 : 0;
  }
  for (int64_t i = 0; i < npx; ++i) {
    if (scratch_col[sz(i % w)]) vetoed[sz(i)] = 0;
  }
  // never within `protect` px of a change that stays
  std::vector<uint8_t> stays(sz(npx), 0);
  for (int64_t i = 0; i < npx; ++i) stays[sz(i)] = changed[sz(i)] && !vetoed[sz(i)] ? 1 : 0;
  const int32_t R = p.protect;
  run_on(pool, h, [&](int64_t lo, int64_t hi) {
    for (int64_t y64 = lo; y64 < hi; ++y64) {
      const auto y = static_cast<int32_t>(y64);
      for (int32_t x = 0; x < w; ++x) {
        const int64_t i = static_cast<int64_t>(y) * w + x;
        if (!vetoed[sz(i)]) continue;
        bool guarded = false;
        for (int32_t yy = std::max(y - R, 0); yy <= std::min(y + R, h - 1) && !guarded; ++yy) {
          for (int32_t xx = std::max(x - R, 0); xx <= std::min(x + R, w - 1); ++xx) {
            if (stays[sz(static_cast<int64_t>(yy) * w + xx)]) {
              guarded = true;
              break;
            }
          }
        }
        if (guarded) continue;
        for (int c = 0; c < 3; ++c) out[i * 3 + c] = centre[i * 3 + c];
      }
    }
  });
  // counted after the parallel pass: a vetoed pixel that was guarded still differs
  for (int64_t i = 0; i < npx; ++i) {
    bool same = true;
    for (int c = 0; c < 3; ++c) same = same && out[i * 3 + c] == centre[i * 3 + c];
    if (changed[sz(i)] && same) ++stats.vetoed;
  }
  return stats;
}

}  // namespace haineifrdm
