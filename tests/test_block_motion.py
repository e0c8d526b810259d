"""Block motion (block_motion.hpp): one whole-pixel displacement per square, shared by
the motion veto and the deflicker; checked here directly on known shifts."""

from __future__ import annotations

import numpy as np
import pytest

from haineifrdm import _engine
from haineifrdm.data.sources import bundled_image

H, W = 128, 192


def _pair(shift: tuple[int, int], grain: float = 0.01, gain: float = 1.0
          ) -> tuple[np.ndarray, np.ndarray]:
    """(centre, neighbour) crops of a photograph, the neighbour's view moved so that
    neighbour(p + shift) == centre(p), fresh grain on each."""
    rng = np.random.default_rng(1)
    img = bundled_image("astronaut")
    y0, x0 = 100, 120
    centre = img[y0 : y0 + H, x0 : x0 + W]
    neighbour = img[y0 - shift[0] : y0 - shift[0] + H, x0 - shift[1] : x0 - shift[1] + W] * gain
    pair = [f + rng.normal(0, grain, f.shape) for f in (centre, neighbour)]
    return tuple(np.ascontiguousarray(f, dtype=np.float32) for f in pair)  # type: ignore[return-value]


@pytest.mark.parametrize("shift", [(0, 0), (3, -5), (-17, 41), (30, -66)])
def test_every_square_finds_a_pan_within_the_search_range(shift: tuple[int, int]) -> None:
    c, n = _pair(shift)
    m = _engine.block_motion(c, n, block=32, max_shift=72)
    assert m.shape == (4, 6, 3) and m.dtype == np.int32
    # squares whose displaced copy stays inside the neighbour frame
    rows = [i for i in range(4) if 0 <= 32 * i + shift[0] and 32 * (i + 1) + shift[0] <= H]
    cols = [j for j in range(6) if 0 <= 32 * j + shift[1] and 32 * (j + 1) + shift[1] <= W]
    assert rows and cols
    inner = m[np.ix_(rows, cols)]
    assert (inner[..., 2] == 1).all()
    err = np.abs(inner[..., :2] - np.array(shift)).max(-1)
    # exact but for the odd near-flat square, which may settle a pixel off
    assert (err <= 1).all() and (err == 0).mean() >= 0.9


def test_an_exposure_step_does_not_move_the_match() -> None:
    c, n = _pair((6, 9), gain=1.06)
    m = _engine.block_motion(c, n)
    assert np.median(m[..., 0]) == 6 and np.median(m[..., 1]) == 9


def test_a_shift_past_the_search_range_is_not_reported_as_found_motion() -> None:
    c, n = _pair((0, 40))
    m = _engine.block_motion(c, n, block=32, max_shift=16)
    # the coarse range plus the refinements at 1/2 (+-2 px there) and full resolution
    assert (np.abs(m[..., :2]) <= 16 + 4 + 2).all()
    assert not (m[..., 1] == 40).any()


def test_bad_shapes_and_settings_are_refused() -> None:
    c, n = _pair((0, 0))
    with pytest.raises(ValueError, match="neighbour must be"):
        _engine.block_motion(c, n[:-1])
    with pytest.raises(ValueError, match="centre must be"):
        _engine.block_motion(c[..., :2], n)
    with pytest.raises(ValueError, match="block"):
        _engine.block_motion(c, n, block=2)
