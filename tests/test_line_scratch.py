"""The line-scratch pass (line_scratch.hpp): persistent vertical scratches solved out."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from haineifrdm import _engine
from haineifrdm.data.sources import EVAL_IMAGES, render_scene
from haineifrdm.engine import Restorer
from haineifrdm.evaluation import SCENES

from .test_motion_veto import W, _scene


def _alpha(x0: float, width: float = 3.0, amp: float = 0.6) -> np.ndarray:
    """A scratch's blend fraction per column [W]: a damped cosine across it."""
    d = np.arange(W, dtype=np.float32) - x0
    profile = np.cos(np.pi * d / width) * np.exp(-np.abs(d) / (width / 2))
    return np.clip(np.where(np.abs(d) < 2 * width, np.abs(profile), 0) * amp, 0, 1
                   ).astype(np.float32)


def _scratched(dark: bool = True, top: int = 0, frames: tuple[int, ...] = (0, 1, 2, 3, 4),
               pan: tuple[int, int] = (3, 17)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(window [5, H, W, 3] with a scratch drifting 0.5 px a frame from row ``top`` down
    in ``frames``, the clean centre frame, the centre's blend fraction [H, W])."""
    window, _, _ = _scene(sprite_step=(4, 30), pan_step=pan, grain=0.02)
    clean = window[2].copy()
    value = 0.0 if dark else 1.0
    centre_alpha = np.zeros(window.shape[1:3], np.float32)
    for k in frames:
        a = np.zeros(window.shape[1:3], np.float32)
        a[top:] = _alpha(100.0 + 0.5 * k)
        window[k] = window[k] * (1 - a[..., None]) + value * a[..., None]
        if k == 2:
            centre_alpha = a
    return np.ascontiguousarray(window), clean, centre_alpha


# mean error left in the scratch, as a share of the input's: a bright scratch leaves more
# over the bright parts of the picture, where 1 - background is small
@pytest.mark.parametrize(("dark", "share"), [(True, 0.3), (False, 0.6)])
def test_a_persistent_scratch_is_solved_out_under_a_pan(dark: bool, share: float) -> None:
    window, clean, alpha = _scratched(dark=dark)
    out, columns, pixels = _engine.remove_line_scratches(window, window[2])
    on = alpha > 0.05
    before = np.abs(window[2] - clean)[on].mean()
    after = np.abs(out - clean)[on].mean()
    assert columns > 0 and pixels > 0.25 * on.sum()
    assert before > 0.05 and after < share * before, (before, after)
    # away from the scratch every pixel is the restoration's, bit for bit
    np.testing.assert_array_equal(out[:, :90], window[2][:, :90])
    np.testing.assert_array_equal(out[:, 112:], window[2][:, 112:])


def test_a_scratch_that_starts_lower_is_solved_only_where_it_is() -> None:
    window, clean, alpha = _scratched(top=60)
    out, columns, _ = _engine.remove_line_scratches(window, window[2])
    # the faint flanks follow the scratch's strongest column: nothing above its start
    np.testing.assert_array_equal(out[:60], window[2][:60])
    assert columns > 1
    on = alpha > 0.05
    assert np.abs(out - clean)[on].mean() < 0.4 * np.abs(window[2] - clean)[on].mean()


def test_a_few_rows_of_picture_that_look_like_the_scratch_above_it_are_left() -> None:
    window, _, _ = _scratched(top=60)
    # the centre frame's top 7 rows darkened just as the scratch darkens its columns: the
    # running vertical median repeats the edge row, so it agrees there
    mark = _alpha(101.0)[None, :, None]
    window[2, :7] = window[2, :7] * (1 - mark)
    out, columns, _ = _engine.remove_line_scratches(window, window[2])
    assert columns > 1
    np.testing.assert_array_equal(out[:60], window[2][:60])


def test_a_scratch_s_side_lobes_beyond_a_zero_column_are_solved_too() -> None:
    window, _, _ = _scene(sprite_step=(4, 30), pan_step=(3, 17), grain=0.02)
    clean = window[2].copy()
    # a core 3 columns wide, then on each side a column the scratch leaves alone and a
    # faint side lobe 2 columns wide (alpha 0.05: too faint for the detection, over half
    # its threshold for the growth)
    profile = np.zeros(W, np.float32)
    profile[99:102] = (0.3, 0.6, 0.3)
    profile[[96, 97, 103, 104]] = 0.05
    window = np.ascontiguousarray(window * (1 - profile[None, None, :, None]))
    lobes = [96, 97, 103, 104]
    before = np.abs(window[2] - clean)[:, lobes].mean()
    for gap, solved in ((0, False), (3, True)):
        out, _, _ = _engine.remove_line_scratches(window, window[2], flank_gap=gap)
        after = np.abs(out - clean)[:, lobes].mean()
        assert (after < 0.5 * before) == solved, (gap, before, after)
        np.testing.assert_array_equal(out[:, 90:96], window[2][:, 90:96])


def test_a_wide_scratch_is_measured_against_the_picture_beside_it() -> None:
    # a scratch 13 columns wide (alpha over 0.02): most of a 31-px running median's
    # window, which it drags toward itself, so the centred median sees too little of it
    window, _, _ = _scene(sprite_step=(4, 30), pan_step=(3, 17), grain=0.02)
    clean = window[2].copy()
    for k in range(5):
        window[k] *= 1 - _alpha(100.0 + 0.5 * k, width=5.0, amp=0.5)[None, :, None]
    window = np.ascontiguousarray(window)
    on = _alpha(101.0, width=5.0, amp=0.5) > 0.02
    before = np.abs(window[2] - clean)[:, on].mean()
    left = {}
    for wide_run in (10, 1000):  # the default; never (every run takes the centred median)
        out, _, _ = _engine.remove_line_scratches(window, window[2], wide_run=wide_run)
        left[wide_run] = np.abs(out - clean)[:, on].mean() / before
        np.testing.assert_array_equal(out[:, :85], window[2][:, :85])
        np.testing.assert_array_equal(out[:, 118:], window[2][:, 118:])
    assert left[10] < 0.3 and left[10] < 0.8 * left[1000], left


def test_lines_that_come_and_go_or_move_with_the_picture_are_left_alone() -> None:
    # a line in the centre frame only (a hair, say) is the network's business
    once, _, _ = _scratched(frames=(2,))
    out, columns, pixels = _engine.remove_line_scratches(once, once[2])
    assert (columns, pixels) == (0, 0)
    np.testing.assert_array_equal(out, once[2])
    # a thin dark pole in the picture moves with the pan, 17 px a frame
    window, _, _ = _scene(sprite_step=(4, 30), pan_step=(0, 17), grain=0.02)
    for k in range(5):
        a = np.broadcast_to(_alpha(100.0 - 17 * (k - 2)), window.shape[1:3])
        window[k] *= 1 - a[..., None]
    assert _engine.remove_line_scratches(window, window[2])[2] == 0
    # the frame edge of a scan runs down every frame too; the same line 12 px in is a scratch
    for x0, found in ((3.0, False), (12.0, True)):
        lined, _, _ = _scene(sprite_step=(4, 30), pan_step=(3, 17), grain=0.02)
        lined *= 1 - _alpha(x0)[None, None, :, None]
        assert (_engine.remove_line_scratches(lined, lined[2])[2] > 0) == found


def test_a_picture_seam_that_is_not_darkest_in_its_rows_is_no_scratch() -> None:
    # a locked-off shot of shelving, clean (the evaluation's still scene): the seam
    # between a bright wall and the wood runs straight down every frame and reads as a
    # blend against the running median, but in many rows its columns sit on the
    # wall's ramp, with darker picture two pixels on; a scratch's core never does
    scene = replace(SCENES["still"], frames=7, height=256, width=352)
    clean = render_scene(np.random.default_rng(9200), scene, EVAL_IMAGES)
    window = np.ascontiguousarray(clean[2:7])

    def changed_columns(**kw: float) -> set[int]:
        out, _, _ = _engine.remove_line_scratches(window, window[2], **kw)
        return {int(x) for x in np.nonzero(np.abs(out - window[2]).max(axis=-1) > 0)[1]}

    assert set(range(108, 113)) <= changed_columns(side=0)
    assert not changed_columns() & set(range(107, 120))


def test_the_restorations_band_beside_a_solved_scratch_goes_back_to_the_scan() -> None:
    window, _, _ = _scratched()
    centre = window[2]
    alone, _, _ = _engine.remove_line_scratches(window, centre)
    solved = np.abs(alone - centre).max(-1) > 0
    columns = np.nonzero(solved.any(0))[0]
    assert columns.min() >= 96 and columns.max() <= 106
    rows = solved[:, columns].any(1)
    # a network that toned down a band to the scratch's left down the whole frame, and
    # took out a speck (nine rows) just to its right
    left = int(columns.min())
    restored = centre.copy()
    restored[:, left - 8:left] -= 0.05
    restored[20:29, columns.max() + 1:columns.max() + 5] += 0.3
    out, _, _ = _engine.remove_line_scratches(window, restored)
    np.testing.assert_array_equal(out[solved], alone[solved])  # the scratch solved as before
    beside = out[:, left - 4:left]
    np.testing.assert_array_equal(beside[rows], centre[:, left - 4:left][rows])
    np.testing.assert_array_equal(beside[~rows], restored[:, left - 4:left][~rows])
    assert rows.sum() > 0.3 * len(rows)
    np.testing.assert_array_equal(out[:, :left - 4], restored[:, :left - 4])  # beyond flank_px
    speck = (slice(20, 29), slice(columns.max() + 1, columns.max() + 5))
    np.testing.assert_array_equal(out[speck], restored[speck])  # a short stretch: kept
    off, _, _ = _engine.remove_line_scratches(window, restored, flank_px=0)
    np.testing.assert_array_equal(off[~solved], restored[~solved])


def test_the_pass_checks_its_input() -> None:
    window, _, _ = _scratched()
    with pytest.raises(ValueError, match="restored must be"):
        _engine.remove_line_scratches(window, window[2][:, :10])
    with pytest.raises(ValueError, match="odd number of frames"):
        _engine.remove_line_scratches(window[:4], window[2])
    with pytest.raises(ValueError, match="bad parameters"):
        _engine.remove_line_scratches(window, window[2], side=-1)
    with pytest.raises(ValueError, match="bad parameters"):
        _engine.remove_line_scratches(window, window[2], flank_px=-1)
    tiny = np.ascontiguousarray(window[:, :2, :16])  # no room for a scratch: left as it is
    out, columns, pixels = _engine.remove_line_scratches(tiny, tiny[2])
    assert (columns, pixels) == (0, 0) and np.array_equal(out, tiny[2])


def test_the_restorer_runs_the_pass_on_the_networks_result() -> None:
    window, _, alpha = _scratched()
    kw = {"model": "default", "patch": 128, "steps": 1, "seed": 2, "deflicker": False}
    with_pass = Restorer(**kw)
    got = with_pass.restore(window, frame_index=3)
    without = Restorer(line_scratch=False, **kw)
    plain = without.restore(window, frame_index=3)
    want, _, pixels = _engine.remove_line_scratches(window, plain)
    np.testing.assert_array_equal(got, want)
    assert with_pass.last_timings["scratch_px"] == pixels > 0.25 * (alpha > 0.05).sum()
    assert without.last_timings["scratch_px"] == 0
