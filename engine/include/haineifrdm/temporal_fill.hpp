// Temporal fill: put what the other frames show under each defect the network found.
//
// The network replaces a defect with its own fill: the other frames, lined up per
// patch (one whole-pixel shift for the whole patch), or a spatial interpolation
// where they disagree with the centre (a pan, an object). Per defect, motion can do
// better: a speck on a zooming or weaving picture is one place in each neighbour,
// found from the pixels around it. This pass, after the motion veto, takes every
// region the restoration changed (changed pixels grouped within 2 px) and
//
//   1. matches the region's ring of unchanged pixels (its bounding box grown by
//      `margin` px, less the changed pixels grown by 1 px) in every other frame of
//      the window, at the block motions (block_motion.hpp, `block`-px squares) of the
//      squares over and around the region, each refined +-`refine` px; the match
//      error is the mean absolute deviation of the grey difference from its median
//      (the median is the frame's offset there: flicker), and a frame whose best
//      error is over `tau` does not show the region;
//   2. fills the region's changed pixels from the two frames that match best, with
//      their offsets, where the two agree within `agree` (max over RGB; their mean),
//      or from the one frame when only one matches; where two disagree, or none
//      matches, the network's fill stays;
//   3. where that fill is within `keep` of the centre frame itself (max over RGB), the
//      other frames confirm the centre: not a defect (the soft edge the network's
//      matte grows, or a false detection), so the pixel is the centre's own again.
//
// Regions over `max_side` px tall or wide are left to the network (a large blotch, or
// a false detection over a moving object; the search's cost grows with the region),
// and so are regions taller than a third of the frame and under an eighth as wide as
// tall, for the line-scratch pass (a persistent scratch is in every
// frame, a little displaced: "matched" there it would be pasted back). Every pixel
// the restoration did not change stays the centre frame's own, bit for bit.
// Parameters chosen on the validation sets (seeds 5000 and 6000 of `haineifrdm
// eval`, moving and still scenes, 1 step; whole / inside / outside dB, mean of the
// four): without the pass 39.67 / 25.65 / 56.32; with it (agree 0.06, keep 0) 40.28 /
// 26.68 / 56.01; agree 0.1 40.32 / 26.78 / 55.98 (0.15: 40.34 / 26.83 / 55.95); keep
// 0.03 / 0.05 / 0.08: 40.34 / 40.37 / 40.34 whole, 56.15 / 56.68 / 56.66 outside; tau
// 0.02 / 0.045 and margin 3 / 6 px lower, refine 1 / 3 px the same.
#pragma once

#include <cstdint>

namespace haineifrdm {

class ThreadPool;

struct FillParams {
  int32_t block = 32;      // side of the squares whose motion gives the candidates, px
  int32_t max_shift = 72;  // their search radius, px per frame
  int32_t refine = 2;      // each candidate refined over +-refine px
  int32_t margin = 4;      // ring around a region's bounding box that is matched, px
  float tau = 0.03f;       // a frame matches when its ring error is at most this
  float agree = 0.1f;     // two frames' fills agree within this (max over RGB)
  float keep = 0.05f;       // a fill within this of the centre (max over RGB) gives the centre back
  int32_t max_side = 256;  // larger regions (grown by 2 px) are left to the network, px
  float changed = 1e-4f;   // a pixel counts as changed above this (max over RGB)
};

struct FillStats {
  int64_t regions = 0;  // changed regions considered
  int64_t filled = 0;   // pixels filled from other frames
};

// window: [frames, h, w, 3] float32 interleaved (the degraded frames, centre =
// frames / 2); out: [h, w, 3], the restored centre frame, edited in place.
// Windows of fewer than 3 frames are left alone. pool may be null (one thread).
FillStats temporal_fill(const float* window, int32_t frames, int32_t h, int32_t w, float* out,
                        const FillParams& params, ThreadPool* pool);

}  // namespace haineifrdm
