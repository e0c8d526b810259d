// Blotch pass: the blotch network's offset subtracted from the centre frame.
//
// A blotch adds a smooth, soft-edged density change to one to three frames at one
// place; the picture under it keeps its texture, so the pass subtracts the offset
// instead of painting the place over. The offset comes from the optional `blotch`
// graph (model/blotch.py), run on the window area-downscaled by `kBlotchScale`:
// blotch_input() builds that input (planar, edge-padded to multiples of
// `kBlotchMultiple`), the backend runs the graph, and apply_blotch_offset()
// upscales the offset (bilinear, like F.interpolate with align_corners=False) and
// subtracts it where it is at least `min_offset` (largest channel) on pixels the
// earlier passes left as the centre frame (a pixel they refilled has no blotch
// left to take out).
//
// A blotch network trained for 1.5 h on two CPU cores (model card, session 23; not
// shipped) told blotches from picture only on shots whose camera holds still (gate
// weave); under pans it took moving picture for blotches. So the pass runs only on
// windows whose whole-frame shifts stay within `still_px` (negative: always).
#pragma once

#include <cstdint>
#include <vector>

#include "haineifrdm/backend.hpp"

namespace haineifrdm {

class ThreadPool;

constexpr int32_t kBlotchScale = 4;     // contract.BLOTCH_SCALE
constexpr int32_t kBlotchMultiple = 8;  // the graph's input sides are multiples of this

struct BlotchParams {
  float min_offset = 0.02f;  // smaller offsets (largest channel, image units) are left
  // the pass runs only on windows whose camera holds still: every frame's whole-frame
  // shift to the centre (registration.hpp, over the central square) within this many
  // px (gate weave passes; pans and splice jumps do not). Negative: no gate.
  int32_t still_px = 6;
  float untouched = 1e-4f;   // a pixel within this of the centre frame counts as left as it
                             // came (the patch blend leaves float rounding on such pixels)
};

struct BlotchInput {
  int32_t qh = 0, qw = 0;          // the downscaled frame's size (before padding)
  int32_t ph = 0, pw = 0;          // padded size: the graph's h, w
  std::vector<float> window_q;     // [3F, ph, pw] planar, frames oldest first
};

// The largest whole-frame camera shift (max of |dy|, |dx| over the frames, px) between
// the centre of `window` [F, H, W, 3] and its other frames.
int32_t window_camera_shift(const float* window, int32_t frames, int32_t h, int32_t w,
                            ThreadPool* pool);

// The sizes of the blotch graph's input for an h x w frame (window_q left empty).
BlotchInput blotch_layout(int32_t h, int32_t w);

// window [F, H, W, 3] interleaved -> the blotch graph's input (batch of one).
BlotchInput blotch_input(const float* window, int32_t frames, int32_t h, int32_t w,
                         ThreadPool* pool);

// Subtracts the graph's `offset_q` [3, ph, pw] (planar, for `in`) from `out` [H, W, 3]
// where out is still the centre frame `centre` [H, W, 3] (within `untouched`); returns
// the pixels changed.
int64_t apply_blotch_offset(const float* centre, int32_t h, int32_t w, const BlotchInput& in,
                            const float* offset_q, float* out, const BlotchParams& params,
                            ThreadPool* pool);

// The whole pass on `out` [H, W, 3] for `window` [F, H, W, 3]: the still-camera gate,
// the input, the backend's blotch graph (its time added to `backend_s`), the offset
// applied. Returns the pixels changed (0 when the gate closes).
int64_t blotch_pass(Backend& backend, const float* window, int32_t frames, int32_t h,
                    int32_t w, float* out, const BlotchParams& params, ThreadPool* pool,
                    double& backend_s);

}  // namespace haineifrdm
