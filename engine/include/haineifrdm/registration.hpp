// Per-patch motion compensation of a temporal window.
//
// A camera pan moves the whole picture by tens of pixels per frame, so the same
// patch rectangle in a neighbouring frame shows other content and the network's
// temporal evidence (centre - neighbour) is mostly motion. For every patch and
// every frame of the window this module finds one whole-pixel shift (dy, dx)
// such that the frame read at (y + dy, x + dx) lines up with the centre frame at
// (y, x) over the patch; the patch's window is then read through that shift.
// Whole pixels only: each frame keeps its own grain, nothing is resampled.
//
// The region matched is the patch widened about its centre to at least
// kMinRegion pixels a side (and cut to the frame).
// Search: grey copies (RGB mean) box-averaged by 8, 4, 2 and 1; exhaustive search at the
// coarsest level whose view of the region is at least kMinCoarseSide pixels, over
// +-max_shift * |frame distance| pixels, then +-2 pixels at every finer level.
// Cost: mean over the region of min(|centre - frame - offset|, kTruncate), where
// offset is the difference of their means over the overlap (flicker, and content
// whose average changes as the camera moves, do not pull the answer) (a moving object
// or a defect costs at most kTruncate per pixel), in the exhaustive search
// kUncovered for each pixel the moved frame does not cover (the refinements
// average over the covered pixels only); shifts that leave under a quarter of the region overlapping are not
// considered. The centre frame's shift is (0, 0).
#pragma once

#include <cstdint>
#include <vector>

namespace haineifrdm {

class ThreadPool;

// Largest camera motion searched, pixels per frame of temporal distance, at the
// full resolution of the frames given (scale it for downscaled frames).
constexpr int32_t kMaxShiftPerFrame = 64;
constexpr float kTruncate = 0.1f;
constexpr double kUncovered = 0.1;
constexpr int32_t kMinCoarseSide = 24;
constexpr int32_t kMinRegion = 128;

// Search range (pixels per frame of distance) for frames downscaled from a long side
// of `full_side` to `side` pixels (stage 1, and its training samples).
int32_t scaled_max_shift(int32_t side, int32_t full_side);

struct Shift {
  int32_t dy = 0;
  int32_t dx = 0;
};

// Grey pyramids of every frame of a window, built once per window.
class WindowPyramid {
 public:
  // window: [frames, h, w, 3] float32 interleaved; pool may be null (one thread).
  WindowPyramid(const float* window, int32_t frames, int32_t h, int32_t w, ThreadPool* pool);

  // One shift per frame (centre = frames / 2 gets (0, 0)) for the square patch
  // of side `size` at (y, x).
  std::vector<Shift> patch_shifts(int32_t y, int32_t x, int32_t size, int32_t max_shift) const;

  int32_t frames() const { return frames_; }

 private:
  struct Level {
    int32_t factor = 1;
    int32_t h = 0;
    int32_t w = 0;
    std::vector<float> grey;  // [frames][h * w]
  };
  double cost(const Level& lv, int32_t f, int32_t y0, int32_t x0, int32_t y1, int32_t x1,
              int32_t dy, int32_t dx, bool penalise_uncovered) const;

  int32_t frames_ = 0;
  std::vector<Level> levels_;  // factor 1, 2, 4, 8
};

// Copies rows [row_lo, row_hi) of the patch of side `size` at (y, x) of every
// frame, each read through its shift with reflect padding, into `dst` laid out
// planar as [frames * 3, size, size] (frame-major, then R, G, B).
void extract_patch_rows(const float* window, int32_t frames, int32_t h, int32_t w, int32_t y,
                        int32_t x, int32_t size, const Shift* shifts, int32_t row_lo,
                        int32_t row_hi, float* dst);

}  // namespace haineifrdm
