// Deflicker: the centre frame's exposure brought to its window's.
//
// Flicker is a whole-frame gain that changes from frame to frame. Under fast
// motion a frame's mean brightness cannot be compared with its neighbours' (the
// content itself changes), so the comparison is made square by square through
// block motion (block_motion.hpp): for every `block`-px square of the centre and
// every other frame of the window, the square's displacement in that frame (search
// +-max_shift px per frame of distance); over the pixels whose difference lies
// within `match` of the square's median difference (not a defect, not an object
// that moved otherwise), the mean grey of the centre and of the frame. A robust
// fit of centre = a_k * frame_k over the squares (squares weighted by their
// matching pixels, reweighted by 1 / (1 + (residual / tau)^2), 8 rounds) gives the
// centre's gain relative to frame k; frames with under `min_squares` usable squares
// are left out. Across an exposure step a shift along a gradient can pass for part
// of it in the motion search, so the search and fit run a second time with every
// frame scaled by the first round's gain (what remains errs towards too little
// correction). The centre is then scaled by the mean of
// 1 and the 1 / a_k: the window's mean exposure (flicker the whole window shares
// stays).
//
// Gain only: fits of gain and offset together trade one for the other over the
// narrow brightness range of a frame's squares. Frames whose correction would
// change the picture by less than `dead_zone` (mean absolute change, image units)
// are left bit for bit. Chosen on the validation sets (seeds 5000 and 6000 of
// `haineifrdm eval`): gain+offset and offset-only fits, one or three search rounds,
// a mean-free search, a first guess from the frames' mean grey, dead zones
// 0.001-0.006.
#pragma once

#include <cstdint>

namespace haineifrdm {

class ThreadPool;

struct DeflickerParams {
  int32_t block = 32;        // side of the squares compared, px
  int32_t max_shift = 72;    // search radius, px per frame of distance
  float match = 0.05f;       // a pixel counts within this of its square's median difference
  float tau = 0.01f;         // residual scale of the robust fit (grey, image units)
  int32_t min_squares = 8;   // a frame needs this many usable squares
  float dead_zone = 0.002f;  // corrections changing the frame by less are not applied
};

struct Exposure {
  float gain = 1.0f;        // the factor that brings the centre to the window's exposure
  float change = 0.0f;      // mean |gain * centre - centre| over the frame
  int32_t frames_used = 0;  // other frames that took part
  bool applied = false;     // change >= dead_zone
};

// window: [frames, h, w, 3] float32 interleaved (centre = frames / 2). pool may be null.
Exposure estimate_exposure(const float* window, int32_t frames, int32_t h, int32_t w,
                           const DeflickerParams& params, ThreadPool* pool);

}  // namespace haineifrdm
