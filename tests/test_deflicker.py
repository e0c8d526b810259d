"""The deflicker (deflicker.hpp): the centre frame brought to its window's exposure."""

from __future__ import annotations

import numpy as np
import pytest

from haineifrdm import _engine
from haineifrdm.engine import Restorer

from .test_motion_veto import _scene

GAINS = np.array([1.00, 1.08, 0.92, 1.05, 0.97], np.float32)  # centre (index 2) dark


def _flickered(gains: np.ndarray, pan: tuple[int, int] = (6, -14)) -> np.ndarray:
    window, _, _ = _scene(sprite_step=(5, 30), pan_step=pan, grain=0.02)
    return np.ascontiguousarray(window * gains[:, None, None, None], dtype=np.float32)


def test_a_dark_frame_is_brought_to_the_window_mean_under_a_pan_and_a_moving_object() -> None:
    e = _engine.estimate_exposure(_flickered(GAINS))
    want = GAINS.mean() / GAINS[2]  # the window's mean exposure over the centre's
    assert e["applied"] and e["frames_used"] == 4
    assert abs(e["gain"] - want) < 0.004, (e["gain"], want)


def test_a_defect_in_the_centre_does_not_pull_the_estimate() -> None:
    window = _flickered(GAINS)
    window[2, 20:90, 20:110] *= 0.4  # a large blotch, this frame only
    e = _engine.estimate_exposure(window)
    assert abs(e["gain"] - GAINS.mean() / GAINS[2]) < 0.004


def test_steady_exposure_is_left_alone_despite_motion() -> None:
    e = _engine.estimate_exposure(_flickered(np.ones(5, np.float32), pan=(9, 17)))
    assert not e["applied"] and e["change"] < 0.001
    assert e["frames_used"] == 4


def test_a_lone_frame_has_nothing_to_compare_with() -> None:
    e = _engine.estimate_exposure(_flickered(GAINS)[2:3])
    assert (e["gain"], e["frames_used"], e["applied"]) == (1.0, 0, False)
    with pytest.raises(ValueError, match="window must be"):
        _engine.estimate_exposure(np.zeros((5, 8, 8), np.float32))
    with pytest.raises(ValueError, match="dead_zone"):
        _engine.estimate_exposure(_flickered(GAINS), dead_zone=-1.0)


def test_the_restorer_scales_its_result_by_the_estimated_gain() -> None:
    window = _flickered(GAINS)
    on = Restorer(model="default", patch=128, steps=1, seed=2)
    off = Restorer(model="default", patch=128, steps=1, seed=2, deflicker=False)
    got, plain = on.restore(window), off.restore(window)
    gain = _engine.estimate_exposure(window)["gain"]
    assert on.last_timings["exposure_gain"] == pytest.approx(gain, abs=1e-7)
    assert off.last_timings["exposure_gain"] == 1.0
    np.testing.assert_allclose(got, plain * np.float32(gain), rtol=1e-6, atol=1e-7)
    # closer to the clean centre's exposure (gain 1 x the window mean) than before
    assert abs(got.mean() / plain.mean() - GAINS.mean() / GAINS[2]) < 0.004
    steady = _flickered(np.ones(5, np.float32))
    np.testing.assert_array_equal(on.restore(steady), off.restore(steady))


def test_the_matte_view_shows_defects_not_the_exposure_correction() -> None:
    window = _flickered(GAINS)
    r = Restorer(model="default", patch=128, steps=1, seed=2)
    restored = r.restore(window)
    gain = r.last_timings["exposure_gain"]
    assert gain > 1.05
    matte = r.restore(window, output="matte")[..., 0]
    # the whole frame changed by ~9 % (a wash at MATTE_SCALE 0.08) ...
    wash = (np.abs(restored - window[2]).max(-1) / 0.08).clip(0, 1)
    assert (wash > 0.2).mean() > 0.9
    # ... but only what the network changed shows
    want = (np.abs(restored / np.float32(gain) - window[2]).max(-1) / 0.08).clip(0, 1)
    np.testing.assert_allclose(matte, want, atol=1e-6)
    assert (matte > 0.2).mean() < 0.5 * (wash > 0.2).mean()
