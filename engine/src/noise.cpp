#include "haineifrdm/noise.hpp"

#include <cmath>

namespace haineifrdm {

namespace {
constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;
constexpr uint32_t kW1 = 0xBB67AE85u;
constexpr double kTwoPi = 6.283185307179586476925;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

inline std::array<uint32_t, 2> key_for(uint64_t seed, int64_t frame) {
  const uint64_t f = static_cast<uint64_t>(frame) * 0x9E3779B97F4A7C15ull;
  return {static_cast<uint32_t>(seed ^ f), static_cast<uint32_t>((seed >> 32) ^ (f >> 32))};
}

inline double unit_open(uint32_t x) { return (static_cast<double>(x) + 0.5) / 4294967296.0; }

inline void block(uint64_t seed, int64_t frame, int32_t step, uint64_t block_index,
                  float out[4]) {
  const auto r = philox4x32({static_cast<uint32_t>(block_index),
                             static_cast<uint32_t>(block_index >> 32),
                             static_cast<uint32_t>(step), 0x48414E45u /* "HANE" */},
                            key_for(seed, frame));
  for (int i = 0; i < 2; ++i) {
    const double rad = std::sqrt(-2.0 * std::log(unit_open(r[2 * i])));
    const double ang = kTwoPi * unit_open(r[2 * i + 1]);
    out[2 * i] = static_cast<float>(rad * std::cos(ang));
    out[2 * i + 1] = static_cast<float>(rad * std::sin(ang));
  }
}
}  // namespace

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, c[0], hi0, lo0);
    mulhilo(kM1, c[2], hi1, lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

float gaussian_at(uint64_t seed, int64_t frame, int32_t step, uint64_t index) {
  float v[4];
  block(seed, frame, step, index / 4, v);
  return v[index % 4];
}

void gaussian_fill(uint64_t seed, int64_t frame, int32_t step, uint64_t first, int64_t count,
                   float* out) {
  int64_t i = 0;
  uint64_t idx = first;
  float v[4];
  while (i < count) {
    block(seed, frame, step, idx / 4, v);
    for (uint64_t j = idx % 4; j < 4 && i < count; ++j, ++i, ++idx) out[i] = v[j];
  }
}

}  // namespace haineifrdm
