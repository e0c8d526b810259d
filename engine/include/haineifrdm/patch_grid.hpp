// Patch-grid planning for the two-stage sampler.
//
// Contract: a frame of `height` x `width` pixels is covered by square patches of
// side `patch` whose neighbours overlap by at least `overlap` pixels. Patch
// origins are integer pixel positions inside the frame; a patch may extend past
// the frame's bottom/right edge only when the frame is smaller than one patch,
// and those pixels are read with reflect padding (see reflect_index).
#pragma once

#include <cstdint>
#include <vector>

namespace haineifrdm {

struct PatchRect {
  int32_t y;  // top row of the patch in frame pixels
  int32_t x;  // left column of the patch in frame pixels
};

struct PatchGrid {
  int32_t height = 0;
  int32_t width = 0;
  int32_t patch = 0;
  int32_t overlap = 0;
  std::vector<int32_t> ys;         // distinct patch rows, ascending
  std::vector<int32_t> xs;         // distinct patch columns, ascending
  std::vector<PatchRect> patches;  // row-major product of ys x xs
};

// Origins along one axis: evenly spread so that the first starts at 0, the last
// ends at `length` (when length > patch), and neighbours overlap >= overlap.
// Throws std::invalid_argument on non-positive sizes or overlap >= patch.
std::vector<int32_t> plan_axis(int32_t length, int32_t patch, int32_t overlap);

PatchGrid plan_patches(int32_t height, int32_t width, int32_t patch, int32_t overlap);

// 1-D blending ramp of length `patch`: a raised-cosine rise over the first
// `overlap` samples, 1 in the middle, a mirrored fall at the end. Every value is
// strictly positive, so normalised sums are always defined. 2-D weights are the
// outer product of two ramps.
std::vector<float> blend_ramp(int32_t patch, int32_t overlap);

// Index into [0, n) for any integer i using mirror reflection without edge
// repetition (numpy 'reflect'), periodic for |i| far outside; n == 1 gives 0.
int32_t reflect_index(int64_t i, int32_t n);

}  // namespace haineifrdm
