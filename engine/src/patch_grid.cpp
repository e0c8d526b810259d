#include "haineifrdm/patch_grid.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace haineifrdm {

namespace {
constexpr double kPi = 3.14159265358979323846;

void check_sizes(int32_t length, int32_t patch, int32_t overlap) {
  if (patch <= 0) throw std::invalid_argument("patch size must be positive, got " + std::to_string(patch));
  if (length <= 0) throw std::invalid_argument("frame size must be positive, got " + std::to_string(length));
  if (overlap < 0 || overlap >= patch) {
    throw std::invalid_argument("overlap must be in [0, patch), got " + std::to_string(overlap) +
                                " for patch " + std::to_string(patch));
  }
}
}  // namespace

std::vector<int32_t> plan_axis(int32_t length, int32_t patch, int32_t overlap) {
  check_sizes(length, patch, overlap);
  if (length <= patch) return {0};
  const int64_t stride = patch - overlap;
  const int64_t span = static_cast<int64_t>(length) - patch;  // last origin
  const int64_t count = (span + stride - 1) / stride + 1;     // ceil(span / stride) + 1
  std::vector<int32_t> origins(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    // Even spread with integer rounding; first = 0, last = span.
    origins[static_cast<size_t>(i)] = static_cast<int32_t>((i * span * 2 + (count - 1)) / (2 * (count - 1)));
  }
  return origins;
}

PatchGrid plan_patches(int32_t height, int32_t width, int32_t patch, int32_t overlap) {
  PatchGrid grid;
  grid.height = height;
  grid.width = width;
  grid.patch = patch;
  grid.overlap = overlap;
  grid.ys = plan_axis(height, patch, overlap);
  grid.xs = plan_axis(width, patch, overlap);
  grid.patches.reserve(grid.ys.size() * grid.xs.size());
  for (int32_t y : grid.ys) {
    for (int32_t x : grid.xs) grid.patches.push_back(PatchRect{y, x});
  }
  return grid;
}

std::vector<float> blend_ramp(int32_t patch, int32_t overlap) {
  check_sizes(patch, patch, overlap);
  std::vector<float> ramp(static_cast<size_t>(patch), 1.0f);
  for (int32_t i = 0; i < overlap; ++i) {
    const double s = std::sin(0.5 * kPi * (i + 0.5) / overlap);
    const float w = static_cast<float>(s * s);
    ramp[static_cast<size_t>(i)] = w;
    ramp[static_cast<size_t>(patch - 1 - i)] = w;
  }
  return ramp;
}

int32_t reflect_index(int64_t i, int32_t n) {
  if (n <= 0) throw std::invalid_argument("reflect_index: n must be positive");
  if (n == 1) return 0;
  const int64_t period = 2 * static_cast<int64_t>(n) - 2;
  int64_t m = i % period;
  if (m < 0) m += period;
  return static_cast<int32_t>(m < n ? m : period - m);
}

}  // namespace haineifrdm
