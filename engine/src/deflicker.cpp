#include "haineifrdm/deflicker.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "haineifrdm/block_motion.hpp"
#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

constexpr int kFitRounds = 8;
constexpr int kSearchRounds = 2;  // motion search + fit, the second on the first's gains

struct SquareMeans {
  double centre = 0.0;  // mean grey of the centre's matching pixels
  double other = 0.0;   // ...and of the other frame's, displaced
  double weight = 0.0;  // how many pixels matched; 0 = unusable square
};

// Means over the pixels of the square whose difference is within `match` of the
// square's median difference; unusable when under half of the square matches.
SquareMeans square_means(const Grey& c, const Grey& n, int32_t y0, int32_t x0, int32_t y1,
                         int32_t x1, const Motion& m, float match, std::vector<float>& diffs,
                         std::vector<float>& sorted) {
  SquareMeans s;
  if (!m.found) return s;
  const int32_t ya = std::max(y0, -m.dy), yb = std::min(y1, n.h[0] - m.dy);
  const int32_t xa = std::max(x0, -m.dx), xb = std::min(x1, n.w[0] - m.dx);
  if (yb <= ya || xb <= xa) return s;
  diffs.clear();
  for (int32_t y = ya; y < yb; ++y) {
    for (int32_t x = xa; x < xb; ++x) diffs.push_back(c.at(0, y, x) - n.at(0, y + m.dy, x + m.dx));
  }
  sorted.assign(diffs.begin(), diffs.end());  // scratch buffers reused across squares
  const auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), mid, sorted.end());
  const float median = *mid;
  size_t i = 0;
  int64_t count = 0;
  for (int32_t y = ya; y < yb; ++y) {
    for (int32_t x = xa; x < xb; ++x, ++i) {
      if (std::fabs(diffs[i] - median) < match) {
        s.centre += c.at(0, y, x);
        s.other += n.at(0, y + m.dy, x + m.dx);
        ++count;
      }
    }
  }
  const int64_t area = static_cast<int64_t>(y1 - y0) * (x1 - x0);
  if (2 * count < area) return SquareMeans{};
  s.centre /= static_cast<double>(count);
  s.other /= static_cast<double>(count);
  s.weight = static_cast<double>(count);
  return s;
}

// Robust least squares of centre = a * other through the origin (IRLS).
double fit_gain(const std::vector<SquareMeans>& rows, double tau) {
  // start from the weighted median of the squares' ratios, which a defect or an
  // object covering a large share of the frame does not move
  std::vector<std::pair<double, double>> ratios;
  double total = 0.0;
  for (const SquareMeans& r : rows) {
    if (r.other > 1e-6) {
      ratios.emplace_back(r.centre / r.other, r.weight);
      total += r.weight;
    }
  }
  if (ratios.empty()) return 1.0;
  std::sort(ratios.begin(), ratios.end());
  double a = ratios.back().first, seen = 0.0;
  for (const auto& [ratio, weight] : ratios) {
    seen += weight;
    if (2.0 * seen >= total) {
      a = ratio;
      break;
    }
  }
  std::vector<double> w(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const double r = (rows[i].centre - a * rows[i].other) / tau;
    w[i] = rows[i].weight / (1.0 + r * r);
  }
  for (int round = 0; round < kFitRounds; ++round) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < rows.size(); ++i) {
      num += w[i] * rows[i].centre * rows[i].other;
      den += w[i] * rows[i].other * rows[i].other;
    }
    if (den <= 1e-12) return 1.0;
    a = num / den;
    for (size_t i = 0; i < rows.size(); ++i) {
      const double r = (rows[i].centre - a * rows[i].other) / tau;
      w[i] = rows[i].weight / (1.0 + r * r);
    }
  }
  return a;
}

}  // namespace

Exposure estimate_exposure(const float* window, int32_t frames, int32_t h, int32_t w,
                           const DeflickerParams& p, ThreadPool* pool) {
  if (h <= 0 || w <= 0) throw std::invalid_argument("deflicker: empty frame");
  if (p.block <= 0 || p.max_shift < 0 || !(p.match > 0.0f) || !(p.tau > 0.0f) ||
      p.min_squares < 1 || p.dead_zone < 0.0f) {
    throw std::invalid_argument(
        "deflicker: block, match, tau and min_squares must be positive, max_shift and "
        "dead_zone >= 0");
  }
  Exposure e;
  if (frames < 2) return e;
  const int64_t npx = static_cast<int64_t>(h) * w;
  const int32_t ci = frames / 2;
  const std::vector<Grey> grey = window_greys(window, frames, h, w, pool);
  const int32_t B = p.block;
  const int32_t nby = (h + B - 1) / B, nbx = (w + B - 1) / B;
  const int64_t squares = static_cast<int64_t>(nby) * nbx;
  const std::vector<int32_t> others = other_frames(frames, ci);
  const auto n_others = static_cast<int64_t>(others.size());
  // the motion search compares grey levels, and across an exposure step a shift
  // along a gradient can pass for part of it: the second round searches again with
  // every frame scaled by the first round's gain (a mean-free search, or a first
  // guess from the frames' mean grey, did worse on the validation sets)
  std::vector<double> gain(sz(n_others), 1.0);  // 0 = left out
  std::vector<SquareMeans> means(sz(n_others * squares));
  for (int round = 0; round < kSearchRounds; ++round) {
    std::vector<Grey> scaled(sz(n_others));
    run_on(pool, n_others, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        scaled[sz(k)] = grey[sz(others[sz(k)])];
        const auto f = static_cast<float>(gain[sz(k)]);
        for (auto& level : scaled[sz(k)].px) {
          for (float& v : level) v *= f;
        }
      }
    });
    run_on(pool, n_others * squares, [&](int64_t lo, int64_t hi) {
      std::vector<float> diffs, sorted;
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t k = task / squares, b = task % squares;
        const int32_t f = others[sz(k)];
        if (!(gain[sz(k)] > 0.0)) {
          means[sz(task)] = SquareMeans{};
          continue;
        }
        const auto y0 = static_cast<int32_t>(b / nbx) * B, x0 = static_cast<int32_t>(b % nbx) * B;
        const int32_t y1 = std::min(y0 + B, h), x1 = std::min(x0 + B, w);
        const Motion m = square_motion(grey[sz(ci)], scaled[sz(k)], y0, x0, y1, x1,
                                       p.max_shift * std::abs(f - ci));
        means[sz(task)] =
            square_means(grey[sz(ci)], scaled[sz(k)], y0, x0, y1, x1, m, p.match, diffs, sorted);
      }
    });
    for (int64_t k = 0; k < n_others; ++k) {
      if (!(gain[sz(k)] > 0.0)) continue;
      std::vector<SquareMeans> rows;
      for (int64_t b = 0; b < squares; ++b) {
        const SquareMeans& sq = means[sz(k * squares + b)];
        if (sq.weight > 0.0) rows.push_back(sq);
      }
      if (static_cast<int32_t>(rows.size()) < p.min_squares) {
        gain[sz(k)] = 0.0;
        continue;
      }
      const double a = fit_gain(rows, p.tau) * gain[sz(k)];
      gain[sz(k)] = a > 0.0 && std::isfinite(a) ? a : 0.0;
    }
  }
  double exposure_sum = 1.0;  // the centre itself, at gain 1
  int32_t used = 1;
  for (int64_t k = 0; k < n_others; ++k) {
    if (gain[sz(k)] > 0.0) {
      exposure_sum += 1.0 / gain[sz(k)];
      ++used;
    }
  }
  e.frames_used = used - 1;
  e.gain = static_cast<float>(exposure_sum / used);
  double total = 0.0;
  const float* centre = window + sz(ci * npx * 3);
  for (int64_t i = 0; i < npx * 3; ++i) total += std::fabs(centre[i]);
  e.change = static_cast<float>(std::fabs(e.gain - 1.0f) * total / static_cast<double>(npx * 3));
  e.applied = e.frames_used > 0 && e.change >= p.dead_zone;
  return e;
}

}  // namespace haineifrdm
