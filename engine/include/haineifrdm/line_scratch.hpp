// Line-scratch removal: persistent vertical scratches taken out of the centre frame.
//
// A scratch along the film (the projector's or printer's gate) is a thin vertical line
// that runs down most of the frame and stays within a pixel or two from one frame to
// the next. Neither the network's temporal evidence (it is in every frame) nor its
// fills see it well, but its form gives it away: each of its columns is the picture
// blended toward black or white by one fraction alpha, the same all the way down:
//
//   degraded = clean * (1 - alpha(x)) + v * alpha(x),   v = 0 (dark) or 1 (bright)
//
// For each column and each polarity, the ratio of the frame to its horizontal
// background (a `median_width`-px running median along the row, which keeps edges
// and removes lines thinner than half of it) is 1 - alpha on a scratch, for
// dark: grey / background, for bright: (1 - grey) / (1 - background). Over the rows
// below `top` of the height (scratches may start lower, never below a third):
//
//   1. detection: a column is a scratch column when alpha at the `detect_quantile`
//      of its rows' ratios (so at least that share of the rows agree, where picture
//      detail such as a line of text darkens a column only here and there) is over
//      `threshold`; runs of such columns wider than `max_width` px are no scratch; a
//      column must also show in `persist` of the other frames of the window, within
//      2|k| + 1 px at a distance of k frames (a panned thin structure moves on).
//      A row counts for the detection only where the column is darker (for dark;
//      brighter for bright) than the pixels `side` px to its left and right, less
//      `side_tol`: a scratch's core is, the soft ramp of a picture edge is not (one
//      side is darker still). On a locked-off shot under gate weave a vertical
//      edge (a door frame, a wall) is straight all the way down and in every frame,
//      and the ramp's ratio against the running median reads as a blend: it was
//      solved as a scratch (still 9000's blotch clip, 83 -> 35 dB outside in three
//      frames). Validation 41.49 / 27.92 / 62.39 -> 41.60 / 28.06 / 62.39, seeds
//      7000-9000 moving and still 43.18 / 26.58 / 60.21 -> 43.20 / 26.58 / 60.52, no set
//      lower on whole, inside or outside; side_tol 0.01 / 0.02 / 0.07: 42.48 / 42.54 /
//      42.54 whole over the ten sets (0.04: 42.56), 0.07 no longer spares still 9000's
//      edge; side 3: moving 8000 -0.35 whole (a wide scratch's core against its lobes);
//   2. growth: the columns beside a scratch column whose median ratio (below) gives an
//      alpha over half the threshold join it (a scratch's faint flanks, which picture
//      detail hides at the detection quantile), and so do up to `flank_gap` fainter
//      columns between them: a scratch's profile can cross zero between its core and
//      a side lobe (validation whole / inside 41.02 / 27.30 -> 41.15 / 27.49 dB with
//      3, outside the same; 1 / 2 / 5: 41.09 / 41.12 / 41.15 whole; three fresh sets,
//      seeds 8000 / 9000 moving and 8000 still: 43.93 -> 44.00 whole, none lower);
//   3. estimate: alpha(x) from the median of the column's ratios; in a run of at least
//      `wide_run` columns, the run's own columns are left out of each column's
//      background window (a scratch that wide fills most of the window and drags the
//      median toward itself: its faint lobes read as 0.00 for 0.04, its core 0.21 for
//      0.27), but alpha rises at most `wide_lift` above the centred window's (the
//      picture beside a run can differ from the picture under it: unbounded, a test
//      scene's faint columns read 0.24 for 0.05). Validation 41.15 / 27.49 / 62.12 ->
//      41.32 / 27.73 / 62.12 dB whole / inside / outside; six fresh sets (seeds 7000 /
//      8000 / 9000, moving and still) 42.97 -> 43.06 whole, none lower. Unbounded:
//      41.47 validation, but worse than the centred median on that test scene; lift
//      0.02: two sets lower; straight between medians beside the run: moving 7000 /
//      8000 lower; from 8 columns: 41.34, but a test's 9-column run of a core and side
//      lobes read its lobes 0.07-0.08 for 0.05;
//   4. per pixel of a scratch column: where the running vertical median (`vertical`
//      rows) of its ratio agrees with the column's alpha (within half of it, or
//      `threshold`; the scratch's start, objects in front), the clean value is
//      solved for, with alpha capped at `max_alpha` (above, too little of the picture
//      is left to divide back out). A flank column (of a run of adjacent scratch
//      columns, all but the one of largest alpha) is solved only in the rows where
//      that strongest column agrees too: a faint flank's alpha is under `threshold`,
//      so its own test passes rows the scratch never reached (above its start) and
//      changed them; validation outside-defect PSNR 59.58 -> 60.11 dB (line-scratch
//      clips, moving 5000: 73.00 -> 78.23), whole the same, inside -0.01. Of that
//      strongest column's agreeing rows, a stretch shorter than half the window
//      (`vertical` / 2 + 1 rows) outside the span of its longer stretches is dropped:
//      at the frame's top and bottom edge the window repeats the edge row, so a few
//      rows of picture that look like the scratch carry the median there (validation
//      outside 61.74 -> 62.12 dB, moving 5000's line-scratch clips 78.23 -> 86.00, the
//      input's value; whole and inside the same). With `vertical` rows as the limit the
//      same, but the last 13 rows of a test's scratch, under a 16-row interruption,
//      were lost.
//
//   5. give-back beside a scratch: a solved scratch (a run of columns with solved
//      pixels in at least a fifth of the rows) fixes what the restoration did there,
//      and the restoration's changes in the `flank_px` columns beside it that run along
//      at least `flank_share` of the scratch's solved rows go back to the scan (the
//      network tones down a band wider than the scratch; the degraded frame is the
//      clean picture there, as the pass's estimate beside the solved columns is no
//      blend). Rows the band does not share keep the restoration (a speck beside the
//      scratch is a short stretch). Validation (sixteen sets, 1 step) 41.52 / 26.77 /
//      61.70 -> 41.55 / 26.81 / 61.72 whole / inside / outside, no set lower (their
//      line-scratch clips 57.65 / 34.35 / 91.62 -> 57.79 / 34.52 / 91.73, mixed clips
//      the same); the 60 line-scratch clips of seeds 20000-39000 63.69 / 36.20 / 86.71
//      -> 63.76 / 36.33 / 86.76; nothing on ../shared's real film changes. Share 0
//      (every change beside a scratch): line-scratch clips 57.81 but mixed 31.31 ->
//      31.23 (specks beside a scratch given back); 0.5: 57.77 / 91.63; 6 px as 4.
//
// Columns within `border` px of the left or right edge are never scratch columns: on the
// real film in ../shared the frame edge of the scan is the only thing found otherwise.
// Every other pixel keeps the restoration's value bit for bit (or, by 5., the scan's).
// The solved pixels replace the restoration's (the scratch is taken out of the
// degraded frame, so its grain stays). Thresholds chosen on the validation sets (seeds 5000 moving and still
// of `haineifrdm eval`): detect quantile 0.85 against the median (text columns),
// persist 2 against 0, threshold 0.04 against 0.06.
#pragma once

#include <cstdint>

namespace haineifrdm {

class ThreadPool;

struct ScratchParams {
  int32_t median_width = 31;     // running horizontal median for the background, px
  float top = 0.34f;             // column statistics over the rows below this share of the height,
  int32_t max_rows = 256;        // ...at most this many of them, evenly spaced
  float detect_quantile = 0.85f; // quantile of a column's ratios that must show the scratch
  float threshold = 0.04f;       // alpha a scratch column reaches at that quantile
  int32_t side = 2;              // ...counting rows where it is darker (brighter) than the pixels
  float side_tol = 0.04f;        // ...this far to its left and right, less side_tol (0: all rows)
  int32_t persist = 2;           // other frames of the window that must show the column
  int32_t max_width = 40;        // wider runs of columns are not scratches, px
  int32_t flank_gap = 3;         // fainter columns the growth (2.) may cross to a flank, px
  int32_t wide_run = 10;         // runs this wide or wider leave their own columns out of
  float wide_lift = 0.03f;       // ...their background, lifting alpha by at most this (3.)
  int32_t border = 8;            // columns this close to the left or right edge are left alone
                                 // (a scan's frame edge and gate shadow run down it too)
  int32_t vertical = 15;         // rows of the running vertical median a pixel is judged by
  float max_alpha = 0.85f;       // alpha is capped here when solving for the clean value
  int32_t flank_px = 4;          // the restoration's changes this close beside a solved scratch
  float flank_share = 0.3f;      // ...along this share of its solved rows go back (5.; 0 px: off)
};

struct ScratchStats {
  int32_t columns = 0;  // scratch columns found (both polarities)
  int64_t pixels = 0;   // pixels solved for
};

// window: [frames, h, w, 3] float32 interleaved (the degraded frames, centre =
// frames / 2); out: [h, w, 3], the restored centre frame, edited in place.
// pool may be null.
ScratchStats remove_line_scratches(const float* window, int32_t frames, int32_t h, int32_t w,
                                   float* out, const ScratchParams& params, ThreadPool* pool);

}  // namespace haineifrdm
