// Motion veto: give moving content back to the picture.
//
// A detector that compares a frame with its neighbours cannot tell a defect that
// lives one frame from an object that moves fast: both differ from every
// neighbour at the same place. A defect, though, is nowhere in the neighbours,
// while the object is there, displaced. After restoration this pass looks for
// each changed pixel of the centre frame in the two adjacent frames:
//
//   1. block motion: the picture is cut into `block`-pixel squares; for each square
//      near a change and each adjacent frame, one whole-pixel displacement is found
//      by exhaustive search at 1/4 resolution over +-max_shift px (truncated
//      absolute differences of grey, RGB mean), refined +-2 px at 1/2 and full
//      resolution; with it, the square's offset (mean grey difference over the
//      pixels that match: flicker);
//   2. per changed pixel, the displacements of its square and the 8 around it (so
//      an object's motion reaches past its own square) are tried in both frames:
//      the pixel's content is "seen elsewhere" when, for one of them, the 3x3 mean
//      of |centre - shifted neighbour - offset| is below `tau` and the pixel's own
//      difference below pixel_k * tau; with `subpixel` (the default) each
//      difference is to the nearest value the neighbour takes within half a pixel
//      of the displaced position (whole-pixel motion leaves half a pixel of gate
//      weave over, most of a sharp edge's contrast: on the validation sets, seeds
//      5000 and 6000 moving and still, 1 step, outside-defect PSNR 54.15 -> 56.32 dB,
//      whole 38.88 -> 39.67, inside 25.70 -> 25.65);
//   3. such pixels go back to the centre frame unless (a) the displacement is
//      under `min_shift` px (a defect that stays put, on a still picture or a
//      duplicated frame, would be "found" where it is; gate weave, though, moves
//      a still picture 1-3 px a frame, and static edges and repeated patterns
//      the detector takes for defects must be found there: min_shift 1), (b)
//      they lie in a column (+-2 px) changed in an unbroken run over `column` of
//      the frame's height (a line scratch: along it, it looks the same one step up
//      or down; objects are at most half the frame tall) in a band of such columns
//      at most `scratch_width` px wide (the network also tones down wider bands of
//      picture detail the full height: validation outside 56.67 -> 57.31 dB, whole
//      and inside +0.01; 4-8 px the same, 12 px 56.91), or (c) they lie within
//      `protect` px of a change that stays (the soft edge of a real defect).
//
// The pass only ever undoes changes: every pixel it touches becomes the centre
// frame's own, bit for bit. Thresholds chosen on the validation sets (seeds 5000
// and 6000 of `haineifrdm eval`): tau 0.05-0.09 and column 0.3-0.7 tried; min_shift
// on still scenes under gate weave (those sets pan 10-60 px a frame, where it does
// not matter) and on the real film in ../shared: 3 left weaving facades smeared.
// With `subpixel`, tau 0.05 / 0.09 / 0.12 gave whole 39.63 / 39.65 / 40.00, inside
// 25.73 / 25.50 / 25.22 (0.12 gives real specks back: speck clips -1.1 dB whole).
#pragma once

#include <cstdint>

namespace haineifrdm {

class ThreadPool;

struct VetoParams {
  int32_t block = 32;       // side of the squares whose motion is searched, px
  int32_t max_shift = 72;   // search radius, px per frame (fast objects move 20-70)
  int32_t min_shift = 1;    // displacements below this (max norm) do not veto
  float tau = 0.07f;        // 3x3 mean grey difference that counts as the same content
  float pixel_k = 1.5f;     // ...and the pixel's own difference below pixel_k * tau
  float column = 0.7f;      // columns (+-2 px) changed in a run over this share of the
                            // height are kept...
  int32_t scratch_width = 8;  // ...unless such columns side by side are wider than this, px
  int32_t protect = 2;      // px around a change that stays are never vetoed
  float changed = 1e-5f;    // a pixel counts as changed above this (max over RGB)
  bool subpixel = true;     // compare with what the neighbour shows within half a pixel
};

struct VetoStats {
  int64_t changed = 0;  // pixels the restoration changed
  int64_t vetoed = 0;   // of them, given back to the centre frame
};

// window: [frames, h, w, 3] float32 interleaved (the degraded frames, centre =
// frames / 2); out: [h, w, 3], the restored centre frame, edited in place.
// Windows of fewer than 3 frames are left alone. pool may be null (one thread).
VetoStats motion_veto(const float* window, int32_t frames, int32_t h, int32_t w, float* out,
                      const VetoParams& params, ThreadPool* pool);

}  // namespace haineifrdm
