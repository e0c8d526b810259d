"""Quality measures: the single-frame impulse count used on real film, the grain ratio."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from haineifrdm.metrics import grain_ratio, impulses


def _window() -> np.ndarray:
    rng = np.random.default_rng(0)
    ramp = np.linspace(0.2, 0.7, 64, dtype=np.float32)
    frame = np.repeat(np.repeat(ramp[None, :, None], 48, 0), 3, 2)
    return np.stack([frame + rng.normal(0, 0.01, frame.shape).astype(np.float32)
                     for _ in range(5)])


def test_impulses_count_what_only_the_centre_shows() -> None:
    window = _window()
    assert impulses(window) == 0
    window[2, 10:13, 20:23] += 0.3  # a speck of dust
    window[2, 30:32, 40] -= 0.3  # two pixels: grain-sized, not counted
    window[2, 30:34, 50:53] += 0.3  # a speck the next frame shows too: not single-frame
    window[3, 30:34, 50:53] += 0.3
    assert impulses(window) == 1
    assert impulses(window, min_px=2) == 2
    # a restoration that took the dust out leaves none; the window's own frames judge it
    restored = window[2].copy()
    restored[10:13, 20:23] = window[1, 10:13, 20:23]
    assert impulses(window, restored) == 0
    # under the level, or of mixed sign against the others, nothing counts
    assert impulses(window, level=0.35) == 0
    # a neighbour's exposure (flicker) is matched before judging: no new impulses
    window[0] *= 1.25
    assert impulses(window) == 1
    assert impulses(window, restored) == 0


def test_grain_ratio_is_one_for_the_clean_frame_and_nan_when_the_mask_covers_it() -> None:
    rng = np.random.default_rng(0)
    clean = rng.normal(0.5, 0.05, (32, 40, 3)).astype(np.float32)
    assert grain_ratio(clean, clean) == pytest.approx(1.0)
    assert grain_ratio(np.full_like(clean, 0.5), clean) == 0.0  # grain smoothed away
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "degrees of freedom" warning from numpy
        assert np.isnan(grain_ratio(clean, clean, np.ones((32, 40), bool)))
