#include "haineifrdm/blotch.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "haineifrdm/registration.hpp"
#include "haineifrdm/resample.hpp"
#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

inline size_t sz(int64_t v) { return static_cast<size_t>(v); }

int32_t round_up(int32_t v, int32_t m) { return (v + m - 1) / m * m; }

// Source index and weight of the lower tap for output o of a bilinear resize in -> out
// (align_corners=False, edges clamped).
void bilinear_tap(int32_t o, int32_t in, int32_t out, int32_t& i0, int32_t& i1, float& f) {
  const float src = std::max(
      (static_cast<float>(o) + 0.5f) * static_cast<float>(in) / static_cast<float>(out) - 0.5f,
      0.0f);
  i0 = std::min(static_cast<int32_t>(src), in - 1);
  i1 = std::min(i0 + 1, in - 1);
  f = src - static_cast<float>(i0);
}

}  // namespace

int32_t window_camera_shift(const float* window, int32_t frames, int32_t h, int32_t w,
                            ThreadPool* pool) {
  const WindowPyramid pyramid(window, frames, h, w, pool);
  const int32_t side = std::min(h, w);
  const std::vector<Shift> shifts =
      pyramid.patch_shifts((h - side) / 2, (w - side) / 2, side, kMaxShiftPerFrame);
  int32_t most = 0;
  for (const Shift& s : shifts) most = std::max({most, std::abs(s.dy), std::abs(s.dx)});
  return most;
}

BlotchInput blotch_layout(int32_t h, int32_t w) {
  if (h < 1 || w < 1) throw std::invalid_argument("blotch: empty frame");
  BlotchInput in;
  in.qh = std::max(1, static_cast<int32_t>(std::lround(static_cast<double>(h) / kBlotchScale)));
  in.qw = std::max(1, static_cast<int32_t>(std::lround(static_cast<double>(w) / kBlotchScale)));
  in.ph = round_up(in.qh, kBlotchMultiple);
  in.pw = round_up(in.qw, kBlotchMultiple);
  return in;
}

BlotchInput blotch_input(const float* window, int32_t frames, int32_t h, int32_t w,
                         ThreadPool* pool) {
  if (frames < 1) throw std::invalid_argument("blotch: empty window");
  BlotchInput in = blotch_layout(h, w);
  const int64_t frame_px = static_cast<int64_t>(h) * w;
  const int64_t q_px = static_cast<int64_t>(in.qh) * in.qw;
  const int64_t p_px = static_cast<int64_t>(in.ph) * in.pw;
  in.window_q.resize(sz(frames * 3 * p_px));
  std::vector<float> small(sz(q_px * 3));
  for (int32_t f = 0; f < frames; ++f) {
    area_resize(window + sz(f * frame_px * 3), h, w, 3, small.data(), in.qh, in.qw, pool);
    for (int32_t c = 0; c < 3; ++c) {
      float* plane = in.window_q.data() + sz((static_cast<int64_t>(f) * 3 + c) * p_px);
      for (int32_t y = 0; y < in.ph; ++y) {
        const int32_t sy = std::min(y, in.qh - 1);
        for (int32_t x = 0; x < in.pw; ++x) {
          const int32_t sx = std::min(x, in.qw - 1);
          plane[sz(static_cast<int64_t>(y) * in.pw + x)] =
              small[sz((static_cast<int64_t>(sy) * in.qw + sx) * 3 + c)];
        }
      }
    }
  }
  return in;
}

int64_t apply_blotch_offset(const float* centre, int32_t h, int32_t w, const BlotchInput& in,
                            const float* offset_q, float* out, const BlotchParams& params,
                            ThreadPool* pool) {
  const int64_t p_px = static_cast<int64_t>(in.ph) * in.pw;
  std::vector<int64_t> changed(sz(h), 0);
  run_on(pool, h, [&](int64_t b, int64_t e) {
    for (int64_t y = b; y < e; ++y) {
      int32_t y0 = 0, y1 = 0;
      float fy = 0.0f;
      bilinear_tap(static_cast<int32_t>(y), in.qh, h, y0, y1, fy);
      for (int32_t x = 0; x < w; ++x) {
        int32_t x0 = 0, x1 = 0;
        float fx = 0.0f;
        bilinear_tap(x, in.qw, w, x0, x1, fx);
        float off[3];
        float peak = 0.0f;
        for (int32_t c = 0; c < 3; ++c) {
          const float* plane = offset_q + sz(c * p_px);
          const auto at = [&](int32_t yy, int32_t xx) {
            return plane[sz(static_cast<int64_t>(yy) * in.pw + xx)];
          };
          const float top = at(y0, x0) + fx * (at(y0, x1) - at(y0, x0));
          const float bot = at(y1, x0) + fx * (at(y1, x1) - at(y1, x0));
          off[c] = top + fy * (bot - top);
          peak = std::max(peak, std::fabs(off[c]));
        }
        if (!(peak >= params.min_offset)) continue;  // NaN offsets are left too
        const int64_t i = (y * w + x) * 3;
        bool untouched = true;
        for (int32_t c = 0; c < 3; ++c) {
          untouched = untouched && std::fabs(out[i + c] - centre[i + c]) <= params.untouched;
        }
        if (!untouched) continue;
        for (int32_t c = 0; c < 3; ++c) out[i + c] = centre[i + c] - off[c];
        ++changed[sz(y)];
      }
    }
  });
  int64_t total = 0;
  for (int64_t v : changed) total += v;
  return total;
}

int64_t blotch_pass(Backend& backend, const float* window, int32_t frames, int32_t h,
                    int32_t w, float* out, const BlotchParams& params, ThreadPool* pool,
                    double& backend_s) {
  if (params.still_px >= 0 && window_camera_shift(window, frames, h, w, pool) > params.still_px) {
    return 0;
  }
  const BlotchInput in = blotch_input(window, frames, h, w, pool);
  std::vector<float> offset(sz(3 * static_cast<int64_t>(in.ph) * in.pw));
  BlotchCall call;
  call.window_channels = 3 * frames;
  call.height = in.ph;
  call.width = in.pw;
  call.window_q = in.window_q.data();
  call.offset = offset.data();
  const auto t0 = std::chrono::steady_clock::now();
  backend.blotch(call);
  backend_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const float* centre = window + sz(static_cast<int64_t>(frames / 2) * h * w * 3);
  return apply_blotch_offset(centre, h, w, in, offset.data(), out, params, pool);
}

}  // namespace haineifrdm
