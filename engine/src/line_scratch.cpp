// Line-scratch removal (see line_scratch.hpp).
#include "haineifrdm/line_scratch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "haineifrdm/patch_grid.hpp"
#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {
namespace {

constexpr float kFloor = 0.02f;  // background values are held above this before dividing
constexpr float kSolvedShare = 0.2f;  // a column with solved pixels in this share of the rows
                                      // is a solved scratch's (5.)
constexpr float kChanged = 1e-6f;     // the restoration changed a pixel by more (max over RGB)

size_t at(int64_t i) { return static_cast<size_t>(i); }

// Grey (RGB mean) of one frame [h, w, 3] -> [h, w].
std::vector<float> grey_of(const float* rgb, int64_t px) {
  std::vector<float> g(at(px));
  for (int64_t i = 0; i < px; ++i) g[at(i)] = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3.0f;
  return g;
}

// The running horizontal median of row `row` [w] at column x over +-r px (reflected).
float row_median(const float* row, int32_t w, int32_t x, int32_t r, std::vector<float>& buf) {
  buf.clear();
  for (int32_t d = -r; d <= r; ++d) buf.push_back(row[reflect_index(x + d, w)]);
  auto mid = buf.begin() + static_cast<std::ptrdiff_t>(buf.size() / 2);
  std::nth_element(buf.begin(), mid, buf.end());
  return *mid;
}

// 1 - alpha: how much of the picture a dark (polarity 0) or bright (1) blend left.
float ratio(float g, float bg, int polarity) {
  return polarity == 0 ? g / std::max(bg, kFloor) : (1.0f - g) / std::max(1.0f - bg, kFloor);
}

float quantile(std::vector<float>& v, float q) {
  const auto k = static_cast<std::ptrdiff_t>(std::lround(q * static_cast<float>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[at(k)];
}

// Clears the stretches of agreeing rows (`rows` [h], 1 = agrees) shorter than
// `min_rows` that lie outside the span of the longer ones: a few rows of picture that
// look like the scratch above its start or below its end. Short stretches between long
// ones stay (a scratch seen between objects in front of it).
void drop_short_stretches(uint8_t* rows, int32_t h, int32_t min_rows) {
  int32_t lo = h, hi = 0;  // the span of the long stretches
  for (int32_t y = 0; y < h;) {
    int32_t end = y;
    while (end < h && rows[end]) ++end;
    if (end - y >= min_rows) {
      lo = std::min(lo, y);
      hi = std::max(hi, end);
    }
    y = std::max(end, y + 1);
  }
  for (int32_t y = 0; y < h;) {
    int32_t end = y;
    while (end < h && rows[end]) ++end;
    if (end > y && end - y < min_rows && (y < lo || end > hi)) {
      std::fill(rows + y, rows + end, uint8_t{0});
    }
    y = std::max(end, y + 1);
  }
}

// Spacing of the rows, from y0 down, that column statistics read: at most max_rows rows.
int32_t stat_step(int32_t h, int32_t y0, int32_t max_rows) {
  return std::max(1, (h - y0 + max_rows - 1) / max_rows);
}

// Background under the run of columns [x0, x1), per column x and row y at
// [(x - x0) * h + y]: the running median centred on the column (half-width r); for runs
// `wide_run` px wide or wider, with the run's own columns left out of its window (a wide
// scratch fills most of the window and drags the median toward itself).
std::vector<float> run_background(const std::vector<float>& g, int32_t h, int32_t w, int32_t x0,
                                  int32_t x1, int32_t r, int32_t wide_run) {
  std::vector<float> bg(at(int64_t{x1 - x0} * h));
  std::vector<float> buf;
  const bool wide = x1 - x0 >= wide_run;
  for (int32_t y = 0; y < h; ++y) {
    const float* row = g.data() + int64_t{y} * w;
    for (int32_t x = x0; x < x1; ++x) {
      buf.clear();
      if (wide) {
        const int32_t lo = std::max(x - r, 0), hi = std::min(x + r + 1, w);
        if (lo < x0) buf.insert(buf.end(), row + lo, row + x0);
        if (hi > x1) buf.insert(buf.end(), row + x1, row + hi);
      }
      bg[at(int64_t{x - x0} * h + y)] =
          buf.empty() ? row_median(row, w, x, r, buf) : quantile(buf, 0.5f);
    }
  }
  return bg;
}

// Per column, for both polarities: alpha at the detection quantile and at the median of
// the ratios over the rows from y0 down (at most max_rows of them, evenly spaced). [2][w]
// each.
struct ColumnAlpha {
  std::array<std::vector<float>, 2> detect;
  std::array<std::vector<float>, 2> median;
};

ColumnAlpha column_alpha(const std::vector<float>& g, int32_t h, int32_t w, int32_t y0,
                         const ScratchParams& p, ThreadPool* pool) {
  const int32_t step = stat_step(h, y0, p.max_rows);
  const int32_t rows = (h - y0 + step - 1) / step;
  const int32_t r = p.median_width / 2;
  // ratios (for the median) and, for the detection, the same but 1 (no blend) in rows
  // where the pixel is no extreme against the pixels p.side px to its left and right
  auto plane = [&] { return std::vector<float>(at(int64_t{rows} * w)); };
  std::array<std::vector<float>, 2> ratios{plane(), plane()}, detect{plane(), plane()};
  run_on(pool, rows, [&](int64_t lo, int64_t hi) {
    std::vector<float> buf;
    for (int64_t j = lo; j < hi; ++j) {
      const float* row = g.data() + (y0 + j * step) * w;
      for (int32_t x = 0; x < w; ++x) {
        const float bg = row_median(row, w, x, r, buf);
        const float left = row[reflect_index(x - p.side, w)];
        const float right = row[reflect_index(x + p.side, w)];
        const bool darkest = row[x] < std::min(left, right) + p.side_tol;
        const bool brightest = row[x] > std::max(left, right) - p.side_tol;
        for (int pol = 0; pol < 2; ++pol) {
          const float q = ratio(row[x], bg, pol);
          const bool extreme = p.side == 0 || (pol == 0 ? darkest : brightest);
          ratios[at(pol)][at(j * w + x)] = q;
          detect[at(pol)][at(j * w + x)] = extreme ? q : std::max(q, 1.0f);
        }
      }
    }
  });
  ColumnAlpha out;
  for (int pol = 0; pol < 2; ++pol) {
    out.detect[at(pol)].assign(at(w), 0.0f);
    out.median[at(pol)].assign(at(w), 0.0f);
  }
  run_on(pool, w, [&](int64_t lo, int64_t hi) {
    std::vector<float> col(at(rows));
    for (int64_t x = lo; x < hi; ++x) {
      for (int pol = 0; pol < 2; ++pol) {
        for (int32_t j = 0; j < rows; ++j) col[at(j)] = detect[at(pol)][at(int64_t{j} * w + x)];
        const float q = quantile(col, p.detect_quantile);
        for (int32_t j = 0; j < rows; ++j) col[at(j)] = ratios[at(pol)][at(int64_t{j} * w + x)];
        const float m = quantile(col, 0.5f);
        out.detect[at(pol)][at(x)] = std::clamp(1.0f - q, 0.0f, 1.0f);
        out.median[at(pol)][at(x)] = std::clamp(1.0f - m, 0.0f, 1.0f);
      }
    }
  });
  return out;
}

// Scratch columns of one polarity: over threshold at the detection quantile, in runs no
// wider than max_width, and shown by `persist` of the other frames; then grown sideways
// over the columns whose median alpha is over half the threshold (a scratch's faint
// flanks, which picture detail hides at the detection quantile), across gaps of up to
// flank_gap fainter columns (where a flank's profile crosses zero).
std::vector<bool> scratch_columns(const std::vector<float>& centre_detect,
                                  const std::vector<float>& centre_median,
                                  const std::vector<std::vector<float>>& others_detect,
                                  const std::vector<int32_t>& distance, int32_t w,
                                  const ScratchParams& p) {
  std::vector<bool> hit(at(w));
  for (int32_t x = p.border; x < w - p.border; ++x) hit[at(x)] = centre_detect[at(x)] > p.threshold;
  for (int32_t x = 0; x < w;) {
    if (!hit[at(x)]) { ++x; continue; }
    int32_t end = x;
    while (end < w && hit[at(end)]) ++end;
    if (end - x > p.max_width) std::fill(hit.begin() + x, hit.begin() + end, false);
    x = end;
  }
  for (int32_t x = 0; x < w; ++x) {
    if (!hit[at(x)]) continue;
    int32_t shown = 0;
    for (size_t k = 0; k < others_detect.size(); ++k) {
      const int32_t reach = 2 * distance[k] + 1;
      float best = 0.0f;
      for (int32_t d = std::max(0, x - reach); d <= std::min(w - 1, x + reach); ++d)
        best = std::max(best, others_detect[k][at(d)]);
      if (best > 0.5f * p.threshold) ++shown;
    }
    hit[at(x)] = shown >= p.persist;
  }
  std::vector<bool> grown = hit;
  for (int32_t x = 0; x < w; ++x) {
    if (!hit[at(x)]) continue;
    for (int32_t step : {-1, 1}) {
      // `last`: the outermost column joined so far; up to flank_gap fainter columns
      // between it and the next one over half the threshold join with that one
      int32_t last = x;
      for (int32_t n = x + step; n >= p.border && n < w - p.border && !hit[at(n)]; n += step) {
        if (centre_median[at(n)] > 0.5f * p.threshold) {
          for (int32_t m = last + step; m != n + step; m += step) grown[at(m)] = true;
          last = n;
        } else if (std::abs(n - last) > p.flank_gap) {
          break;
        }
      }
    }
  }
  return grown;
}

// 5. Beside each solved scratch (a run of columns with solved pixels in at least
// kSolvedShare of the rows), gives the centre's pixels back into `out` in the flank_px
// columns either side: in a column whose changed pixels (the restoration's change, or
// solved) cover at least flank_share of the run's solved rows, every changed pixel in
// those rows that is not solved itself.
void give_back_flanks(const float* centre, const std::vector<float>& alpha, int32_t h, int32_t w,
                      const ScratchParams& p, float* out) {
  const auto solved = [&](int32_t y, int32_t x) { return alpha[at(int64_t{y} * w + x)] > 0.0f; };
  std::vector<bool> scratch(at(w));
  bool any_scratch = false;
  for (int32_t x = 0; x < w; ++x) {
    int32_t n = 0;
    for (int32_t y = 0; y < h; ++y) n += solved(y, x) ? 1 : 0;
    scratch[at(x)] = static_cast<float>(n) >= kSolvedShare * static_cast<float>(h);
    any_scratch = any_scratch || scratch[at(x)];
  }
  if (!any_scratch) return;
  std::vector<uint8_t> changed(at(int64_t{h} * w));
  for (int64_t i = 0; i < int64_t{h} * w; ++i) {
    float d = 0.0f;
    for (int64_t ch = 0; ch < 3; ++ch) d = std::max(d, std::abs(out[3 * i + ch] - centre[3 * i + ch]));
    changed[at(i)] = d > kChanged || alpha[at(i)] > 0.0f ? 1 : 0;
  }
  std::vector<uint8_t> rows(at(h));
  for (int32_t x = 0; x < w;) {
    if (!scratch[at(x)]) { ++x; continue; }
    const int32_t x0 = x;
    while (x < w && scratch[at(x)]) ++x;
    const int32_t x1 = x;
    int32_t span = 0;
    for (int32_t y = 0; y < h; ++y) {
      bool any = false;
      for (int32_t c = x0; c < x1 && !any; ++c) any = solved(y, c);
      rows[at(y)] = any ? 1 : 0;
      span += any ? 1 : 0;
    }
    for (int32_t f = std::max(0, x0 - p.flank_px); f < std::min(w, x1 + p.flank_px); ++f) {
      if (scratch[at(f)]) continue;
      int32_t along = 0;
      for (int32_t y = 0; y < h; ++y) along += rows[at(y)] && changed[at(int64_t{y} * w + f)] ? 1 : 0;
      if (static_cast<float>(along) < p.flank_share * static_cast<float>(span)) continue;
      for (int32_t y = 0; y < h; ++y) {
        const int64_t i = int64_t{y} * w + f;
        if (!rows[at(y)] || !changed[at(i)] || solved(y, f)) continue;
        for (int64_t ch = 0; ch < 3; ++ch) out[3 * i + ch] = centre[3 * i + ch];
      }
    }
  }
}

}  // namespace

ScratchStats remove_line_scratches(const float* window, int32_t frames, int32_t h, int32_t w,
                                   float* out, const ScratchParams& p, ThreadPool* pool) {
  if (frames < 1 || frames % 2 == 0)
    throw std::invalid_argument("remove_line_scratches: the window needs an odd number of frames");
  if (p.median_width < 3 || p.vertical < 1 || p.max_rows < 1 || p.border < 0 ||
      p.flank_gap < 0 || p.wide_run < 1 || !(p.wide_lift >= 0.0f) || p.side < 0 ||
      !(p.side_tol >= 0.0f) || p.flank_px < 0 || !(p.flank_share >= 0.0f) ||
      !(p.top >= 0.0f && p.top < 1.0f) || !(p.detect_quantile >= 0.0f && p.detect_quantile <= 1.0f) ||
      !(p.max_alpha < 1.0f))
    throw std::invalid_argument("remove_line_scratches: bad parameters");
  if (h < 3 || w <= 2 * p.border) return ScratchStats{};  // no room for a scratch column
  const int64_t px = int64_t{h} * w;
  const int32_t c = frames / 2;
  const int32_t y0 = std::min(h - 1, static_cast<int32_t>(std::floor(p.top * static_cast<float>(h))));
  std::vector<std::vector<float>> greys(at(frames));
  run_on(pool, frames, [&](int64_t lo, int64_t hi) {
    for (int64_t f = lo; f < hi; ++f) greys[at(f)] = grey_of(window + f * px * 3, px);
  });
  const ColumnAlpha centre = column_alpha(greys[at(c)], h, w, y0, p, pool);
  ScratchStats stats;
  bool any = false;
  for (int pol = 0; pol < 2; ++pol)
    for (float a : centre.detect[at(pol)]) any = any || a > p.threshold;
  if (!any) return stats;  // the common case: no candidate column, nothing more to read
  std::array<std::vector<std::vector<float>>, 2> others;
  std::vector<int32_t> distance;
  for (int32_t f = 0; f < frames; ++f) {
    if (f == c) continue;
    const ColumnAlpha a = column_alpha(greys[at(f)], h, w, y0, p, pool);
    for (int pol = 0; pol < 2; ++pol) others[at(pol)].push_back(a.detect[at(pol)]);
    distance.push_back(std::abs(f - c));
  }
  // per pixel: the larger alpha of the two polarities where the pixel agrees with it
  std::vector<float> alpha(at(px), 0.0f);
  std::vector<int8_t> polarity(at(px), 0);
  const std::vector<float>& g = greys[at(c)];
  const int32_t r = p.median_width / 2;
  const int32_t half = p.vertical / 2;
  const int32_t step = stat_step(h, y0, p.max_rows);
  for (int pol = 0; pol < 2; ++pol) {
    const std::vector<bool> hit =
        scratch_columns(centre.detect[at(pol)], centre.median[at(pol)], others[at(pol)],
                        distance, w, p);
    // runs of adjacent scratch columns: a scratch and its faint flanks
    std::vector<std::pair<int32_t, int32_t>> runs;
    for (int32_t x = 0; x < w; ++x) {
      if (!hit[at(x)]) continue;
      if (!runs.empty() && runs.back().second == x) {
        runs.back().second = x + 1;
      } else {
        runs.emplace_back(x, x + 1);
      }
      ++stats.columns;
    }
    run_on(pool, static_cast<int64_t>(runs.size()), [&](int64_t lo, int64_t hi) {
      std::vector<float> buf, rat(at(h)), win;
      std::vector<uint8_t> agree;
      for (int64_t i = lo; i < hi; ++i) {
        const auto [x0, x1] = runs[at(i)];
        const std::vector<float> bg = run_background(g, h, w, x0, x1, r, p.wide_run);
        // 3. each column's alpha: the median of its ratios over the statistics' rows
        // (column_alpha's for a narrow run); a wide run's, against its own background,
        // rises at most wide_lift above that
        std::vector<float> a_run(centre.median[at(pol)].begin() + x0,
                                 centre.median[at(pol)].begin() + x1);
        if (x1 - x0 >= p.wide_run) {
          for (int32_t x = x0; x < x1; ++x) {
            const float* col_bg = bg.data() + int64_t{x - x0} * h;
            buf.clear();
            for (int32_t y = y0; y < h; y += step)
              buf.push_back(ratio(g[at(int64_t{y} * w + x)], col_bg[y], pol));
            const float a = std::clamp(1.0f - quantile(buf, 0.5f), 0.0f, 1.0f);
            a_run[at(x - x0)] = std::min(a, centre.median[at(pol)][at(x)] + p.wide_lift);
          }
        }
        // which rows of each column agree with the column's alpha
        agree.assign(at(int64_t{x1 - x0} * h), 0);
        int32_t strongest = x0;
        for (int32_t x = x0; x < x1; ++x) {
          const float a_col = a_run[at(x - x0)];
          if (a_col > a_run[at(strongest - x0)]) strongest = x;
          const float* col_bg = bg.data() + int64_t{x - x0} * h;
          for (int32_t y = 0; y < h; ++y)
            rat[at(y)] = ratio(g[at(int64_t{y} * w + x)], col_bg[y], pol);
          for (int32_t y = 0; y < h; ++y) {
            win.clear();
            for (int32_t d = -half; d <= half; ++d) win.push_back(rat[at(std::clamp(y + d, 0, h - 1))]);
            const float local = 1.0f - quantile(win, 0.5f);
            agree[at(int64_t{x - x0} * h + y)] =
                std::abs(local - a_col) < std::max(0.5f * a_col, p.threshold) ? 1 : 0;
          }
        }
        // a flank is solved only where the run's strongest column shows the scratch
        uint8_t* shown = agree.data() + int64_t{strongest - x0} * h;
        drop_short_stretches(shown, h, p.vertical / 2 + 1);
        for (int32_t x = x0; x < x1; ++x) {
          const float a = std::min(a_run[at(x - x0)], p.max_alpha);
          for (int32_t y = 0; y < h; ++y) {
            if (!agree[at(int64_t{x - x0} * h + y)] || !shown[y]) continue;
            const size_t k = at(int64_t{y} * w + x);
            if (a > alpha[k]) {
              alpha[k] = a;
              polarity[k] = static_cast<int8_t>(pol);
            }
          }
        }
      }
    });
  }
  const float* centre_rgb = window + int64_t{c} * px * 3;
  if (p.flank_px > 0) give_back_flanks(centre_rgb, alpha, h, w, p, out);
  for (int64_t i = 0; i < px; ++i) {
    const float a = alpha[at(i)];
    if (a <= 0.0f) continue;
    ++stats.pixels;
    for (int64_t ch = 0; ch < 3; ++ch) {
      const float d = centre_rgb[3 * i + ch];
      out[3 * i + ch] = polarity[at(i)] == 0 ? d / (1.0f - a) : 1.0f - (1.0f - d) / (1.0f - a);
    }
  }
  return stats;
}

}  // namespace haineifrdm
