// Temporal fill (see temporal_fill.hpp).
#include "haineifrdm/temporal_fill.hpp"

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

constexpr size_t kMaxRing = 4096;  // ring pixels a match is judged on, at most

// mask grown by one pixel to its 4 neighbours
std::vector<uint8_t> grow_cross(const std::vector<uint8_t>& m, int32_t h, int32_t w) {
  std::vector<uint8_t> g(m);
  for (int32_t y = 0; y < h; ++y) {
    for (int32_t x = 0; x < w; ++x) {
      const int64_t i = static_cast<int64_t>(y) * w + x;
      if (m[sz(i)]) continue;
      g[sz(i)] = (y > 0 && m[sz(i - w)]) || (y + 1 < h && m[sz(i + w)]) ||
                         (x > 0 && m[sz(i - 1)]) || (x + 1 < w && m[sz(i + 1)])
                     ? 1
                     : 0;
    }
  }
  return g;
}

struct Region {
  int32_t y0 = 0, x0 = 0, y1 = 0, x1 = 0;  // bounding box, [y0, y1) x [x0, x1)
};

// 4-connected components of `m` (label 1..n in `label`, 0 outside); their boxes.
std::vector<Region> components(const std::vector<uint8_t>& m, int32_t h, int32_t w,
                               std::vector<int32_t>& label) {
  label.assign(m.size(), 0);
  std::vector<Region> regions;
  std::vector<int64_t> stack;
  for (int64_t s = 0; s < static_cast<int64_t>(m.size()); ++s) {
    if (!m[sz(s)] || label[sz(s)]) continue;
    const auto id = static_cast<int32_t>(regions.size() + 1);
    Region r{h, w, 0, 0};
    label[sz(s)] = id;
    stack.push_back(s);
    while (!stack.empty()) {
      const int64_t i = stack.back();
      stack.pop_back();
      const auto y = static_cast<int32_t>(i / w), x = static_cast<int32_t>(i % w);
      r.y0 = std::min(r.y0, y);
      r.x0 = std::min(r.x0, x);
      r.y1 = std::max(r.y1, y + 1);
      r.x1 = std::max(r.x1, x + 1);
      const int64_t next[4] = {y > 0 ? i - w : -1, y + 1 < h ? i + w : -1, x > 0 ? i - 1 : -1,
                               x + 1 < w ? i + 1 : -1};
      for (const int64_t j : next) {
        if (j >= 0 && m[sz(j)] && !label[sz(j)]) {
          label[sz(j)] = id;
          stack.push_back(j);
        }
      }
    }
    regions.push_back(r);
  }
  return regions;
}

struct Match {
  float error = std::numeric_limits<float>::infinity();
  int32_t frame = -1, dy = 0, dx = 0;
  float offset = 0.0f;  // centre - frame (grey), the median over the ring
};

}  // namespace

FillStats temporal_fill(const float* window, int32_t frames, int32_t h, int32_t w, float* out,
                        const FillParams& p, ThreadPool* pool) {
  if (h <= 0 || w <= 0) throw std::invalid_argument("temporal_fill: empty frame");
  if (p.block < 4 || p.max_shift < 0 || p.refine < 0 || p.margin < 1 || p.max_side < 1 ||
      !(p.tau > 0.0f) || !(p.agree > 0.0f) || !(p.keep >= 0.0f)) {
    throw std::invalid_argument(
        "temporal_fill: block >= 4, margin >= 1, max_side >= 1, tau and agree > 0, keep and "
        "shifts >= 0");
  }
  FillStats stats;
  if (frames < 3) return stats;
  const int64_t npx = static_cast<int64_t>(h) * w;
  const int32_t ci = frames / 2;
  const float* centre = window + sz(ci * npx * 3);

  int64_t n_changed = 0;
  const std::vector<uint8_t> changed = change_mask(out, centre, npx, p.changed, n_changed);
  if (n_changed == 0) return stats;
  const std::vector<uint8_t> near1 = grow_cross(changed, h, w);  // not part of a ring
  std::vector<int32_t> label;
  std::vector<Region> regions = components(grow_cross(near1, h, w), h, w, label);
  stats.regions = static_cast<int64_t>(regions.size());

  // the regions worth a search, their boxes grown by the margin
  std::vector<int32_t> todo;
  for (size_t r = 0; r < regions.size(); ++r) {
    const Region& g = regions[r];
    const int32_t rh = g.y1 - g.y0, rw = g.x1 - g.x0;
    if (3 * rh > h && 8 * rw < rh) continue;  // a line scratch's column
    if (rh > p.max_side || rw > p.max_side) continue;  // left to the network
    todo.push_back(static_cast<int32_t>(r));
  }
  if (todo.empty()) return stats;

  // block motions of the squares over and around them, in every other frame
  const int32_t B = p.block;
  const int32_t nby = (h + B - 1) / B, nbx = (w + B - 1) / B;
  const int64_t nblocks = static_cast<int64_t>(nby) * nbx;
  auto box_of = [&](const Region& g) {
    return Region{std::max(g.y0 - p.margin, 0), std::max(g.x0 - p.margin, 0),
                  std::min(g.y1 + p.margin, h), std::min(g.x1 + p.margin, w)};
  };
  // fn(block index) for the squares over box b and the ring of squares around them
  auto for_squares_around = [&](const Region& b, const auto& fn) {
    for (int32_t by = std::max(b.y0 / B - 1, 0); by <= std::min((b.y1 - 1) / B + 1, nby - 1); ++by) {
      for (int32_t bx = std::max(b.x0 / B - 1, 0); bx <= std::min((b.x1 - 1) / B + 1, nbx - 1); ++bx) {
        fn(static_cast<int64_t>(by) * nbx + bx);
      }
    }
  };
  std::vector<uint8_t> needed(sz(nblocks), 0);
  for (const int32_t r : todo) {
    for_squares_around(box_of(regions[sz(r)]), [&](int64_t q) { needed[sz(q)] = 1; });
  }
  std::vector<int64_t> blocks;
  for (int64_t b = 0; b < nblocks; ++b) {
    if (needed[sz(b)]) blocks.push_back(b);
  }
  std::vector<int32_t> others;
  for (int32_t k = 0; k < frames; ++k) {
    if (k != ci) others.push_back(k);
  }
  const auto nothers = static_cast<int64_t>(others.size());
  std::vector<Grey> grey(sz(frames));
  run_on(pool, frames, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) grey[sz(k)] = make_grey(window + sz(k * npx * 3), h, w);
  });
  std::vector<Motion> motion(sz(nothers * nblocks));
  run_on(pool, nothers * static_cast<int64_t>(blocks.size()), [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t o = task % nothers, b = blocks[sz(task / nothers)];
      const auto y0 = static_cast<int32_t>(b / nbx) * B, x0 = static_cast<int32_t>(b % nbx) * B;
      motion[sz(o * nblocks + b)] =
          square_motion(grey[sz(ci)], grey[sz(others[sz(o)])], y0, x0, std::min(y0 + B, h),
                        std::min(x0 + B, w), p.max_shift);
    }
  });

  std::vector<int64_t> filled(todo.size(), 0);
  run_on(pool, static_cast<int64_t>(todo.size()), [&](int64_t lo, int64_t hi) {
    std::vector<float> d, sorted;
    std::vector<std::pair<int32_t, int32_t>> ring, inside;
    for (int64_t t = lo; t < hi; ++t) {
      const int32_t id = todo[sz(t)] + 1;
      const Region b = box_of(regions[sz(todo[sz(t)])]);
      ring.clear();
      inside.clear();
      for (int32_t y = b.y0; y < b.y1; ++y) {
        for (int32_t x = b.x0; x < b.x1; ++x) {
          const int64_t i = static_cast<int64_t>(y) * w + x;
          if (!near1[sz(i)]) ring.emplace_back(y, x);
          if (label[sz(i)] == id && changed[sz(i)]) inside.emplace_back(y, x);
        }
      }
      if (ring.size() < 8 || inside.empty()) continue;
      if (ring.size() > kMaxRing) {  // evenly thinned: the match's cost stays bounded
        const size_t step = (ring.size() + kMaxRing - 1) / kMaxRing;
        size_t kept = 0;
        for (size_t j = 0; j < ring.size(); j += step) ring[kept++] = ring[j];
        ring.resize(kept);
      }
      std::vector<Match> best;
      for (int64_t o = 0; o < nothers; ++o) {
        const int32_t k = others[sz(o)];
        std::vector<std::pair<int32_t, int32_t>> cands;
        for_squares_around(b, [&](int64_t q) {
          const Motion& m = motion[sz(o * nblocks + q)];
          if (!m.found) return;
          for (int32_t ry = -p.refine; ry <= p.refine; ++ry) {
            for (int32_t rx = -p.refine; rx <= p.refine; ++rx) cands.emplace_back(m.dy + ry, m.dx + rx);
          }
        });
        std::sort(cands.begin(), cands.end());
        cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
        Match mb;
        for (const auto& [dy, dx] : cands) {
          if (b.y0 + dy < 0 || b.x0 + dx < 0 || b.y1 + dy > h || b.x1 + dx > w) continue;
          d.resize(ring.size());
          for (size_t j = 0; j < ring.size(); ++j) {
            const auto [y, x] = ring[j];
            d[j] = grey[sz(ci)].at(0, y, x) - grey[sz(k)].at(0, y + dy, x + dx);
          }
          sorted.assign(d.begin(), d.end());
          auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
          std::nth_element(sorted.begin(), mid, sorted.end());
          const float med = *mid;
          double err = 0.0;
          for (const float v : d) err += std::fabs(v - med);
          const auto e = static_cast<float>(err / static_cast<double>(d.size()));
          if (e < mb.error) mb = Match{e, k, dy, dx, med};
        }
        if (mb.frame >= 0 && mb.error <= p.tau) best.push_back(mb);
      }
      if (best.empty()) continue;
      std::sort(best.begin(), best.end(),
                [](const Match& a, const Match& c) { return a.error < c.error; });
      auto source = [&](const Match& m, int32_t y, int32_t x, int c) {
        const int64_t j = static_cast<int64_t>(y + m.dy) * w + (x + m.dx);
        return window[sz((m.frame * npx + j) * 3 + c)] + m.offset;
      };
      for (const auto& [y, x] : inside) {
        const int64_t i = static_cast<int64_t>(y) * w + x;
        float v[3];
        bool take = true;
        for (int c = 0; c < 3; ++c) {
          v[c] = source(best[0], y, x, c);
          if (best.size() > 1) {
            const float u = source(best[1], y, x, c);
            take = take && std::fabs(v[c] - u) < p.agree;
            v[c] = 0.5f * (v[c] + u);
          }
        }
        if (!take) continue;
        float off_centre = 0.0f;
        for (int c = 0; c < 3; ++c) off_centre = std::max(off_centre, std::fabs(v[c] - centre[i * 3 + c]));
        const bool confirmed = off_centre < p.keep;  // the centre was right: not a defect
        for (int c = 0; c < 3; ++c) out[i * 3 + c] = confirmed ? centre[i * 3 + c] : v[c];
        ++filled[sz(t)];
      }
    }
  });
  for (const int64_t f : filled) stats.filled += f;
  return stats;
}

}  // namespace haineifrdm
