#include "haineifrdm/resample.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

inline int32_t clampi(int64_t v, int32_t hi) {
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, 0), hi));
}

inline float cubic_w(float x) {  // A = -0.75, |x| in [0, 2)
  constexpr float A = -0.75f;
  x = std::fabs(x);
  if (x <= 1.0f) return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
  if (x < 2.0f) return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
  return 0.0f;
}

struct Taps {
  std::vector<int32_t> idx;  // 4 per output
  std::vector<float> w;      // 4 per output
};

Taps bicubic_taps(int32_t in, int32_t out) {
  Taps t;
  t.idx.resize(static_cast<size_t>(out) * 4);
  t.w.resize(static_cast<size_t>(out) * 4);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int32_t o = 0; o < out; ++o) {
    const float src = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
    const float f = std::floor(src);
    const float frac = src - f;
    const auto base = static_cast<int64_t>(f);
    for (int k = 0; k < 4; ++k) {
      t.idx[static_cast<size_t>(o) * 4 + static_cast<size_t>(k)] = clampi(base - 1 + k, in - 1);
      t.w[static_cast<size_t>(o) * 4 + static_cast<size_t>(k)] =
          cubic_w(frac - static_cast<float>(k - 1));
    }
  }
  return t;
}

}  // namespace

void area_resize(const float* src, int32_t h, int32_t w, int32_t c, float* dst, int32_t oh,
                 int32_t ow, ThreadPool* pool) {
  // rows first into a temporary [oh, w, c], then columns
  std::vector<float> tmp(static_cast<size_t>(oh) * static_cast<size_t>(w) * static_cast<size_t>(c));
  const int64_t row_len = static_cast<int64_t>(w) * c;
  run_on(pool, oh, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const int64_t y0 = (o * h) / oh;
      const int64_t y1 = ((o + 1) * h + oh - 1) / oh;
      float* out = tmp.data() + o * row_len;
      std::fill(out, out + row_len, 0.0f);
      for (int64_t y = y0; y < y1; ++y) {
        const float* in = src + y * row_len;
        for (int64_t i = 0; i < row_len; ++i) out[i] += in[i];
      }
      const float inv = 1.0f / static_cast<float>(y1 - y0);
      for (int64_t i = 0; i < row_len; ++i) out[i] *= inv;
    }
  });
  run_on(pool, oh, [&](int64_t b, int64_t e) {
    for (int64_t y = b; y < e; ++y) {
      const float* in = tmp.data() + y * row_len;
      float* out = dst + y * static_cast<int64_t>(ow) * c;
      for (int64_t o = 0; o < ow; ++o) {
        const int64_t x0 = (o * w) / ow;
        const int64_t x1 = ((o + 1) * w + ow - 1) / ow;
        const float inv = 1.0f / static_cast<float>(x1 - x0);
        for (int64_t ch = 0; ch < c; ++ch) {
          float s = 0.0f;
          for (int64_t x = x0; x < x1; ++x) s += in[x * c + ch];
          out[o * c + ch] = s * inv;
        }
      }
    }
  });
}

void bicubic_resize(const float* src, int32_t h, int32_t w, int32_t c, float* dst, int32_t oh,
                    int32_t ow, ThreadPool* pool) {
  const Taps ty = bicubic_taps(h, oh);
  const Taps tx = bicubic_taps(w, ow);
  // columns first into [h, ow, c], then rows (same order as PyTorch: separable sum)
  std::vector<float> tmp(static_cast<size_t>(h) * static_cast<size_t>(ow) * static_cast<size_t>(c));
  run_on(pool, h, [&](int64_t b, int64_t e) {
    for (int64_t y = b; y < e; ++y) {
      const float* in = src + y * static_cast<int64_t>(w) * c;
      float* out = tmp.data() + y * static_cast<int64_t>(ow) * c;
      for (int64_t o = 0; o < ow; ++o) {
        for (int64_t ch = 0; ch < c; ++ch) {
          float s = 0.0f;
          for (int k = 0; k < 4; ++k) {
            const size_t t = static_cast<size_t>(o) * 4 + static_cast<size_t>(k);
            s += tx.w[t] * in[static_cast<int64_t>(tx.idx[t]) * c + ch];
          }
          out[o * c + ch] = s;
        }
      }
    }
  });
  const int64_t row_len = static_cast<int64_t>(ow) * c;
  run_on(pool, oh, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      float* out = dst + o * row_len;
      std::fill(out, out + row_len, 0.0f);
      for (int k = 0; k < 4; ++k) {
        const size_t t = static_cast<size_t>(o) * 4 + static_cast<size_t>(k);
        const float wk = ty.w[t];
        const float* in = tmp.data() + static_cast<int64_t>(ty.idx[t]) * row_len;
        for (int64_t i = 0; i < row_len; ++i) out[i] += wk * in[i];
      }
    }
  });
}

void fit_long_side(int32_t h, int32_t w, int32_t side, int32_t& oh, int32_t& ow) {
  const double s = static_cast<double>(side) / std::max(h, w);
  // Python's round(): half to even
  oh = std::max<int32_t>(1, static_cast<int32_t>(std::nearbyint(h * s)));
  ow = std::max<int32_t>(1, static_cast<int32_t>(std::nearbyint(w * s)));
}

}  // namespace haineifrdm
