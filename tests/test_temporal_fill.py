"""The temporal fill (temporal_fill.hpp): defects refilled from the frames that show them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haineifrdm import _engine
from haineifrdm.engine import Restorer

from .test_motion_veto import H, W, _scene

SPECK = (slice(70, 82), slice(60, 74))


def _specked(pan: tuple[int, int] = (3, 7)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(window [5, H, W, 3] of a panning photograph with a dark speck in the centre
    frame only, the clean centre frame, a restoration that found the speck and filled
    it flat with the picture's mean: the network's fill at its worst)."""
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=pan, grain=0.01)
    clean = window[2].copy()
    window[2][SPECK] = 0.03
    restored = window[2].copy()
    restored[SPECK] = clean.mean(axis=(0, 1))
    return np.ascontiguousarray(window), clean, restored


def test_a_speck_under_a_pan_is_refilled_from_the_frames_that_show_its_place() -> None:
    window, clean, restored = _specked()
    out, regions, filled, _ = _engine.temporal_fill(window, restored)
    # the speck, and its 1 px rim, which the other frames confirm (given back)
    assert regions == 1 and 12 * 14 <= filled <= 14 * 16
    before = np.abs(restored[SPECK] - clean[SPECK]).mean()
    after = np.abs(out[SPECK] - clean[SPECK]).mean()
    assert after < 0.02 < 0.2 * before  # the grain of two other frames, no more
    rest = np.ones((H, W), bool)
    rest[SPECK] = False
    assert np.array_equal(out[rest], window[2][rest])  # nothing else touched


def test_a_change_the_other_frames_contradict_goes_back_to_the_centre() -> None:
    # a clean patch the restoration took for a defect: the frames that show its place
    # show what the centre shows, so it is the centre's own again, bit for bit
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01)
    restored = window[2].copy()
    restored[SPECK] = 0.5
    window = np.ascontiguousarray(window)
    # two other frames show each pixel as the centre has it: given back before any fill
    out, regions, filled, _ = _engine.temporal_fill(window, restored)
    assert (regions, filled) == (0, 0) and np.array_equal(out, window[2])
    # without that, the fill from the frames that match the ring is within `keep` of
    # the centre: given back all the same
    out, _, filled, _ = _engine.temporal_fill(window, restored, confirm_frames=0)
    assert filled == 12 * 14
    assert np.array_equal(out, window[2])
    # without any of those rules (keep in RGB and in grey) the neighbours' own grain
    # would come in
    other, *_ = _engine.temporal_fill(window, restored, keep=0.0, keep_grey=0.0)
    assert not np.array_equal(other, window[2])


def test_a_fill_off_from_the_centre_by_grain_alone_gives_the_centre_back() -> None:
    # the network fills a box around a dark speck smoothly: the speck and the clean
    # picture around it. The other frames fill the box again; around the speck their
    # values differ from the centre by their own grain, channel by channel (0.03 here,
    # often over `keep` in one channel), and hardly in grey: the centre's own, bit for
    # bit. Inside the speck the fill differs in grey too: filled.
    window = _smooth_pan(grain=0.03)
    clean = window[2].copy()
    window[2][100:104, 150:154] -= 0.3
    window = np.ascontiguousarray(window)
    restored = window[2].copy()
    box = (slice(98, 106), slice(148, 156))
    restored[box] = restored[box].mean(axis=(0, 1))
    around = np.ones((8, 8), bool)
    around[2:6, 2:6] = False
    out, regions, filled, _ = _engine.temporal_fill(window, restored)
    assert regions == 1 and filled > 0
    assert np.all(out[box] == window[2][box], axis=-1)[around].all()
    assert np.abs(out[100:104, 150:154] - clean[100:104, 150:154]).max() < 0.1
    # judged by the largest channel alone, some of the grain is pasted in
    rgb_only, *_ = _engine.temporal_fill(window, restored, keep_grey=0.0)
    assert not np.all(rgb_only[box] == window[2][box], axis=-1)[around].all()
    assert np.abs(rgb_only[100:104, 150:154] - clean[100:104, 150:154]).max() < 0.1


def test_a_speck_on_a_duplicated_frame_is_not_given_back() -> None:
    # telecine repeats a frame: the duplicate shows the speck where the centre has it,
    # one frame is not enough to confirm it
    window, clean, restored = _specked()
    window[1] = window[2]
    window = np.ascontiguousarray(window)
    # four frames show the place; the duplicate's speck is outvoted by the three others
    out, *_ = _engine.temporal_fill(window, restored)
    assert np.abs(out[SPECK] - clean[SPECK]).mean() < 0.02
    # with the two best-matching frames only (the duplicate matches best), they
    # disagree: the network's fill stays
    two, *_ = _engine.temporal_fill(window, restored, vote_frames=0)
    assert np.array_equal(two[SPECK], restored[SPECK])
    one, *_ = _engine.temporal_fill(window, restored, confirm_frames=1)
    assert np.array_equal(one[SPECK], window[2][SPECK])


def test_two_frames_that_disagree_leave_the_networks_fill() -> None:
    # three frames: each neighbour has a blotch of its own where the centre's speck is
    window, _, restored = _specked(pan=(0, 0))
    three = window[1:4].copy()
    three[0][SPECK] = 0.9
    three[2][SPECK] = 0.1
    out, _, filled, _ = _engine.temporal_fill(np.ascontiguousarray(three), restored)
    assert filled == 0 and np.array_equal(out, restored)


def test_three_frames_outvote_a_defect_in_one_of_them() -> None:
    # dense dirt: the frame that matches the speck's surroundings best has a blotch of
    # its own at the speck's place; the median of the four frames that show the place
    # leaves it out, where the two best frames disagree and the network's fill stays
    window, clean, restored = _specked(pan=(0, 0))
    rng = np.random.default_rng(5)
    for k in (0, 1, 4):  # a little more grain: frame 3 matches the ring best
        window[k] += rng.normal(0, 0.004, window[k].shape).astype(np.float32)
    window[3][SPECK] = 0.95
    window = np.ascontiguousarray(window)
    out, _, filled, _ = _engine.temporal_fill(window, restored)
    assert filled >= 12 * 14
    assert np.abs(out[SPECK] - clean[SPECK]).mean() < 0.02
    rest = np.ones((H, W), bool)
    rest[SPECK] = False
    assert np.array_equal(out[rest], window[2][rest])  # nothing else touched
    two, *_ = _engine.temporal_fill(window, restored, vote_frames=0)
    assert np.array_equal(two[SPECK], restored[SPECK])
    # only two frames that show the place (a window of three): no vote, as before
    three = np.ascontiguousarray(window[1:4])
    out3, *_ = _engine.temporal_fill(three, restored)
    assert np.array_equal(out3[SPECK], restored[SPECK])


def test_the_rest_of_a_speck_the_matte_missed_is_grown_into() -> None:
    # the network changed only the speck's core: its 1-px rim is still dark, and the
    # frames that fill the core show picture there (a wider dark rim would spoil the
    # ring the frames are matched on: no fill at all)
    window, clean, _ = _specked()
    restored = window[2].copy()
    core = (slice(SPECK[0].start + 1, SPECK[0].stop - 1), slice(SPECK[1].start + 1,
                                                               SPECK[1].stop - 1))
    restored[core] = clean.mean(axis=(0, 1))
    # (the detection of specks the network left finds such a clean rim too: off here)
    out, _, filled, _ = _engine.temporal_fill(window, restored, detect=False)
    assert filled == 12 * 14  # the core's 10 x 12 and the rim's 48
    assert np.abs(out[SPECK] - clean[SPECK]).mean() < 0.02
    rest = np.ones((H, W), bool)
    rest[SPECK] = False
    assert np.array_equal(out[rest], window[2][rest])  # the picture around it untouched
    # without growing, the rim stays as dark as the speck
    rim = np.zeros((H, W), bool)
    rim[SPECK] = True
    rim[core] = False
    kept, *_ = _engine.temporal_fill(window, restored, detect=False, grow_contrast=0.0)
    assert np.array_equal(kept[rim], window[2][rim])
    assert np.abs(out[rim] - clean[rim]).mean() < 0.2 * np.abs(kept[rim] - clean[rim]).mean()


def test_a_region_the_network_only_nudged_is_filled_only_where_it_stands_out() -> None:
    # the other frames show the region's place 0.09 brighter than the centre (their
    # own content, or misregistration), and the network moved it by a level or two:
    # no defect to the network, so the frames' picture is not pasted in
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01)
    window[2][SPECK] -= 0.09
    window = np.ascontiguousarray(window)
    restored = window[2].copy()
    restored[SPECK] += 0.01
    out, regions, _, _ = _engine.temporal_fill(window, restored, detect=False)
    assert regions == 1
    np.testing.assert_array_equal(out, window[2])  # the centre's own, bit for bit
    pasted, _, filled, _ = _engine.temporal_fill(window, restored, detect=False, weak=0.0)
    assert filled == 12 * 14
    assert np.abs(pasted[SPECK] - window[2][SPECK]).mean() > 0.07
    # a real speck (0.03 on picture) the network nudged just as little is still filled
    window, clean, _ = _specked()
    restored = window[2].copy()
    restored[SPECK] += 0.01
    out, _, filled, _ = _engine.temporal_fill(window, restored, detect=False)
    assert filled >= 12 * 14
    assert np.abs(out[SPECK] - clean[SPECK]).mean() < 0.02


def test_a_nudged_region_only_one_frame_can_judge_is_not_filled_from_it() -> None:
    # a still shot where one neighbour alone shows the place (the others show unrelated
    # texture: what a pan or a cut brings in) and has dirt of its own there, dark dots
    # over half of it; the network moved the clean centre there by a level
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(0, 0), grain=0.01)
    rng = np.random.default_rng(3)
    for k in (0, 3, 4):
        texture = ndimage.gaussian_filter(rng.random((H, W)), 2.0)
        window[k] = np.clip((texture - texture.mean()) / texture.std() * 0.25 + 0.5, 0, 1)[
            ..., None]
    dots = rng.random(window[1][SPECK].shape[:2]) < 0.5
    window[1][SPECK][dots] = 0.05
    window = np.ascontiguousarray(window)
    restored = window[2].copy()
    restored[SPECK] += 0.01
    # (the confirmation step would find random texture agreeing here and there)
    kw = {"detect": False, "confirm_frames": 0}
    out, regions, filled, _ = _engine.temporal_fill(window, restored, **kw)
    assert regions == 1 and filled == 0
    np.testing.assert_array_equal(out, window[2])  # the centre's own, bit for bit
    # taking the one frame's word for it pastes its dirt in
    pasted, _, filled, _ = _engine.temporal_fill(window, restored, weak_frames=1, **kw)
    assert filled == dots.size
    assert (np.abs(pasted[SPECK] - window[2][SPECK]).max(-1) > 0.2).sum() >= dots.sum()
    # a region the network changed outright is still filled from that frame (dirt and
    # all: the rule is for the regions the network only nudged)
    restored[SPECK] = 0.5
    out, _, filled, _ = _engine.temporal_fill(window, restored, **kw)
    assert filled == dots.size
    np.testing.assert_array_equal(out, pasted)


def test_a_faint_change_no_other_frame_can_judge_goes_back() -> None:
    # the other frames show unrelated texture: no frame matches the region's ring
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01)
    rng = np.random.default_rng(1)
    for k in (0, 1, 3, 4):
        texture = ndimage.gaussian_filter(rng.random((H, W)), 2.0)
        texture = (texture - texture.mean()) / texture.std() * 0.25 + 0.5
        window[k] = np.clip(texture, 0, 1)[..., None]
    window = np.ascontiguousarray(window)

    def fill(change: float, where: tuple[slice, slice] = SPECK, **kw: float) -> np.ndarray:
        restored = window[2].copy()
        restored[where] += change
        # the confirmation step alone would find random texture agreeing here and there
        out, regions, filled, _ = _engine.temporal_fill(window, restored, detect=False,
                                                         confirm_frames=0, **kw)
        assert (regions, filled) == (1, 0)
        return out

    # a few levels (the matte's false detections): the centre's own again, bit for bit
    np.testing.assert_array_equal(fill(0.03), window[2])
    assert not np.array_equal(fill(0.03, faint=0.0), window[2])
    # a real fill (a speck taken out) stays as the network made it
    strong = fill(-0.3)
    np.testing.assert_allclose(strong[SPECK], window[2][SPECK] - 0.3, atol=1e-6)
    # unless the region is small: 30 px are what the veto and the confirmation step
    # leave of a false detection, and go back however far the network moved them
    small = (slice(70, 75), slice(60, 66))
    np.testing.assert_array_equal(fill(-0.3, small), window[2])
    kept = fill(-0.3, small, unjudged_px=29)
    np.testing.assert_allclose(kept[small], window[2][small] - 0.3, atol=1e-6)


def test_a_persistent_line_scratch_is_left_to_the_scratch_pass() -> None:
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(2, 5), grain=0.01)
    window[:, :, 120:123] = 0.95  # the same column on every frame
    window = np.ascontiguousarray(window)
    restored = window[2].copy()
    restored[:, 120:123] = 0.4
    out, regions, filled, _ = _engine.temporal_fill(window, restored)
    assert regions == 1 and filled == 0 and np.array_equal(out, restored)


def test_a_speck_the_network_left_is_found_and_filled() -> None:
    window, clean, _ = _specked()
    out, regions, filled, unseen = _engine.temporal_fill(window, window[2])
    assert regions == 1 and unseen >= filled >= 0.9 * 12 * 14
    assert np.abs(out[SPECK] - clean[SPECK]).mean() < 0.02
    rest = np.ones((H, W), bool)
    rest[SPECK] = False
    assert np.array_equal(out[rest], window[2][rest])
    off, regions, filled, unseen = _engine.temporal_fill(window, window[2], detect=False)
    assert (regions, filled, unseen) == (0, 0, 0) and np.array_equal(off, window[2])


@pytest.mark.parametrize("grain", [0.01, 0.035])
def test_fast_objects_and_grain_are_not_taken_for_defects(grain: float) -> None:
    # a textured square moving 30 px a frame over a pan, fresh grain on every frame:
    # the other frames show all of it, displaced, so nothing is filled
    window, _, _ = _scene(sprite_step=(4, 30), pan_step=(3, 7), grain=grain, seed=3)
    out, _, filled, _ = _engine.temporal_fill(window, window[2])
    assert filled == 0 and np.array_equal(out, window[2])


def test_something_that_moves_and_changes_shape_is_not_filled_over() -> None:
    # a bright elongated blob (a hand) crossing the picture and turning 20 degrees a
    # frame: block motion does not follow it, but it is there, near, in the others
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01, seed=5)
    yy, xx = np.mgrid[0:H, 0:W]
    for k in range(5):
        cy, cx, a = 60 + 5 * (k - 2), 150 + 6 * (k - 2), np.deg2rad(20 * (k - 2))
        u = (yy - cy) * np.cos(a) + (xx - cx) * np.sin(a)
        v = -(yy - cy) * np.sin(a) + (xx - cx) * np.cos(a)
        window[k][(u / 9) ** 2 + (v / 4) ** 2 < 1] = 0.95
    window = np.ascontiguousarray(window)
    out, _, filled, unseen = _engine.temporal_fill(window, window[2])
    assert unseen > 50 and filled == 0 and np.array_equal(out, window[2])
    # without the nearby search it would be painted over with what lies behind it
    over, *_ = _engine.temporal_fill(window, window[2], detect_found=0.0)
    assert (np.abs(over - window[2]).max(axis=-1) > 0.2).sum() > 50


def test_dust_beside_bright_picture_is_not_taken_for_something_that_moved() -> None:
    # a 3x3 speck of dust 8 px beside a bright stripe of the picture (it pans with
    # it): the stripe reaches the speck's level, but it does not stand out from its
    # own surroundings where it matches, so the speck did not move there
    pan = (3, 7)
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=pan, grain=0.01, seed=2)
    for k in range(5):
        x = 20 - (k - 2) * pan[1]
        window[k, :, x : x + 10] = 0.9
    clean = window[2].copy()
    dust = (slice(118, 121), slice(38, 41))
    window[2][dust] = 0.9
    window = np.ascontiguousarray(window)
    out, regions, filled, unseen = _engine.temporal_fill(window, window[2])
    assert regions == 1 and unseen >= filled >= 9
    assert np.abs(out[dust] - clean[dust]).mean() < 0.02
    rest = np.ones((H, W), bool)
    rest[dust] = False
    assert np.array_equal(out[rest], window[2][rest])
    # matched on grey levels alone, the stripe passes for the speck moved there
    kept, _, filled, _ = _engine.temporal_fill(window, window[2], detect_standout=0.0)
    assert filled == 0 and np.array_equal(kept, window[2])
    # at the frame's edge its surroundings are cut off: not judged, the match stands
    window[2] = clean
    window[2][1:4, 38:41] = 0.9
    kept, _, filled, unseen = _engine.temporal_fill(window, window[2])
    assert unseen >= 9 and filled == 0 and np.array_equal(kept, window[2])
    assert _engine.temporal_fill(window, window[2], detect_search=0)[2] >= 9


def test_a_found_specks_soft_edge_is_filled_with_it() -> None:
    # a speck with the scan's blur around it (a 2 px rim 0.07 brighter): the detection's
    # 3x3 test finds the core; the fill grows over the rim the frames show as picture
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01, seed=4)
    clean = window[2].copy()
    window[2][116:123, 36:43] += 0.07
    window[2][118:121, 38:41] = 0.95
    window = np.ascontiguousarray(window)
    rim = np.zeros((H, W), bool)
    rim[116:123, 36:43] = True
    rim[118:121, 38:41] = False
    out, regions, filled, unseen = _engine.temporal_fill(window, window[2])
    assert regions == 1 and filled > unseen
    assert np.abs(out[rim] - clean[rim]).mean() < 0.015
    changed = np.abs(out - window[2]).max(axis=-1) > 0
    assert not (changed & ~np.pad(np.ones((7, 7), bool), ((116, H - 123), (36, W - 43)))).any()
    assert changed[rim].mean() > 0.9
    # without the growth the rim stays as the scan left it
    core_only, _, filled0, _ = _engine.temporal_fill(window, window[2], detect_grow=0.0)
    assert filled0 == unseen
    assert np.abs(core_only[rim] - clean[rim]).mean() > 0.04


def _smooth_pan(pan: tuple[int, int] = (3, 7), grain: float = 0.01,
                ripple: float = 0.0) -> np.ndarray:
    """Five frames [5, H, W, 3] of a smooth shaded picture (a wall, a sky) panned by
    ``pan`` per frame, fresh grain on every frame; ``ripple`` adds a gentle ripple of
    that amplitude (a period of ~30 px), which pins the frames' motion down."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0 : H + 64, 0 : W + 64].astype(np.float32)
    picture = 0.35 + 0.15 * np.sin(yy / 23.0) * np.cos(xx / 31.0)
    picture += ripple * np.sin(yy / 5.0 + 1.0) * np.cos(xx / 4.5)
    frames = [picture[32 + k * pan[0] : 32 + k * pan[0] + H, 32 + k * pan[1] : 32 + k * pan[1] + W]
              for k in range(-2, 3)]
    window = np.repeat(np.stack(frames)[..., None], 3, axis=-1)
    window += rng.normal(0, grain, window.shape).astype(np.float32)
    return np.ascontiguousarray(window, dtype=np.float32)


def _fast_object(frames: range) -> np.ndarray:
    """A panned, gently rippled picture with a pale green ellipse (15 x 23 px) crossing it
    at 6 px down and 36 across a frame, drawn in ``frames`` (of 0-4) only."""
    window = _smooth_pan(ripple=0.05)
    yy, xx = np.mgrid[0:H, 0:W]
    for k in frames:
        cy, cx = 80 + 6 * (k - 2), 110 + 36 * (k - 2)
        window[k][((yy - cy) / 7.5) ** 2 + ((xx - cx) / 11.5) ** 2 < 1] = (0.6, 1.0, 0.6)
    return np.ascontiguousarray(window)


def test_a_fast_object_is_not_filled_over() -> None:
    # 37-43 px a frame against the picture: beyond the nearby search, but found further
    # out before and after the centre at one velocity, ending where it ends in the centre
    window = _fast_object(range(5))
    out, _, filled, unseen = _engine.temporal_fill(window, window[2])
    assert unseen > 100 and filled == 0 and np.array_equal(out, window[2])
    # without the wider search it would be painted over with the picture behind it
    over, _, filled, _ = _engine.temporal_fill(window, window[2], detect_search_wide=16)
    assert filled > 100 and (np.abs(over - window[2]).max(axis=-1) > 0.2).sum() > 100
    # in the centre alone, or in one frame beside it too, it is dirt of that shape: filled
    for shown in (range(2, 3), range(1, 3)):
        window = _fast_object(shown)
        out, _, filled, _ = _engine.temporal_fill(window, window[2])
        assert filled > 100 and (np.abs(out - window[2]).max(axis=-1) > 0.2).sum() > 100


def test_dust_of_two_pixels_is_found_by_how_it_stands_out() -> None:
    # real dust at a telecine's resolution: a 2x2 dot 0.12 brighter than a smooth
    # picture, in the centre frame only; its 3x3 boxes average under detect_tau, so the
    # box test misses it, but each pixel stands out from the flat ring 2 px around it
    window = _smooth_pan()
    clean = window[2].copy()
    dot = (slice(100, 102), slice(150, 152))
    window[2][dot] += 0.12
    out, regions, filled, unseen = _engine.temporal_fill(window, window[2])
    assert regions == 1 and unseen >= 2 and filled >= 4
    assert np.abs(out[dot] - clean[dot]).max() < 0.05
    near = np.zeros((H, W), bool)
    near[96:106, 146:156] = True
    assert np.array_equal(out[~near], window[2][~near])  # nothing else touched
    # without the stand-out test it stays
    kept, regions, filled, unseen = _engine.temporal_fill(window, window[2], detect_spike=0.0)
    assert (regions, filled, unseen) == (0, 0, 0) and np.array_equal(kept, window[2])


def test_a_blurred_dot_of_dust_is_found() -> None:
    # dust as a scan blurs it: 0.2 at its centre, a Gaussian of 1.9 px down and 0.9 px
    # across, so it is still over half as bright 2 px above and below its centre (as a
    # stretch of a scratch would be), though not 4 px
    window = _smooth_pan()
    clean = window[2].copy()
    yy, xx = np.mgrid[0:H, 0:W]
    dot = 0.2 * np.exp(-((yy - 100) ** 2 / (2 * 1.9**2) + (xx - 150) ** 2 / (2 * 0.9**2)))
    window[2] += dot[..., None].astype(np.float32)
    window = np.ascontiguousarray(window)
    assert dot[98, 150] > 0.11 and dot[102, 150] > 0.11 and dot[96, 150] < 0.03
    out, regions, filled, _ = _engine.temporal_fill(window, window[2])
    assert regions == 1 and filled >= 4
    box = (slice(95, 106), slice(147, 154))
    before = np.abs(window[2][box] - clean[box]).max()
    assert np.abs(out[box] - clean[box]).max() < 0.35 * before


def test_dust_beside_another_frames_dust_is_still_found() -> None:
    # old prints are dense with dust: the frame before has its own dot 10 px below
    # where the centre's lies (a place that stands out as the dot does); one frame
    # is not enough to take it for something that moved
    pan = (3, 7)
    window = _smooth_pan(pan)
    clean = window[2].copy()
    window[2][100:102, 150:152] += 0.12
    window[1][110 + pan[0] : 112 + pan[0], 150 + pan[1] : 152 + pan[1]] += 0.12
    window = np.ascontiguousarray(window)
    out, regions, filled, _ = _engine.temporal_fill(window, window[2])
    assert regions == 1 and filled >= 4
    assert np.abs(out[100:102, 150:152] - clean[100:102, 150:152]).max() < 0.05


def test_dust_beside_a_point_of_the_picture_is_still_found() -> None:
    # a small bright point of the picture (a nail on a wall) 12 px from the dust, in
    # every frame where the pan puts it: the other frames show it near the dust's
    # place, but the centre shows it there too, so the dust did not move there
    pan = (3, 7)
    window = _smooth_pan(pan, ripple=0.04)
    for k in range(5):
        y, x = 112 - pan[0] * (k - 2), 143 - pan[1] * (k - 2)
        window[k][y : y + 2, x : x + 2] += 0.12
    clean = window[2].copy()
    window[2][100:102, 150:152] += 0.12
    window = np.ascontiguousarray(window)
    out, regions, filled, _ = _engine.temporal_fill(window, window[2])
    assert regions == 1 and filled >= 4
    assert np.abs(out[100:102, 150:152] - clean[100:102, 150:152]).max() < 0.05
    assert np.array_equal(out[112:114, 143:145], window[2][112:114, 143:145])


def test_a_small_thing_that_moves_is_not_dust() -> None:
    # a 2x2 bright dot crossing a smooth picture 5 px a frame (a distant bird, a
    # ball): no other frame has it where the centre does, but two show it near
    window = _smooth_pan()
    for k in range(5):
        y, x = 100, 150 + 5 * (k - 2)
        window[k][y : y + 2, x : x + 2] += 0.12
    window = np.ascontiguousarray(window)
    out, _, filled, unseen = _engine.temporal_fill(window, window[2])
    assert unseen >= 2 and filled == 0 and np.array_equal(out, window[2])


def test_a_faint_line_along_the_film_is_left_to_the_scratch_pass() -> None:
    # 30 rows of a 1 px scratch 0.12 brighter (the stretch of it that stands out
    # from the picture), wandering a few px from frame to frame: each pixel stands
    # out like dust and no other frame has it there, but it continues above and
    # below: a line along the film, which the line-scratch pass solves whole
    window = _smooth_pan()
    for k, x in enumerate((146, 152, 150, 147, 153)):
        window[k][60:90, x] += 0.12
    window = np.ascontiguousarray(window)
    out, _, filled, unseen = _engine.temporal_fill(window, window[2])
    assert (filled, unseen) == (0, 0) and np.array_equal(out, window[2])


def test_a_dot_in_busy_texture_is_left() -> None:
    # the same dot on a photograph's texture: each pixel stands out from most of the
    # ring 2 px around it, but the ring's middle half spreads over half as much as the
    # pixel stands out; picture as often as dust there, so it is not judged a spike
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01, seed=6)
    window[2][20:22, 113:115] += 0.15
    g = window[2].mean(axis=-1)
    for y, x in ((20, 113), (20, 114), (21, 113), (21, 114)):
        ring = np.sort([g[y + dy, x + dx] for dy in range(-2, 3)
                        for dx in (range(-2, 3) if abs(dy) == 2 else (-2, 2))])
        stand_out = g[y, x] - 0.5 * (ring[7] + ring[8])
        assert (ring <= g[y, x] - 0.06).sum() >= 9 and ring[12] - ring[3] > 0.5 * stand_out
    out, _, filled, unseen = _engine.temporal_fill(window, window[2])
    assert (filled, unseen) == (0, 0) and np.array_equal(out, window[2])


def test_windows_without_neighbours_or_changes_are_left_alone() -> None:
    window, _, restored = _specked()
    out, regions, filled, _ = _engine.temporal_fill(window[2:3], restored)
    assert (regions, filled) == (0, 0) and np.array_equal(out, restored)
    clean, _, _ = _scene(sprite_step=(0, 0), pan_step=(3, 7), grain=0.01)
    out, regions, filled, unseen = _engine.temporal_fill(clean, clean[2])
    assert (regions, filled, unseen) == (0, 0, 0) and np.array_equal(out, clean[2])


def test_bad_shapes_and_settings_are_refused() -> None:
    window, _, restored = _specked()
    with pytest.raises(ValueError, match="restored must be"):
        _engine.temporal_fill(window, restored[:, :10])
    with pytest.raises(ValueError, match="tau, agree and detect_tau > 0"):
        _engine.temporal_fill(window, restored, tau=0.0)
    with pytest.raises(ValueError, match="margin >= 1"):
        _engine.temporal_fill(window, restored, margin=0)
    with pytest.raises(ValueError, match="detect_frames, detect_min_px and detect_spike_px >= 1"):
        _engine.temporal_fill(window, restored, detect_frames=0)
    with pytest.raises(ValueError, match="detect_spike_px >= 1"):
        _engine.temporal_fill(window, restored, detect_spike_px=0)
    with pytest.raises(ValueError, match="detect_spike >= 0"):
        _engine.temporal_fill(window, restored, detect_spike=-0.1)
    for bad in ({"weak": -0.01}, {"weak_frames": -1}):
        with pytest.raises(ValueError, match=r"weak\(_frames\), unjudged_px, confirm_frames"):
            _engine.temporal_fill(window, restored, **bad)
    with pytest.raises(ValueError, match="unjudged_px"):
        _engine.temporal_fill(window, restored, unjudged_px=-1)
    for bad in ({"detect_standout": -0.1}, {"detect_standout_px": -1}):
        with pytest.raises(ValueError, match="detect_standout"):
            _engine.temporal_fill(window, restored, **bad)
    with pytest.raises(ValueError, match=r"keep\(_grey\)"):
        _engine.temporal_fill(window, restored, keep_grey=-0.01)
    with pytest.raises(ValueError, match=r"detect_search\(_wide\)"):
        _engine.temporal_fill(window, restored, detect_search_wide=-1)


def test_the_restorer_runs_the_fill_after_the_veto() -> None:
    window, _, _ = _specked()
    kw = {"model": "default", "patch": 128, "steps": 1, "seed": 2, "deflicker": False,
          "line_scratch": False}
    with_fill = Restorer(**kw)
    got = with_fill.restore(window, frame_index=3)
    without = Restorer(temporal_fill=False, **kw)
    plain = without.restore(window, frame_index=3)
    want, _, filled, _ = _engine.temporal_fill(window, plain)
    np.testing.assert_array_equal(got, want)
    assert with_fill.last_timings["filled_px"] == filled > 0
    assert without.last_timings["filled_px"] == 0
