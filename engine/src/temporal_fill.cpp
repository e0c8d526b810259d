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

// Median of channel c of n interleaved RGB values (the mean of the middle two for even n).
float median_of(const std::vector<float>& rgb, size_t n, int c, std::vector<float>& ranked) {
  ranked.resize(n);
  for (size_t q = 0; q < n; ++q) ranked[q] = rgb[q * 3 + static_cast<size_t>(c)];
  std::sort(ranked.begin(), ranked.end());
  return n % 2 == 1 ? ranked[n / 2] : 0.5f * (ranked[n / 2 - 1] + ranked[n / 2]);
}

constexpr size_t kMaxRing = 4096;  // ring pixels a match is judged on, at most
constexpr size_t kMaxCore = 512;   // pixels of a detected region looked for nearby, at most
constexpr float kFastSlack = 2.0f;  // a fast object's velocities in two frames agree within
constexpr float kFastShare = 0.2f;  // ...this many px per frame plus this share of its speed
constexpr double kFastEnds = 0.5;   // a fast object's place: this share of its outline apart

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
  int64_t n = 0;                           // pixels
};

struct Fill {
  int64_t i;  // pixel index
  float v[3];
};

// The rest of a defect the matte (or the detection) did not reach: unchanged pixels of
// the region's box `b` next to the region (`inside`) or to pixels grown before, out to
// `reach` px (and the box), that the matching frames agree on (fill_at) and the centre
// differs from by at least `contrast` (grey, mean over RGB).
template <class FillAt>
void grow_region(const Region& b, const std::vector<std::pair<int32_t, int32_t>>& inside,
                 const std::vector<uint8_t>& target, int32_t w, float contrast, int32_t reach,
                 const float* centre, const FillAt& fill_at, std::vector<Fill>& grown) {
  const int32_t bh = b.y1 - b.y0, bw = b.x1 - b.x0;
  auto at = [&](int32_t y, int32_t x) {
    return sz(static_cast<int64_t>(y - b.y0) * bw + (x - b.x0));
  };
  // 1 region, 2 grown this pass, 3 judged and refused (its fill and contrast do not change)
  std::vector<uint8_t> in(sz(static_cast<int64_t>(bh) * bw), 0);
  for (const auto& [y, x] : inside) in[at(y, x)] = 1;
  for (int32_t pass = 0; pass < reach; ++pass) {
    bool more = false;
    for (int32_t y = b.y0; y < b.y1; ++y) {
      for (int32_t x = b.x0; x < b.x1; ++x) {
        const int64_t i = static_cast<int64_t>(y) * w + x;
        if (in[at(y, x)] || target[sz(i)]) continue;
        bool next = false;
        for (int32_t ny = std::max(y - 1, b.y0); ny <= std::min(y + 1, b.y1 - 1) && !next; ++ny) {
          for (int32_t nx = std::max(x - 1, b.x0); nx <= std::min(x + 1, b.x1 - 1); ++nx) {
            if (in[at(ny, nx)] == 1) next = true;
          }
        }
        if (!next) continue;
        Fill f{i, {0.0f, 0.0f, 0.0f}};
        float g = 0.0f;
        const bool agreed = fill_at(y, x, f);
        for (int c = 0; c < 3; ++c) g += centre[i * 3 + c] - f.v[c];
        if (!agreed || std::fabs(g / 3.0f) < contrast) {
          in[at(y, x)] = 3;
          continue;
        }
        in[at(y, x)] = 2;
        grown.push_back(f);
        more = true;
      }
    }
    if (!more) break;
    for (uint8_t& v : in) v = v == 2 ? 1 : v;
  }
}

// 4-connected components of `m` (label 1..n in `label`, 0 outside); their boxes.
std::vector<Region> components(const std::vector<uint8_t>& m, int32_t h, int32_t w,
                               std::vector<int32_t>& label) {
  label.assign(m.size(), 0);
  std::vector<Region> regions;
  std::vector<int64_t> stack;
  for (int64_t s = 0; s < static_cast<int64_t>(m.size()); ++s) {
    if (!m[sz(s)] || label[sz(s)]) continue;
    const auto id = static_cast<int32_t>(regions.size() + 1);
    Region r{h, w, 0, 0, 0};
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
      ++r.n;
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

// A region taller than a third of the frame and under an eighth as wide as tall: a
// line scratch's column, which the line-scratch pass handles.
bool scratch_like(const Region& g, int32_t h) {
  const int32_t rh = g.y1 - g.y0, rw = g.x1 - g.x0;
  return 3 * rh > h && 8 * rw < rh;
}

struct Match {
  float error = std::numeric_limits<float>::infinity();
  int32_t frame = -1, dy = 0, dx = 0;
  float offset = 0.0f;  // centre - frame (grey), the median over the ring
};

constexpr uint8_t kUnseen = 1;     // a pixel the restoration left that no other frame shows
constexpr uint8_t kConfirmed = 2;  // a changed pixel that other frames show as it was
constexpr uint8_t kSpike = 4;      // an unchanged pixel that stands out alone (p.detect_spike)
constexpr uint8_t kTargetDetected = 2;  // target: a group of unseen pixels
constexpr uint8_t kTargetSpike = 3;     // ...one holding detect_spike_px spikes
constexpr float kSpikeShare = 0.5f;  // a frame shows a spike that reaches this share of it
constexpr float kSpikeFlat = 0.5f;   // a spike's ring spreads (middle half) by under this share

// The sign (+1 brighter, -1 darker, 0 neither) and size of pixel (y, x)'s stand-out from
// the 16 pixels 2 px around it: over `t` when at least 9 of them lie `t` or more below
// (above) it; the size is its distance to their median. (y, x) at least 2 px inside.
std::pair<int, float> spike_of(const Grey& c, int32_t y, int32_t x, float t, float* ring) {
  const float v = c.at(0, y, x);
  int below = 0, above = 0, k = 0;
  for (int32_t dy = -2; dy <= 2; ++dy) {
    for (int32_t dx = -2; dx <= 2; dx += (dy == -2 || dy == 2) ? 1 : 4) {
      const float r = c.at(0, y + dy, x + dx);
      ring[k++] = r;
      below += r <= v - t ? 1 : 0;
      above += r >= v + t ? 1 : 0;
    }
  }
  if (below < 9 && above < 9) return {0, 0.0f};
  std::sort(ring, ring + 16);
  const float med = 0.5f * (ring[7] + ring[8]);
  const float size = below >= 9 ? v - med : med - v;
  // on texture (the spread of the middle half of the ring over kSpikeFlat of the
  // stand-out) a pixel standing out is picture as often as dust
  if (ring[12] - ring[3] > kSpikeFlat * size) return {0, 0.0f};
  const int sign = below >= 9 ? 1 : -1;
  // one that continues 2 and 4 px above and below (within a column either side) is a
  // piece of a line along the film, a scratch: the line-scratch pass's (scratch_like);
  // a blurred dot of dust reaches 2 px, not 4
  auto continues = [&](int32_t yy) {
    if (yy < 0 || yy >= c.h[0]) return false;
    float most = -1.0f;
    for (int32_t xx = x - 1; xx <= x + 1; ++xx) {
      most = std::max(most, static_cast<float>(sign) * (c.at(0, yy, xx) - med));
    }
    return most >= 0.5f * size;
  };
  if (continues(y - 2) && continues(y + 2) && continues(y - 4) && continues(y + 4)) {
    return {0, 0.0f};
  }
  return {sign, size};
}

// How far pixel (y, x) of `c` (offset removed) lies beyond, in direction `sign`, every
// value `n` takes within half a pixel of its displaced place (shifted_diff's interval).
float signed_beyond(const Grey& c, const Grey& n, int32_t y, int32_t x, const Motion& m,
                    int sign) {
  const int32_t ny = y + m.dy, nx = x + m.dx;
  const float v = c.at(0, y, x) - m.offset, a = n.at(0, ny, nx);
  float lo = a, hi = a;
  const int32_t dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
  for (int k = 0; k < 4; ++k) {
    const float half = 0.5f * (a + n.at(0, ny + dy[k], nx + dx[k]));
    lo = std::min(lo, half);
    hi = std::max(hi, half);
  }
  return sign > 0 ? v - hi : lo - v;
}

// What the other frames say of each pixel of the centre frame. A frame shows the pixel
// when one of the block motions of the pixel's own square and the 8 around it keeps its
// 3x3 box in the frame (a pan's new picture at the frame's edge is in no earlier
// frame), and matches it when, for one of them, the 3x3 mean difference
// (box_shifted_diff, within half a pixel) is under p.detect_tau (for a changed pixel,
// its own difference under p.keep too: a speck's edge is in a box with picture). The
// offset removed is the frame's median square offset, not the square's own: a defect
// covering much of a square shifts that square's offset. With p.detect, a pixel not
// `changed` is kUnseen when at least p.detect_frames of the other frames (all, if
// fewer) show it without matching and at most the rest match; a `changed` pixel is
// kConfirmed when at least p.confirm_frames (> 0) match. motion: [others][blocks].
std::vector<uint8_t> judge_pixels(const std::vector<Grey>& grey, int32_t ci,
                                  const std::vector<int32_t>& others,
                                  const std::vector<Motion>& motion, int32_t B,
                                  const std::vector<uint8_t>& changed, const FillParams& p,
                                  ThreadPool* pool) {
  const Grey& c = grey[sz(ci)];
  const int32_t h = c.h[0], w = c.w[0];
  const int32_t nby = (h + B - 1) / B, nbx = (w + B - 1) / B;
  const int64_t nblocks = static_cast<int64_t>(nby) * nbx;
  const auto nothers = static_cast<int32_t>(others.size());
  const int32_t need = std::min(p.detect_frames, nothers);
  std::vector<Motion> flat(motion);  // the frame's median offset in every square
  for (int32_t o = 0; o < nothers; ++o) {
    std::vector<float> offs;
    for (int64_t b = 0; b < nblocks; ++b) {
      const Motion& m = motion[sz(o * nblocks + b)];
      if (m.found) offs.push_back(m.offset);
    }
    if (offs.empty()) continue;
    auto mid = offs.begin() + static_cast<std::ptrdiff_t>(offs.size() / 2);
    std::nth_element(offs.begin(), mid, offs.end());
    for (int64_t b = 0; b < nblocks; ++b) flat[sz(o * nblocks + b)].offset = *mid;
  }
  // (frames that show pixel (y, x) as `shows` says, at one of the block motions of its
  // square and the 8 around it; frames that show its place but not so), counted until
  // `enough` frames show it
  auto count_frames = [&](int32_t y, int32_t x, int32_t enough, const auto& shows) {
    const int32_t by = y / B, bx = x / B;
    int32_t seen_in = 0, differ_in = 0;
    for (int32_t o = 0; o < nothers && seen_in < enough; ++o) {
      const Grey& n = grey[sz(others[sz(o)])];
      bool seen = false, shown = false;
      // the pixel's own square first: most pixels move with it
      for (int32_t q = 0; q < 10 && !seen; ++q) {
        const int32_t qy = q == 0 ? by : by - 1 + (q - 1) / 3;
        const int32_t qx = q == 0 ? bx : bx - 1 + (q - 1) % 3;
        if (qy < 0 || qx < 0 || qy >= nby || qx >= nbx) continue;
        if (q > 0 && qy == by && qx == bx) continue;  // tried first
        const Motion& m = flat[sz(o * nblocks + static_cast<int64_t>(qy) * nbx + qx)];
        if (!m.found) continue;
        const int32_t ny = y + m.dy, nx = x + m.dx;
        if (ny < 1 || nx < 1 || ny + 1 >= h || nx + 1 >= w) continue;
        shown = true;
        seen = shows(n, m);
      }
      seen_in += seen ? 1 : 0;
      differ_in += shown && !seen ? 1 : 0;
    }
    return std::pair<int32_t, int32_t>{seen_in, differ_in};
  };
  std::vector<uint8_t> judged(sz(static_cast<int64_t>(h) * w), 0);
  run_on(pool, h, [&](int64_t lo, int64_t hi) {
    float ring[16];
    for (int64_t y64 = lo; y64 < hi; ++y64) {
      const auto y = static_cast<int32_t>(y64);
      for (int32_t x = 0; x < w; ++x) {
        const int64_t i = static_cast<int64_t>(y) * w + x;
        const bool was_changed = changed[sz(i)] != 0;
        if (was_changed ? p.confirm_frames <= 0 : !p.detect) continue;
        const auto [seen_in, differ_in] = count_frames(
            y, x, was_changed ? p.confirm_frames : nothers - need + 1,
            [&](const Grey& n, const Motion& m) {
              return box_shifted_diff(c, n, y, x, m, true) < p.detect_tau &&
                     (!was_changed || shifted_diff(c, n, y, x, m, true) < p.keep);
            });
        if (was_changed) {
          judged[sz(i)] = seen_in >= p.confirm_frames ? kConfirmed : 0;
          continue;
        }
        judged[sz(i)] = differ_in >= need && seen_in <= nothers - need ? kUnseen : 0;
        if (!(p.detect_spike > 0.0f) || y < 2 || x < 2 || y + 2 >= h || x + 2 >= w) continue;
        const auto [sign, size] = spike_of(c, y, x, p.detect_spike, ring);
        if (sign == 0) continue;
        // a pixel standing out alone: unseen where no frame shows a value that reaches
        // half its stand-out, at any of the block motions around it
        const auto [spike_seen, spike_differ] =
            count_frames(y, x, 1, [&, sign = sign, size = size](const Grey& n, const Motion& m) {
              return signed_beyond(c, n, y, x, m, sign) < kSpikeShare * size;
            });
        if (spike_differ >= need && spike_seen == 0) judged[sz(i)] |= kSpike;
      }
    }
  });
  return judged;
}

using Pixels = std::vector<std::pair<int32_t, int32_t>>;

// The bounding box of `px` (not empty), [y0, y1) x [x0, x1).
Region bounds_of(const Pixels& px) {
  Region b{px[0].first, px[0].second, px[0].first + 1, px[0].second + 1,
           static_cast<int64_t>(px.size())};
  for (const auto& [y, x] : px) {
    b.y0 = std::min(b.y0, y);
    b.x0 = std::min(b.x0, x);
    b.y1 = std::max(b.y1, y + 1);
    b.x1 = std::max(b.x1, x + 1);
  }
  return b;
}

// The pixels 2 px out from `core` (its 5x5 dilation less its 3x3 one: a blurred edge
// is still the core's) that lie inside an h x w frame.
Pixels outline_of(const Pixels& core, int32_t h, int32_t w) {
  Pixels outline;
  if (core.empty()) return outline;
  const Region box = bounds_of(core);
  const int32_t y0 = box.y0, x0 = box.x0, y1 = box.y1, x1 = box.x1;
  const int32_t bw = x1 - x0 + 6, bh = y1 - y0 + 6;  // the box grown by 3 px
  std::vector<uint8_t> near(sz(static_cast<int64_t>(bw) * bh), 0);
  for (const auto& [y, x] : core) {
    for (int32_t ey = -2; ey <= 2; ++ey) {
      for (int32_t ex = -2; ex <= 2; ++ex) {
        uint8_t& v = near[sz(static_cast<int64_t>(y - y0 + 3 + ey) * bw + (x - x0 + 3 + ex))];
        v = std::max<uint8_t>(v, std::abs(ey) <= 1 && std::abs(ex) <= 1 ? 2 : 1);
      }
    }
  }
  for (int32_t by = 0; by < bh; ++by) {
    for (int32_t bx = 0; bx < bw; ++bx) {
      const int32_t y = by + y0 - 3, x = bx + x0 - 3;
      if (near[sz(static_cast<int64_t>(by) * bw + bx)] == 1 && y >= 0 && x >= 0 && y < h &&
          x < w) {
        outline.emplace_back(y, x);
      }
    }
  }
  return outline;
}

// The share of `outline` that differs by `apart` or more (grey) from the mean of `core`,
// both displaced by (dy, dx) in frame g (the caller keeps them inside it): 1 where the
// core ends there as a speck or an object does, low where it is part of something larger.
double apart_share(const Grey& g, const Pixels& core, const Pixels& outline, int32_t dy,
                   int32_t dx, double apart) {
  if (outline.empty() || core.empty()) return 1.0;
  double mean = 0.0;
  for (const auto& [y, x] : core) mean += g.at(0, y + dy, x + dx);
  mean /= static_cast<double>(core.size());
  size_t n = 0;
  for (const auto& [y, x] : outline) {
    n += std::fabs(g.at(0, y + dy, x + dx) - mean) >= apart ? 1 : 0;
  }
  return static_cast<double>(n) / static_cast<double>(outline.size());
}

// How far the restoration changed a region's pixels (target 1): how many, and the sum
// of their absolute grey changes.
struct RegionChange {
  int64_t count = 0;
  double total = 0.0;
  // changed by less than `limit` on average; false when none changed
  bool nudged(float limit) const {
    return count > 0 && total < static_cast<double>(limit) * static_cast<double>(count);
  }
};

RegionChange change_of(const Pixels& inside, const std::vector<uint8_t>& target,
                       const float* out, const float* centre, int32_t w) {
  RegionChange r;
  for (const auto& [y, x] : inside) {
    const int64_t i = static_cast<int64_t>(y) * w + x;
    if (target[sz(i)] != 1) continue;
    float g = 0.0f;
    for (int c = 0; c < 3; ++c) g += out[i * 3 + c] - centre[i * 3 + c];
    r.total += std::fabs(g / 3.0f);
    ++r.count;
  }
  return r;
}

// The region's changed pixels (target 1) are the centre's own again, bit for bit.
void give_back(const Pixels& inside, const std::vector<uint8_t>& target, float* out,
               const float* centre, int32_t w) {
  for (const auto& [y, x] : inside) {
    const int64_t i = static_cast<int64_t>(y) * w + x;
    if (target[sz(i)] != 1) continue;
    for (int c = 0; c < 3; ++c) out[i * 3 + c] = centre[i * 3 + c];
  }
}

// Whether a region the detection found shows in one of the matched frames within
// +-p.detect_search px of where that frame's fill comes from: something that moves
// and changes shape (a hand, a limb), not a defect. Compared are the region's `core`
// (its pixels that differ from their fill by over half the region's contrast; at most
// kMaxCore of them), each with the nearest grey value within 1 px of its displaced
// place (the shape may change), the frame's offset removed; found when the mean
// difference is under p.detect_found times the core's mean difference from its fill,
// `core_contrast`; a core of at most p.detect_standout_px px must also stand out there
// from its surroundings as it does in the centre (temporal_fill.hpp). For a `spike`
// region the place's surroundings must also be flat as the spike's were, the centre
// must not stand out so at the place the frame's match puts there, and the region
// must be found in two of the matched frames (one, when only one matched). A core of
// over p.detect_standout_px px is also looked for out to p.detect_search_wide px, as a
// fast object (below).
bool found_nearby(const float* window, const std::vector<Grey>& grey, int32_t ci,
                  const std::vector<Match>& best,
                  const std::vector<std::pair<int32_t, int32_t>>& core, const FillParams& p,
                  double core_contrast, bool spike) {
  if (core.empty()) return false;
  const Grey& c = grey[sz(ci)];
  const int32_t h = c.h[0], w = c.w[0];
  const size_t step = (core.size() + kMaxCore - 1) / kMaxCore;
  const Region box = bounds_of(core);
  const int32_t y0 = box.y0, x0 = box.x0, y1 = box.y1, x1 = box.x1;
  const double limit =
      p.detect_found * core_contrast * static_cast<double>((core.size() + step - 1) / step);
  // a small core's stand-out in frame g displaced by (oy, ox): its mean grey less the
  // median of the 1-px ring 2 px outside its box; judged only where that ring lies
  // inside the frame (at the edge, picture a pan brings in is half its surroundings)
  auto ring_inside = [&](int32_t oy, int32_t ox) {
    return y0 - 2 + oy >= 0 && x0 - 2 + ox >= 0 && y1 + 2 + oy <= h && x1 + 2 + ox <= w;
  };
  const bool small_core = p.detect_standout > 0.0f && ring_inside(0, 0) &&
                          core.size() <= static_cast<size_t>(std::max(p.detect_standout_px, 0));
  std::vector<float> ring;
  double spread = 0.0;  // of the last ring's middle half
  auto stand_out = [&](const Grey& g, int32_t oy, int32_t ox) {
    ring.clear();
    for (int32_t y = y0 - 2; y <= y1 + 1; ++y) {
      const bool edge_row = y == y0 - 2 || y == y1 + 1;
      for (int32_t x = x0 - 2; x <= x1 + 1; x += edge_row ? 1 : x1 - x0 + 3) {
        ring.push_back(g.at(0, y + oy, x + ox));
      }
    }
    double mean = 0.0;
    for (const auto& [y, x] : core) mean += g.at(0, y + oy, x + ox);
    mean /= static_cast<double>(core.size());
    std::sort(ring.begin(), ring.end());
    const size_t n = ring.size();
    spread = static_cast<double>(ring[3 * n / 4] - ring[n / 4 - 1]);
    return mean - static_cast<double>(ring[n / 2]);
  };
  // a larger core is also looked for out to detect_search_wide px (below)
  const bool wide = p.detect_search_wide > p.detect_search && p.detect_standout > 0.0f &&
                    ring_inside(0, 0) &&
                    core.size() > static_cast<size_t>(std::max(p.detect_standout_px, 0));
  const double own = small_core ? stand_out(c, 0, 0) : 0.0;
  // the core's mean difference (each pixel to the nearest value within 1 px) at its
  // place displaced by (dy, dx) in the matched frame m; stops once it reaches `limit`
  auto core_error = [&](const Match& m, const Grey& n, int32_t dy, int32_t dx) {
    double err = 0.0;
    for (size_t j = 0; j < core.size() && err < limit; j += step) {
      const auto [y, x] = core[j];
      const float v = c.at(0, y, x) - m.offset;
      float e = 1.0f;
      for (int32_t ey = -1; ey <= 1; ++ey) {
        for (int32_t ex = -1; ex <= 1; ++ex) {
          e = std::min(e, std::fabs(v - n.at(0, y + dy + ey, x + dx + ex)));
        }
      }
      err += e;
    }
    return err;
  };
  // the same in colour (the mean over RGB of each pixel's nearest value within 1 px):
  // a fast object's grey level is met by much of the picture, its colour less often
  const int64_t npx = static_cast<int64_t>(h) * w;
  auto colour_error = [&](const Match& m, int32_t dy, int32_t dx) {
    const float* cf = window + sz(static_cast<int64_t>(ci) * npx * 3);
    const float* nf = window + sz(static_cast<int64_t>(m.frame) * npx * 3);
    double err = 0.0;
    for (size_t j = 0; j < core.size() && err < limit; j += step) {
      const auto [y, x] = core[j];
      const float* v = cf + sz((static_cast<int64_t>(y) * w + x) * 3);
      float e = 3.0f;
      for (int32_t ey = -1; ey <= 1; ++ey) {
        for (int32_t ex = -1; ex <= 1; ++ex) {
          const float* u = nf + sz((static_cast<int64_t>(y + dy + ey) * w + (x + dx + ex)) * 3);
          float d = 0.0f;
          for (int ch = 0; ch < 3; ++ch) d += std::fabs(v[ch] - m.offset - u[ch]);
          e = std::min(e, d);
        }
      }
      err += e / 3.0f;
    }
    return err;
  };
  auto inside_at = [&](int32_t dy, int32_t dx) {
    return y0 + dy >= 1 && y1 + dy <= h - 1 && x0 + dx >= 1 && x1 + dx <= w - 1;
  };
  size_t frames_found = 0;
  for (const Match& m : best) {
    const Grey& n = grey[sz(m.frame)];
    bool found = false;
    for (int32_t dy = m.dy - p.detect_search; dy <= m.dy + p.detect_search && !found; ++dy) {
      for (int32_t dx = m.dx - p.detect_search; dx <= m.dx + p.detect_search && !found; ++dx) {
        if (!inside_at(dy, dx) || !(core_error(m, n, dy, dx) < limit)) continue;
        // a small core matches any texture that reaches its level: only a place that
        // stands out as the core does is the core moved there
        if (small_core && ring_inside(dy, dx)) {
          const double there = (own >= 0.0 ? 1.0 : -1.0) * stand_out(n, dy, dx);
          if (there < static_cast<double>(p.detect_standout) * std::fabs(own)) continue;
          // a spike found alone on flat picture moved only to where it is alone again,
          // and not to a point of picture the centre shows there too (a nail on a wall)
          if (spike && spread > static_cast<double>(kSpikeFlat) * there) continue;
          const int32_t cy = dy - m.dy, cx = dx - m.dx;  // that place in the centre
          if (spike && (cy != 0 || cx != 0) && ring_inside(cy, cx) &&
              (own >= 0.0 ? 1.0 : -1.0) * stand_out(c, cy, cx) >=
                  static_cast<double>(p.detect_standout) * std::fabs(own)) {
            continue;
          }
        }
        found = true;
      }
    }
    // a spike (dust is dense on old prints: another frame's own dot lies within the
    // search often) must be found in two of the frames, as a moving thing would be
    if (found && (!spike || ++frames_found >= std::min<size_t>(best.size(), 2))) return true;
  }
  const bool both_sides =
      std::any_of(best.begin(), best.end(), [&](const Match& m) { return m.frame < ci; }) &&
      std::any_of(best.begin(), best.end(), [&](const Match& m) { return m.frame > ci; });
  if (!wide || !both_sides) return false;  // a fast object is confirmed across the centre
  // Further out, a larger core counts as found only as a fast object would be: in
  // colour, where it ends as it does in the centre (inside a larger dark or bright area
  // any shape "matches"), and in a frame before the centre and one after it at one
  // velocity against the picture (dirt that matches texture here and there, or a
  // blotch two following frames share, is at no such velocity). The best place in each
  // frame gives the velocity; another frame confirms it anywhere within the tolerance.
  const Pixels outline = outline_of(core, h, w);
  auto ends_at = [&](const Match& m, int32_t dy, int32_t dx) {
    return apart_share(grey[sz(m.frame)], core, outline, dy, dx,
                       p.detect_standout * core_contrast) >= kFastEnds;
  };
  // the core at (dy, dx) in m's frame: inside it, matching, and ending as in the centre
  auto shows_at = [&](const Match& m, int32_t dy, int32_t dx) {
    return inside_at(dy, dx) && ring_inside(dy, dx) && colour_error(m, dy, dx) < limit &&
           ends_at(m, dy, dx);
  };
  for (const Match& m : best) {
    // the frame's best place beyond the search above: where the object would be
    const int32_t t = m.frame - ci;
    double least = limit;
    int32_t by = 0, bx = 0;
    for (int32_t dy = m.dy - p.detect_search_wide; dy <= m.dy + p.detect_search_wide; ++dy) {
      for (int32_t dx = m.dx - p.detect_search_wide; dx <= m.dx + p.detect_search_wide; ++dx) {
        if (std::abs(dy - m.dy) <= p.detect_search && std::abs(dx - m.dx) <= p.detect_search) {
          continue;  // searched above
        }
        if (!inside_at(dy, dx) || !ring_inside(dy, dx)) continue;
        const double err = colour_error(m, dy, dx);
        if (err < least && ends_at(m, dy, dx)) {
          least = err;
          by = dy - m.dy;
          bx = dx - m.dx;
        }
      }
    }
    if (!(least < limit)) continue;
    // ...confirmed where a frame on the other side of the centre shows it at that velocity
    const float vy = static_cast<float>(by) / static_cast<float>(t);
    const float vx = static_cast<float>(bx) / static_cast<float>(t);
    const float tol = kFastSlack + kFastShare * std::max(std::hypot(vy, vx), 1.0f);
    for (const Match& o : best) {
      const int32_t u = o.frame - ci;
      if ((u > 0) == (t > 0)) continue;  // before and after the centre
      const auto r = static_cast<int32_t>(std::ceil(tol * static_cast<float>(std::abs(u))));
      const auto py = static_cast<int32_t>(std::lround(vy * static_cast<float>(u))) + o.dy;
      const auto px = static_cast<int32_t>(std::lround(vx * static_cast<float>(u))) + o.dx;
      for (int32_t dy = py - r; dy <= py + r; ++dy) {
        for (int32_t dx = px - r; dx <= px + r; ++dx) {
          if (shows_at(o, dy, dx)) return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

FillStats temporal_fill(const float* window, int32_t frames, int32_t h, int32_t w, float* out,
                        const FillParams& p, ThreadPool* pool) {
  if (h <= 0 || w <= 0) throw std::invalid_argument("temporal_fill: empty frame");
  if (p.block < 4 || p.max_shift < 0 || p.refine < 0 || p.margin < 1 || p.max_side < 1 ||
      !(p.tau > 0.0f) || !(p.agree > 0.0f) || !(p.keep >= 0.0f) || !(p.keep_grey >= 0.0f) ||
      !(p.detect_tau > 0.0f) ||
      p.detect_frames < 1 || p.detect_min_px < 1 || p.detect_search < 0 || p.unjudged_px < 0 ||
      !(p.detect_found >= 0.0f) || !(p.weak >= 0.0f) || p.confirm_frames < 0 ||
      !(p.detect_standout >= 0.0f) || p.detect_standout_px < 0 || !(p.detect_grow >= 0.0f) ||
      p.detect_grow_px < 0 || !(p.detect_spike >= 0.0f) || p.detect_spike_px < 1 ||
      p.detect_search_wide < 0 || p.weak_frames < 0) {
    throw std::invalid_argument(
        "temporal_fill: block >= 4, margin >= 1, max_side >= 1, tau, agree and detect_tau > 0, "
        "keep(_grey), shifts, detect_search(_wide), detect_found, detect_standout(_px), "
        "detect_grow(_px), weak(_frames), unjudged_px, confirm_frames and detect_spike >= 0, "
        "detect_frames, detect_min_px and detect_spike_px >= 1");
  }
  FillStats stats;
  if (frames < 3) return stats;
  const int64_t npx = static_cast<int64_t>(h) * w;
  const int32_t ci = frames / 2;
  const float* centre = window + sz(ci * npx * 3);

  int64_t n_changed = 0;
  const std::vector<uint8_t> changed = change_mask(out, centre, npx, p.changed, n_changed);
  if (n_changed == 0 && !p.detect) return stats;

  const int32_t B = p.block;
  const int32_t nby = (h + B - 1) / B, nbx = (w + B - 1) / B;
  const int64_t nblocks = static_cast<int64_t>(nby) * nbx;
  const std::vector<int32_t> others = other_frames(frames, ci);
  const auto nothers = static_cast<int64_t>(others.size());
  const std::vector<Grey> grey = window_greys(window, frames, h, w, pool);
  // block motions in every other frame, computed once per square when first needed
  std::vector<Motion> motion(sz(nothers * nblocks));
  std::vector<uint8_t> have(sz(nblocks), 0);
  auto find_motion = [&](const std::vector<uint8_t>& needed) {
    std::vector<int64_t> blocks;
    for (int64_t b = 0; b < nblocks; ++b) {
      if (needed[sz(b)] && !have[sz(b)]) blocks.push_back(b);
    }
    run_on(pool, nothers * static_cast<int64_t>(blocks.size()), [&](int64_t lo, int64_t hi) {
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t o = task % nothers, b = blocks[sz(task / nothers)];
        const auto y0 = static_cast<int32_t>(b / nbx) * B, x0 = static_cast<int32_t>(b % nbx) * B;
        motion[sz(o * nblocks + b)] =
            square_motion(grey[sz(ci)], grey[sz(others[sz(o)])], y0, x0, std::min(y0 + B, h),
                          std::min(x0 + B, w), p.max_shift);
      }
    });
    for (const int64_t b : blocks) have[sz(b)] = 1;
  };

  // what to fill: the changed pixels (1) the other frames do not confirm (those go
  // back), and (detect) groups of pixels no other frame shows (2)
  std::vector<uint8_t> target = changed;
  std::vector<int32_t> label;
  if (p.detect || p.confirm_frames > 0) {
    find_motion(std::vector<uint8_t>(sz(nblocks), 1));
    std::vector<uint8_t> judged = judge_pixels(grey, ci, others, motion, B, changed, p, pool);
    // a persistent line scratch is in every frame: the network's fix of it stays
    const std::vector<Region> runs =
        components(grow_cross(grow_cross(changed, h, w), h, w), h, w, label);
    for (int64_t i = 0; i < npx; ++i) {
      if (judged[sz(i)] != kConfirmed) continue;
      judged[sz(i)] = 0;  // only kUnseen pixels are grouped below
      if (scratch_like(runs[sz(label[sz(i)] - 1)], h)) continue;
      for (int c = 0; c < 3; ++c) out[i * 3 + c] = centre[i * 3 + c];
      target[sz(i)] = 0;
      --n_changed;
      ++stats.confirmed;
    }
    const std::vector<Region> groups = components(judged, h, w, label);
    std::vector<int32_t> spikes(groups.size(), 0);  // kSpike pixels per group
    for (int64_t i = 0; i < npx; ++i) {
      if (judged[sz(i)] & kSpike) ++spikes[sz(label[sz(i)] - 1)];
    }
    for (int64_t i = 0; i < npx; ++i) {
      const int32_t id = label[sz(i)];
      if (id <= 0) continue;
      const bool spiky = spikes[sz(id - 1)] >= p.detect_spike_px;
      if (groups[sz(id - 1)].n >= p.detect_min_px || spiky) {
        target[sz(i)] = spiky ? kTargetSpike : kTargetDetected;
        ++stats.unseen;
      }
    }
    if (n_changed == 0 && stats.unseen == 0) return stats;
  }
  const std::vector<uint8_t> near1 = grow_cross(target, h, w);  // not part of a ring
  std::vector<Region> regions = components(grow_cross(near1, h, w), h, w, label);
  stats.regions = static_cast<int64_t>(regions.size());

  // the regions worth a search, their boxes grown by the margin
  std::vector<int32_t> todo;
  for (size_t r = 0; r < regions.size(); ++r) {
    const Region& g = regions[r];
    if (scratch_like(g, h)) continue;  // a line scratch's column
    if (g.y1 - g.y0 > p.max_side || g.x1 - g.x0 > p.max_side) continue;  // left to the network
    todo.push_back(static_cast<int32_t>(r));
  }
  if (todo.empty()) return stats;

  // block motions of the squares over and around them
  auto box_of = [&](const Region& g) {
    return Region{std::max(g.y0 - p.margin, 0), std::max(g.x0 - p.margin, 0),
                  std::min(g.y1 + p.margin, h), std::min(g.x1 + p.margin, w), 0};
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
  find_motion(needed);

  std::vector<int64_t> filled(todo.size(), 0);
  std::vector<std::vector<Fill>> grown(todo.size());
  run_on(pool, static_cast<int64_t>(todo.size()), [&](int64_t lo, int64_t hi) {
    std::vector<float> d, sorted;
    std::vector<std::pair<double, size_t>> floors;  // (error floor, candidate)
    std::vector<Fill> fills;
    std::vector<float> votes, ranked;
    std::vector<std::pair<int32_t, int32_t>> ring, inside, core;
    for (int64_t t = lo; t < hi; ++t) {
      const int32_t id = todo[sz(t)] + 1;
      const Region b = box_of(regions[sz(todo[sz(t)])]);
      ring.clear();
      inside.clear();
      for (int32_t y = b.y0; y < b.y1; ++y) {
        for (int32_t x = b.x0; x < b.x1; ++x) {
          const int64_t i = static_cast<int64_t>(y) * w + x;
          if (!near1[sz(i)]) ring.emplace_back(y, x);
          if (label[sz(i)] == id && target[sz(i)]) inside.emplace_back(y, x);
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
        auto ring_diff = [&](int32_t dy, int32_t dx) {
          d.resize(ring.size());
          for (size_t j = 0; j < ring.size(); ++j) {
            const auto [y, x] = ring[j];
            d[j] = grey[sz(ci)].at(0, y, x) - grey[sz(k)].at(0, y + dy, x + dx);
          }
        };
        // The best candidate: least mean |d - median(d)|, the first in (dy, dx) order
        // among equals. The median is most of the fill's time, so each candidate first
        // gets a floor under its error (|a - m| + |b - m| >= |a - b| for any m, summed
        // over pairs of ring pixels half the ring apart, from far sides of the region;
        // shaved so that rounding cannot lift it past the error), the floors are taken
        // in rising order, and the search stops where a floor exceeds tau (no match) or
        // the best error so far (cannot win): the answer is the one every candidate's
        // median would give, at 1.8x the speed (benchmarks/pass_speed.py).
        floors.clear();
        for (size_t c = 0; c < cands.size(); ++c) {
          const auto [dy, dx] = cands[c];
          if (b.y0 + dy < 0 || b.x0 + dx < 0 || b.y1 + dy > h || b.x1 + dx > w) continue;
          ring_diff(dy, dx);
          double pairs = 0.0;
          const size_t half = d.size() / 2;
          for (size_t j = 0; j < half; ++j) pairs += std::fabs(d[j] - d[j + half]);
          floors.emplace_back(pairs / static_cast<double>(d.size()) * (1.0 - 1e-5), c);
        }
        std::sort(floors.begin(), floors.end());
        Match mb;
        size_t mb_at = cands.size();
        for (const auto& [floor, c] : floors) {
          if (floor > static_cast<double>(p.tau) || floor > static_cast<double>(mb.error)) break;
          const auto [dy, dx] = cands[c];
          ring_diff(dy, dx);
          sorted.assign(d.begin(), d.end());
          auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
          std::nth_element(sorted.begin(), mid, sorted.end());
          const float med = *mid;
          double err = 0.0;
          for (const float v : d) err += std::fabs(v - med);
          const auto e = static_cast<float>(err / static_cast<double>(d.size()));
          if (e < mb.error || (e == mb.error && c < mb_at)) {
            mb = Match{e, k, dy, dx, med};
            mb_at = c;
          }
        }
        if (mb.frame >= 0 && mb.error <= p.tau) best.push_back(mb);
      }
      if (best.empty()) {
        // no frame can judge the region: the network's fill stays unless it is faint
        // (the matte's false detections change the picture by a few levels) or small
        // (what the veto and the confirmation left of a false detection)
        const RegionChange change = change_of(inside, target, out, centre, w);
        if (change.nudged(p.faint) || (change.count > 0 && change.count <= p.unjudged_px)) {
          give_back(inside, target, out, centre, w);
        }
        continue;
      }
      bool network_found = false, spike_found = false;
      for (const auto& [y, x] : inside) {
        const uint8_t what = target[sz(static_cast<int64_t>(y) * w + x)];
        network_found = network_found || what == 1;
        spike_found = spike_found || what == kTargetSpike;
      }
      if (network_found && best.size() < static_cast<size_t>(p.weak_frames) &&
          change_of(inside, target, out, centre, w).nudged(p.weak)) {
        // a region the network only nudged that too few frames can judge (one, by
        // default): that frame's own dirt is as likely as a defect of the centre
        give_back(inside, target, out, centre, w);
        continue;
      }
      std::sort(best.begin(), best.end(),
                [](const Match& a, const Match& c) { return a.error < c.error; });
      auto source = [&](const Match& m, int32_t y, int32_t x, int c) {
        const int64_t j = static_cast<int64_t>(y + m.dy) * w + (x + m.dx);
        return window[sz((m.frame * npx + j) * 3 + c)] + m.offset;
      };
      // the fill, where the frames give one; a region only the detection found is
      // filled when it stands out from the fill by detect_contrast (grey, mean)
      fills.clear();
      const bool vote = p.vote_frames >= 2 && best.size() >= static_cast<size_t>(p.vote_frames);
      votes.assign(best.size() * 3, 0.0f);
      double contrast = 0.0;
      // the fill of pixel (y, x) from the matching frames; false where they disagree
      auto fill_at = [&](int32_t y, int32_t x, Fill& f) {
        bool take = true;
        if (vote) {
          for (int c = 0; c < 3; ++c) {
            for (size_t q = 0; q < best.size(); ++q) {
              votes[q * 3 + sz(c)] = source(best[q], y, x, c);
            }
            f.v[c] = median_of(votes, best.size(), c, ranked);
          }
          int32_t agreeing = 0;
          for (size_t q = 0; q < best.size(); ++q) {
            float off = 0.0f;
            for (int c = 0; c < 3; ++c) {
              off = std::max(off, std::fabs(votes[q * 3 + sz(c)] - f.v[c]));
            }
            agreeing += off < p.agree ? 1 : 0;
          }
          take = agreeing >= 2;
        } else {
          for (int c = 0; c < 3; ++c) {
            f.v[c] = source(best[0], y, x, c);
            if (best.size() > 1) {
              const float u = source(best[1], y, x, c);
              take = take && std::fabs(f.v[c] - u) < p.agree;
              f.v[c] = 0.5f * (f.v[c] + u);
            }
          }
        }
        return take;
      };
      for (const auto& [y, x] : inside) {
        const int64_t i = static_cast<int64_t>(y) * w + x;
        Fill f{i, {0.0f, 0.0f, 0.0f}};
        if (!fill_at(y, x, f)) continue;
        for (int c = 0; c < 3; ++c) contrast += centre[i * 3 + c] - f.v[c];
        fills.push_back(f);
      }
      if (fills.empty()) continue;
      contrast = std::fabs(contrast) / (3.0 * static_cast<double>(fills.size()));
      if (network_found && contrast < p.detect_contrast &&
          change_of(inside, target, out, centre, w).nudged(p.weak)) {
        // a region the network only nudged is a defect only when it stands out from
        // the fill as a detected one must; otherwise it is the centre's own again
        give_back(inside, target, out, centre, w);
        continue;
      }
      if (network_found && best.size() >= 2 && p.grow_contrast > 0.0f) {
        grow_region(b, inside, target, w, p.grow_contrast, p.margin, centre, fill_at,
                    grown[sz(t)]);
      }
      if (!network_found) {
        const float need_contrast =
            spike_found ? std::min(p.detect_contrast, p.detect_spike) : p.detect_contrast;
        if (contrast < need_contrast) continue;
        core.clear();
        double core_contrast = 0.0;
        for (const Fill& f : fills) {
          float g = 0.0f;
          for (int c = 0; c < 3; ++c) g += centre[f.i * 3 + c] - f.v[c];
          if (std::fabs(g / 3.0f) < 0.5 * contrast) continue;
          core.emplace_back(static_cast<int32_t>(f.i / w), static_cast<int32_t>(f.i % w));
          core_contrast += std::fabs(g / 3.0f);
        }
        core_contrast /= static_cast<double>(std::max<size_t>(core.size(), 1));
        if (found_nearby(window, grey, ci, best, core, p, core_contrast, spike_found)) continue;
        if (p.detect_grow > 0.0f) {  // its soft edge, which the detection's 3x3 test missed
          grow_region(b, inside, target, w, p.detect_grow, std::min(p.detect_grow_px, p.margin),
                      centre, fill_at, grown[sz(t)]);
        }
      }
      for (const Fill& f : fills) {
        float off_centre = 0.0f, grey_off = 0.0f;
        for (int c = 0; c < 3; ++c) {
          off_centre = std::max(off_centre, std::fabs(f.v[c] - centre[f.i * 3 + c]));
          grey_off += f.v[c] - centre[f.i * 3 + c];
        }
        const bool confirmed = off_centre < p.keep ||
                               std::fabs(grey_off / 3.0f) < p.keep_grey;  // the centre was right
        for (int c = 0; c < 3; ++c) out[f.i * 3 + c] = confirmed ? centre[f.i * 3 + c] : f.v[c];
      }
      filled[sz(t)] = static_cast<int64_t>(fills.size());
    }
  });
  for (const int64_t f : filled) stats.filled += f;
  // pixels grown onto the regions, in region order (two regions' boxes may overlap)
  for (const std::vector<Fill>& g : grown) {
    for (const Fill& f : g) {
      for (int c = 0; c < 3; ++c) out[f.i * 3 + c] = f.v[c];
    }
    stats.filled += static_cast<int64_t>(g.size());
  }
  return stats;
}

}  // namespace haineifrdm
