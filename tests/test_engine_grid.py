"""C++ patch-grid planner, blending ramp and reflect indexing (haineifrdm._engine)."""

from __future__ import annotations

import numpy as np
import pytest

from haineifrdm.engine import blend_ramp, plan_axis, plan_patches, reflect_index


@pytest.mark.parametrize("h,w", [(1, 1), (7, 513), (300, 33), (33, 4097), (1080, 2048), (256, 256)])
@pytest.mark.parametrize("patch,overlap", [(256, 32), (64, 16), (32, 0)])
def test_patches_cover_frame_with_overlap(h: int, w: int, patch: int, overlap: int) -> None:
    grid = plan_patches(h, w, patch, overlap)
    assert grid.dtype == np.int32 and grid.shape[1] == 2
    cover = np.zeros((max(h, patch), max(w, patch)), np.int32)
    for y, x in grid:
        cover[y : y + patch, x : x + patch] += 1
    assert (cover[:h, :w] >= 1).all()
    for length in (h, w):
        origins = plan_axis(length, patch, overlap)
        assert origins[0] == 0
        if length > patch:
            assert origins[-1] == length - patch
            gaps = np.diff(origins)
            assert (gaps <= patch - overlap).all() and (gaps > 0).all()
        else:
            assert origins == [0]


def test_blend_ramp_is_positive_symmetric_and_flat_inside() -> None:
    r = blend_ramp(64, 16)
    assert r.dtype == np.float32 and r.shape == (64,)
    assert (r > 0).all() and np.allclose(r, r[::-1])
    assert np.all(r[16:48] == 1.0) and np.all(np.diff(r[:16]) > 0)
    # complementary overlap: two ramps shifted by (patch - overlap) sum to 1 in the overlap
    assert np.allclose(r[-16:] + r[:16], 1.0, atol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_reflect_index_matches_numpy_reflect(n: int) -> None:
    idx = np.arange(n)
    pad = 3 * n + 5 if n > 1 else 4
    ref = np.pad(idx, pad, mode="reflect") if n > 1 else np.zeros(n + 2 * pad, int)
    got = [reflect_index(i, n) for i in range(-pad, n + pad)]
    assert got == ref.tolist()


def test_invalid_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plan_patches(100, 100, 64, 64)
    with pytest.raises(ValueError, match="frame size"):
        plan_patches(0, 100, 64, 8)
    with pytest.raises(ValueError, match="patch size"):
        blend_ramp(0, 0)
