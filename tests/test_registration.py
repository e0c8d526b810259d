"""The engine's per-patch motion compensation (registration.hpp) on known motion."""

from __future__ import annotations

import numpy as np
import pytest

from haineifrdm import _engine
from haineifrdm.data.sources import bundled_image


def _pan_window(moves: list[tuple[int, int]], h: int = 256, w: int = 288, seed: int = 0
                ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Frames cut from one photograph at offsets ``moves`` (camera pan), with
    independent grain and a per-frame flicker gain/offset; returns the window and
    the true (dy, dx) that lines each frame up with the centre one."""
    rng = np.random.default_rng(seed)
    img = bundled_image("astronaut")
    oy, ox = 120, 110
    frames, truth = [], []
    cy, cx = moves[len(moves) // 2]
    for my, mx in moves:
        crop = img[oy + my : oy + my + h, ox + mx : ox + mx + w].astype(np.float32)
        gain, offset = rng.uniform(0.85, 1.15), rng.uniform(-0.05, 0.05)
        crop = crop * gain + offset + rng.normal(0, 0.03, crop.shape).astype(np.float32)
        frames.append(crop)
        truth.append((cy - my, cx - mx))
    return np.ascontiguousarray(np.stack(frames), dtype=np.float32), truth


@pytest.mark.parametrize("size", [64, 128])
def test_pan_is_recovered_exactly_despite_grain_and_flicker(size: int) -> None:
    moves = [(-70, 90), (-31, 47), (0, 0), (38, -52), (71, -101)]
    window, truth = _pan_window(moves)
    shifts = _engine.patch_shifts(window, 90, 100, size, _engine.MAX_SHIFT_PER_FRAME)
    assert shifts.dtype == np.int32 and shifts.shape == (5, 2)
    assert [tuple(s) for s in shifts.tolist()] == truth


def test_extract_patch_reads_each_frame_through_its_shift() -> None:
    moves = [(-20, 10), (0, 0), (15, -25)]
    window, truth = _pan_window(moves)
    y, x, p = 50, 70, 32
    shifts = np.array(truth, np.int32)
    out = _engine.extract_patch(window, y, x, p, shifts)
    assert out.shape == (9, p, p)
    for f, (dy, dx) in enumerate(truth):
        want = window[f, y + dy : y + dy + p, x + dx : x + dx + p].transpose(2, 0, 1)
        np.testing.assert_array_equal(out[3 * f : 3 * f + 3], want)
    # past the frame's edge the read reflects, as the sampler's patches do
    edge = _engine.extract_patch(window, -2, 0, 4, np.zeros((3, 2), np.int32))
    np.testing.assert_array_equal(edge[0:3, 0], window[0, 2, :4].T)


def test_static_window_and_centre_frame_get_no_shift() -> None:
    window, _ = _pan_window([(0, 0)] * 5)
    shifts = _engine.patch_shifts(window, 0, 0, 256, 32)
    assert not shifts.any()


def test_bad_shapes_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match=r"\[F, H, W, 3\]"):
        _engine.patch_shifts(np.zeros((3, 8, 8), np.float32), 0, 0, 8, 4)
    with pytest.raises(ValueError, match=r"shifts must be int \[F, 2\]"):
        _engine.extract_patch(np.zeros((3, 8, 8, 3), np.float32), 0, 0, 4, np.zeros((2, 2)))


def test_patch_at_the_frame_edge_gets_the_exact_shift() -> None:
    """Near the edge part of the region has no counterpart in a moved frame; the
    refinement must not trade motion accuracy for coverage (smooth content, where a
    1-2 px error costs little, is the hard case)."""
    img = bundled_image("astronaut")
    smooth = np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)[:720, :760]
    frames = np.stack([smooth[20 + 12 * k : 20 + 12 * k + 600, 30 + 17 * k : 30 + 17 * k + 640]
                       for k in range(5)]).astype(np.float32)
    for y, x in ((0, 0), (344, 384), (0, 384), (344, 0)):
        shifts = _engine.patch_shifts(np.ascontiguousarray(frames), y, x, 256, 64)
        assert shifts.tolist() == [[24, 34], [12, 17], [0, 0], [-12, -17], [-24, -34]], (y, x)
