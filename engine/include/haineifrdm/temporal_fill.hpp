// Temporal fill: put what the other frames show under each defect the network found,
// and under those it missed that no other frame shows.
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
//      or from the one frame when only one matches; where two disagree, the
//      network's fill stays. When `vote_frames` or more frames match, the fill is
//      instead their per-channel median (the mean of the middle two of four), taken
//      where at least two of them lie within `agree` of it: a defect of its own in
//      one of those frames at the region's place (dense dirt, a blotch, a duplicated
//      frame's speck) is outvoted rather than leaving the network's fill (validation
//      below 41.32 / 27.73 / 62.12 -> 41.34 / 27.82 / 62.07, seeds 7000-9000 moving
//      and still 43.06 / 26.37 / 59.73 -> 43.08 / 26.42 / 59.73, no set lower whole;
//      from 4 frames: 41.30 / 27.76). Where none matches it stays unless it changes the
//      region by less than `faint` on average (grey): the matte's false detections
//      on moving objects and weaving edges move the picture a few levels, real
//      defects far more (validation below, regions no frame matched: mean change
//      0.15 on defects, 0.008 elsewhere; outside-defect PSNR 60.11 -> 61.74 dB,
//      whole 40.95 -> 41.02, inside the same; faint 0.03 / 0.09 / 0.12: 61.39 /
//      61.77 / 61.83 outside, 41.01 / 41.01 / 40.96 whole), or when it has at most
//      `unjudged_px` changed pixels: what the veto and the confirmation step leave of a
//      false detection on a fast-changing picture is scattered groups of 1-30 pixels
//      moved by 0.1-0.15, each costing a clean frame 25-50 dB outside (validation below
//      41.60 / 28.06 / 62.39 -> 41.97 / 28.05 / 63.15, seeds 7000-9000 moving and still
//      43.20 / 26.58 / 60.52 -> 43.30 / 26.58 / 61.66, no set lower on the whole frame;
//      16 / 64 / 100 / 200 px: 42.72 / 42.76 / 42.95 / 42.97 whole over the ten sets
//      (40: 42.76), inside 27.17 / 27.16 / 27.14 / 27.08 (40: 27.17): past 64 px real
//      specks where pans and weave bring in new picture lose their fix);
//   2a. a region the network only nudged (mean change under `weak`, grey) is filled
//      only when it stands out from the fill by `detect_contrast`, as a region the
//      detection found must; otherwise its pixels are the centre's own again. Such
//      regions are mostly where the network moved picture by a level or two (a
//      moving object's edge, the frame's border), and the fill then pasted the other
//      frames' grain and misregistration onto clean picture: in frames with no defect
//      there, a few such pixels cost 25-50 dB outside the defects. Validation below
//      41.41 / 27.93 / 61.99 -> 41.49 / 27.92 / 62.39, seeds 7000-9000 moving and still
//      43.18 / 26.58 / 59.71 -> 43.18 / 26.58 / 60.21 (moving 7000 outside +2.6), no
//      set lower on the whole frame by more than 0.01 dB; 0.01 / 0.03 / 0.05: 60.85 /
//      61.09 / 61.09 outside over the ten sets (0.02: 61.08), 0.05 loses 0.04 inside.
//      Nor is one filled that fewer than `weak_frames` other frames match: where one
//      frame alone shows the place (the border under a pan) its own dirt was pasted in
//      (dense dark dots along the border of a clean frame, 82 -> 40 dB outside; every
//      fill touching the border given back loses 0.66 dB whole: most are real specks,
//      which the network changed outright). Sixteen sets
//      41.55 / 26.81 / 61.72 -> 41.56 / 26.81 / 61.73, three sets higher, none lower;
//      leaving the network's change instead of the centre: 41.54 / 26.81 / 61.36;
//      every one-frame fill of a network region given back: 41.05 / 25.92 / 61.99;
//      3 frames: 41.56 / 26.80 / 61.73; the 60 line-scratch clips 63.76 -> 63.77 whole,
//      nothing on ../shared's real film changes (there the network changes little);
//   2b. with two or more matching frames, grows a region the network changed into the
//      unchanged pixels beside it (8-connected, out to `margin` px) that the frames'
//      fill agrees on and the centre differs from by `grow_contrast` (grey): the rest
//      of a defect the matte did not reach (on the ten non-held-out sets a third of the
//      error speck clips keep is in unchanged pixels within 3 px of a change). Validation
//      41.34 / 27.82 / 62.07 -> 41.41 / 27.93 / 61.99, seeds 7000-9000 43.08 / 26.42 /
//      59.73 -> 43.18 / 26.58 / 59.71, no set lower whole; 0.08: 41.45 / 28.00 / 61.98 and
//      43.21 / 26.64 / 59.56 (moving 7000 outside -0.8); 0.05: 41.50 / 28.09 / 61.56;
//      0.2: 41.36 / 27.84 / 62.07;
//   3. where that fill is within `keep` of the centre frame itself (max over RGB), or
//      within `keep_grey` in grey (the mean over RGB: a fill off in one channel and
//      not in the sum is the other frames' grain, each channel's own), the other
//      frames confirm the centre: not a defect (the soft edge the network's matte
//      grows, or a false detection), so the pixel is the centre's own again. The grey
//      test (session 28): sixteen validation sets 41.56 / 26.81 / 61.73 -> 41.56 /
//      26.81 / 61.74, no set lower (moving 13000 outside +0.20); the four fresh sets
//      (seeds 40000, 41000, 43000, 44000) and the 60 line-scratch clips none lower
//      (40000 outside +0.08); 0.04 / 0.05: 61.75 / 61.76 outside with sets lower whole;
//      black-and-white film (../shared's, 50 windows) is untouched: there grey and
//      every channel are one.
//
// Before that, a changed pixel that at least `confirm_frames` of the other frames show
// as the centre has it (the detection's test below, any block motion, zero included,
// and the pixel's own difference under `keep`) goes back to the centre, bit for bit:
// the network took picture for a defect. The motion veto does the same with the two
// adjacent frames but not at zero displacement (a duplicated frame would "show" its
// twin's speck); two frames must agree here, so a duplicate alone confirms nothing.
// Changed regions shaped like a line scratch's column are spared (the scratch is in
// every frame). Validation (below): 40.69 / 27.29 / 57.31 -> 40.95 / 27.31 / 59.58
// (still speck clips 42.79 / 37.80 -> 42.37 / 41.73 whole); 1 frame would give a
// duplicated frame's speck back; 3 / 4 frames: 40.85 / 40.65 whole; without the pixel's
// own test 40.71 / 26.65 / 59.98 (real specks' edges given back).
//
// The network also leaves defects alone (a speck its matte missed). With `detect`,
// the regions are also grown from pixels the restoration did not change that at
// least `detect_frames` of the other frames show at the block motions (the pixel's
// 3x3 box inside the frame) yet do not match (3x3 mean grey difference within half
// a pixel, the frame's median offset removed, over `detect_tau`), and at most the
// rest match; groups under `detect_min_px` px are grain. Such a region is filled
// as above only when its pixels differ from the fill by `detect_contrast` on average
// (grey, signed) and it is not found within `detect_search` px of the fill's source
// in a matched frame (its core matched, each pixel to the nearest value within
// 1 px, within `detect_found` of the core's contrast): something that moves and
// changes shape (a hand) is no defect. A core of at most `detect_standout_px` px
// (a speck of dust) counts as found only where the frame stands out from its own
// surroundings (the median of a 1-px ring 2 px outside the core's box) by at least
// `detect_standout` of the core's stand-out, with the same sign, wherever both rings
// lie inside the frame (at the edge, half the surroundings of the picture a pan
// brings in are missing; the held-out set's one false fill from this rule, 14 px of
// a blotch clip's bottom row, came from there): with a 1-px reach per
// pixel, four to sixteen pixels "match" any bright or dark texture, another speck or
// an edge within the search, and on ../shared's real film that kept three quarters
// of the dust the detection found (the_great_train_robbery, every other frame: 25
// -> 49 of 576 single-frame impulses taken out, each one looked at: dust; sixteen sets
// of the validation below 41.42 / 26.66 / 61.57 -> 41.43 / 26.68 / 61.57, no set
// lower; with no size limit 41.45 / 26.71 / 61.57, but a partly detected moving sign
// on a_trip_down_market_street (a 59 px core) was filled over; 16 px: 41.43 / 26.67).
// A detected region that is filled grows as in 2b, out to `detect_grow_px` px, into
// the pixels that differ from the fill by `detect_grow`: the soft edge of real dust
// (a scan's blur) is under the detection's 3x3 test and stayed as a faint ring around
// each speck taken out (sixteen sets 41.43 / 26.68 / 61.57 -> 41.46 / 26.73 / 61.57,
// two sets 0.02 dB lower outside, none lower whole; 0.03 / 0.06: 41.47 / 26.73 / 61.56
// and 41.46 / 26.72 / 61.57, 0.06 leaving more of the ring on the real film). Validation (below): whole / inside / outside
// 40.37 / 26.83 / 56.68 without, 40.68 / 27.27 / 56.67 with (the still sets' speck
// clips 39.66 / 36.76 -> 42.79 / 37.80 dB whole); detect_tau 0.05 / 0.1: 40.04 / 40.62, detect_frames 2 / 4: 40.38
// / 40.50, detect_contrast 0.08 / 0.15: 40.69 / 40.66 whole, 55.84 / 56.42
// outside. Without the nearby search, a hand moving across a body in
// ../shared's real film was filled over in one frame in three. Blotches (1-3 frames at
// one place, large and faint) are shown by the frames that share them, so they are
// not found; the detection adds ~1.6 s per 1920x1080 window on one thread (the block
// motions of every square in every other frame).
//
// Dust of a few pixels (a telecine's or a small scan's) is too small for the 3x3 test:
// its boxes average under detect_tau, and groups under detect_min_px are dropped. With
// `detect_spike`, an unchanged pixel also counts as unseen when it stands out from the
// 16 pixels 2 px around it (at least 9 of them `detect_spike` or more below it, or
// above) by at least twice the spread of their middle half (on busy texture a pixel
// standing out is picture as often as dust) and does not continue 2 and 4 px above
// and below, within a column either side (a piece of a line along the film: the
// line-scratch pass's; a blurred dot reaches 2 px), at least detect_frames of the other frames show its place,
// and none shows, within half a pixel of it at any of the 10 block motions, a value
// that comes within half its stand-out. Groups holding
// `detect_spike_px` such pixels are filled as above when their contrast reaches
// detect_spike (detect_contrast is for bigger dirt); the nearby search counts a place
// only where it stands out as flat picture's dust would (the same spread test) and
// the centre does not stand out the same way at the place that frame's match puts
// there (a nail on a wall, which every frame shows), and in two of the matched
// frames: old prints are dense with dust, and one frame's own dot within the search
// is common.
// On ../shared's real film (both films, every other frame, 50 windows) this took out
// 168 regions of dust of 2-30 px that the other routes left (all looked at: dust,
// a few in dark, busy street scenes unclear); sixteen validation sets 41.46 / 26.73 /
// 61.57 -> 41.50 / 26.77 / 61.56, no set lower whole, outside -0.10 on one set (a
// densely specked frame: +0.8 inside); the 60 line-scratch clips of seeds 20000-39000
// unchanged to 0.01 dB. Measured on the way: without the spread test a fast textured
// sprite's bright points were filled (two sets -1.6 and -1.2 dB outside); allowing one
// frame to show the pixel (as the 3x3 route does) filled a dark point of picture that
// one frame kept (one set -1.4 outside); 0.08 for 0.06 (before that last rule): 0.01
// dB lower whole and inside. Without the line test the spike route filled stretches
// of line scratches before the scratch pass saw them (validation the same; the 60
// line-scratch clips 0.02 dB lower, which the test gives back).
//
// A fast object (a thrown ball, a limb; 40 px a frame and more against the picture)
// is unseen by the detection's test and lies beyond detect_search in the other frames:
// it was painted over with the picture behind it. So a core of over
// detect_standout_px px also counts as found when, out to `detect_search_wide` px, a
// frame before the centre and one after it show it at one velocity against the
// picture's motion (within 2 px a frame plus a fifth of its speed), compared in colour
// (its grey level is met by much of the picture) and where it ends as in the centre:
// half the pixels 2 px out from it differ from its mean by detect_standout of its
// contrast (inside a larger dark or bright area any shape matches). The best place in
// one frame gives the velocity; the other frame confirms it anywhere within the
// tolerance. Confirmed by a frame on the same side of the centre, a blotch two
// following frames share passed for an object (at 48 px, two validation sets 0.07
// and 0.25 dB lower); taking each frame's best place alone, the sprite below was lost
// at 64 px (another place matched better in one frame); an exact comparison (no 1-px reach) or a tighter tolerance lost that object, whose
// motion-blurred edge mixes with what it crosses. Sixteen validation sets 41.50 /
// 26.77 / 61.56 -> 41.52 / 26.77 / 61.70: a green sprite crossing a coin at ~55 px a
// frame in a line-scratch clip was filled over (99 -> 34 dB outside on its frame); one
// set 0.07 dB lower whole (a cluster of dirt that a hair and a frame two away pass for
// moving); 48 px: the same mean, two sets 0.07-0.08 lower. No change on ../shared's
// real film (50 windows), no cost measured at 1920x1080 (fill 2.94 -> 2.95 s).
//
// Regions over `max_side` px tall or wide are left to the network (a large blotch, or
// a false detection over a moving object; the search's cost grows with the region),
// and so are regions taller than a third of the frame and under an eighth as wide as
// tall, for the line-scratch pass (a persistent scratch is in every
// frame, a little displaced: "matched" there it would be pasted back). Every pixel
// neither the restoration changed nor the detection found stays the centre frame's
// own, bit for bit.
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
  int32_t vote_frames = 3;  // with this many matching frames, their median (< 2: never)
  float grow_contrast = 0.12f;  // unchanged pixels beside a filled region that differ from
                                // the fill by this (grey) are its defect too; 0: none
  float keep = 0.05f;       // a fill within this of the centre (max over RGB) gives the centre back
  float keep_grey = 0.03f;  // ...and so does one within this in grey (mean over RGB): what
                            // differs from the centre only in one channel is grain
  float faint = 0.06f;      // a region no frame matches goes back when the restoration changed
                            // it by less than this on average (grey)
  int32_t unjudged_px = 40;  // ...and so does one of at most this many changed pixels
  float weak = 0.02f;       // a region changed by less than this (grey, mean) is filled only
                            // when it differs from the fill by detect_contrast; 0: always
  int32_t weak_frames = 2;  // ...and when this many other frames match its ring (1: any)
  int32_t max_side = 256;  // larger regions (grown by 2 px) are left to the network, px
  float changed = 1e-4f;   // a pixel counts as changed above this (max over RGB)
  // defects the network left: pixels no other frame shows
  // changed pixels that this many other frames show as the centre has them go back
  // (judged as in detection, the pixel's own difference under `keep` too); 0: none
  int32_t confirm_frames = 2;
  bool detect = true;         // also fill regions of such pixels
  float detect_tau = 0.07f;   // a frame shows a pixel when the 3x3 mean difference is below this
  int32_t detect_frames = 3;  // ...unseen in at least this many other frames (at most all)
  int32_t detect_min_px = 4;  // smaller groups of unseen pixels are grain, not defects
  float detect_contrast = 0.12f;  // ...filled when their mean (grey) differs from the fill by this
  int32_t detect_search = 16;     // ...and they are not found within this of the fill's source, px
  float detect_found = 0.5f;      // (found: mean difference under this share of the contrast)
  float detect_standout = 0.5f;   // a small core counts as found only where the frame stands out
                                  // from its surroundings by this share of the core's own; 0: off
  int32_t detect_standout_px = 32;  // ...cores of at most this many pixels
  float detect_grow = 0.04f;   // a filled detected region grows into the unchanged pixels beside
                               // it that differ from the fill by this (grey); 0: never
  int32_t detect_grow_px = 2;  // ...out to this many px (at most margin)
  float detect_spike = 0.06f;  // unchanged pixels standing out from the median of the 16 px 2 px
                              // around them by this (grey) that no other frame shows; 0: off
  int32_t detect_spike_px = 2;  // ...groups with at least this many such pixels are defects
  int32_t detect_search_wide = 96;  // a core over detect_standout_px px is also found out to
                                    // this as a fast object would be, px; <= detect_search: off
};

struct FillStats {
  int64_t regions = 0;  // regions considered (changed, or found with detect)
  int64_t filled = 0;   // pixels filled from other frames (or confirmed by them)
  int64_t unseen = 0;   // pixels the network left that no other frame shows (with detect)
  int64_t confirmed = 0;  // changed pixels the other frames confirmed: given back
};

// window: [frames, h, w, 3] float32 interleaved (the degraded frames, centre =
// frames / 2); out: [h, w, 3], the restored centre frame, edited in place.
// Windows of fewer than 3 frames are left alone. pool may be null (one thread).
FillStats temporal_fill(const float* window, int32_t frames, int32_t h, int32_t w, float* out,
                        const FillParams& params, ThreadPool* pool);

}  // namespace haineifrdm
