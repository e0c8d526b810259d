// Which pixels a restoration changed: shared by the passes that only act on those.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace haineifrdm {

// 1 where `out` differs from `centre` (both [npx, 3] float32 interleaved) by more than
// `eps` in some channel, else 0; `count` gets the number of 1s.
inline std::vector<uint8_t> change_mask(const float* out, const float* centre, int64_t npx,
                                        float eps, int64_t& count) {
  std::vector<uint8_t> changed(static_cast<size_t>(npx), 0);
  count = 0;
  for (int64_t i = 0; i < npx; ++i) {
    float d = 0.0f;
    for (int c = 0; c < 3; ++c) d = std::max(d, std::fabs(out[i * 3 + c] - centre[i * 3 + c]));
    changed[static_cast<size_t>(i)] = d > eps ? 1 : 0;
    count += d > eps ? 1 : 0;
  }
  return changed;
}

}  // namespace haineifrdm
