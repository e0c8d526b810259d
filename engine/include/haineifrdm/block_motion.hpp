// Block motion: one whole-pixel displacement per square of the picture.
//
// Shared by the engine's passes that compare the centre frame with its neighbours
// square by square (motion_veto.hpp, deflicker.hpp, temporal_fill.hpp). A square's
// displacement is found by exhaustive search at 1/4 resolution over +-max_shift px,
// then refined +-2 px at 1/2 and full resolution; the cost is the mean over the square of
// min(|centre - neighbour|, 0.1) in grey (RGB mean), so a moving object or a defect
// costs at most 0.1 per pixel; displacements that leave under half the square
// covered are not considered; a tiny pull towards no motion settles ties. A displacement
// is given up as soon as its partial cost cannot beat the best so far: the answer is the
// exhaustive search's, bit for bit (tests/test_block_motion.py checks it against one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace haineifrdm {

// A grey image (RGB mean) and its 1/2 and 1/4 box-averaged copies.
struct Grey {
  int32_t h[3] = {0, 0, 0};
  int32_t w[3] = {0, 0, 0};
  std::vector<float> px[3];

  float at(int level, int32_t y, int32_t x) const {
    return px[level][static_cast<size_t>(static_cast<int64_t>(y) * w[level] + x)];
  }
};

// rgb: [h, w, 3] float32 interleaved.
Grey make_grey(const float* rgb, int32_t h, int32_t w);

class ThreadPool;

// make_grey of every frame of `window` ([frames, h, w, 3]); pool may be null.
std::vector<Grey> window_greys(const float* window, int32_t frames, int32_t h, int32_t w,
                               ThreadPool* pool);

// The frames of a window of `frames` other than `centre`, in order.
std::vector<int32_t> other_frames(int32_t frames, int32_t centre);

struct Motion {
  int32_t dy = 0;
  int32_t dx = 0;
  float offset = 0.0f;  // centre - neighbour, mean over the pixels within 0.1
  bool found = false;
};

// The displacement (and offset) of the full-resolution square [y0, y1) x [x0, x1) of
// `c` in `n`: n(p + d) shows what c shows at p. `found` is false when no displacement
// covers half the square.
Motion square_motion(const Grey& c, const Grey& n, int32_t y0, int32_t x0, int32_t y1, int32_t x1,
                     int32_t max_shift);

// |c(y, x) - offset - n(p + d)| in grey at full resolution, d and offset from `m`; 1 where
// p + d is outside `n`. With `subpixel`, the distance to the nearest value `n` takes
// within half a pixel of p + d (between n(p + d) and halfway to each of its 4
// neighbours): whole-pixel motion leaves up to half a pixel of a fractional
// displacement (gate weave) over, which at a sharp edge is most of its contrast.
float shifted_diff(const Grey& c, const Grey& n, int32_t y, int32_t x, const Motion& m,
                   bool subpixel);

// The mean of shifted_diff over the 3x3 box around (y, x), reflected at the border.
float box_shifted_diff(const Grey& c, const Grey& n, int32_t y, int32_t x, const Motion& m,
                       bool subpixel);

}  // namespace haineifrdm
