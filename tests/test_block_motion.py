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


def _reference_motion(c: np.ndarray, n: np.ndarray, block: int, max_shift: int
                      ) -> np.ndarray:
    """block_motion.hpp's search written out plainly: every displacement of the 1/4-size
    level within the range, then +-2 px at 1/2 and full size around the last best; cost
    the mean of min(|centre - neighbour|, 0.1) over the covered part of the square (at
    least half of it), plus 1e-6 (|dy| + |dx|) per full-size pixel; the first minimum
    in row order wins. [rows, cols, 3] as the binding's."""
    def pyramid(rgb: np.ndarray) -> list[np.ndarray]:
        levels = [rgb.astype(np.float64).mean(-1)]
        for _ in range(2):
            g = levels[-1]
            h, w = max(g.shape[0] // 2, 1), max(g.shape[1] // 2, 1)
            ys = np.minimum(2 * np.arange(h)[:, None] + np.array([0, 1]), g.shape[0] - 1)
            xs = np.minimum(2 * np.arange(w)[:, None] + np.array([0, 1]), g.shape[1] - 1)
            levels.append(g[ys][:, :, xs].mean((1, 3)))
        return levels

    gc, gn = pyramid(c), pyramid(n)

    def cost(lv: int, y0: int, x0: int, y1: int, x1: int, dy: int, dx: int) -> float:
        hh, ww = gn[lv].shape
        ya, yb, xa, xb = max(y0, -dy), min(y1, hh - dy), max(x0, -dx), min(x1, ww - dx)
        covered = max(yb - ya, 0) * max(xb - xa, 0)
        if covered == 0 or 2 * covered < (y1 - y0) * (x1 - x0):
            return np.inf
        d = np.abs(gc[lv][ya:yb, xa:xb] - gn[lv][ya + dy : yb + dy, xa + dx : xb + dx])
        return float(np.minimum(d, 0.1).mean())

    rows, cols = -(-c.shape[0] // block), -(-c.shape[1] // block)
    out = np.zeros((rows, cols, 3), np.int32)
    for i in range(rows):
        for j in range(cols):
            by = bx = 0
            found = True
            for lv in (2, 1, 0):
                s = 1 << lv
                hh, ww = gc[lv].shape
                ly0, lx0 = min(i * block // s, hh - 1), min(j * block // s, ww - 1)
                ly1 = int(np.clip(-(-min((i + 1) * block, c.shape[0]) // s), ly0 + 1, hh))
                lx1 = int(np.clip(-(-min((j + 1) * block, c.shape[1]) // s), lx0 + 1, ww))
                cy, cx, r = 2 * by, 2 * bx, 2
                if lv == 2:
                    cy = cx = 0
                    r = -(-max_shift // 4)
                best, arg = np.inf, (cy, cx)
                for dy in range(cy - r, cy + r + 1):
                    for dx in range(cx - r, cx + r + 1):
                        v = cost(lv, ly0, lx0, ly1, lx1, dy, dx) + 1e-6 * (abs(dy) + abs(dx)) * s
                        if v < best:
                            best, arg = v, (dy, dx)
                if not np.isfinite(best):
                    found = False
                    break
                by, bx = arg
            out[i, j] = (by, bx, 1) if found else (0, 0, 0)
    return out


def test_the_search_is_the_exhaustive_one() -> None:
    """The engine gives up a displacement part way once it cannot win (speed); its
    answer must still be the plain exhaustive search's, square for square: on a pan
    with fresh grain, a small object moving against it and a flat (near-tie) corner."""
    c, n = _pair((5, -9), grain=0.02)
    c, n = c[:96, :160].copy(), n[:96, :160].copy()
    n[40:70, 100:130] = c[10:40, 20:50]  # an object the pan did not bring
    c[64:, :48] = n[64:, :48] = 0.5  # flat: every displacement costs the same but the pull
    got = _engine.block_motion(c, n, block=32, max_shift=20)
    np.testing.assert_array_equal(got, _reference_motion(c, n, 32, 20))
