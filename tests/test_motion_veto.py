"""The motion veto (motion_veto.hpp): moving content goes back, defects stay restored."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.ndimage import binary_erosion

from haineifrdm import _engine
from haineifrdm.data.sources import bundled_image
from haineifrdm.engine import Restorer

H, W = 160, 224


def _scene(sprite_step: tuple[int, int], pan_step: tuple[int, int] = (0, 0), grain: float = 0.01,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five frames: a photograph panned by ``pan_step`` per frame with a textured
    48 px square moving by ``sprite_step`` per frame over it, fresh grain on every
    frame. Returns (window [5, H, W, 3], the centre frame without the sprite (what
    a restoration that mistook the sprite for a defect would give), the sprite's
    mask in the centre frame)."""
    rng = np.random.default_rng(seed)
    bg = bundled_image("astronaut")
    tex = bundled_image("chelsea")[40:88, 100:148]
    frames, centre_bg, mask = [], None, None
    for k in range(-2, 3):
        y0, x0 = 40 + k * pan_step[0], 40 + k * pan_step[1]
        f = bg[y0 : y0 + H, x0 : x0 + W].copy()
        if k == 0:
            centre_bg = f.copy()
        sy, sx = 56 + k * sprite_step[0], 88 + k * sprite_step[1]
        f[sy : sy + 48, sx : sx + 48] = tex
        if k == 0:
            mask = np.zeros((H, W), bool)
            mask[sy : sy + 48, sx : sx + 48] = True
        frames.append(f)
    window = np.stack(frames).astype(np.float32)
    window += rng.normal(0, grain, window.shape).astype(np.float32)
    assert centre_bg is not None and mask is not None
    restored = np.where(mask[..., None], centre_bg, window[2]).astype(np.float32)
    return np.ascontiguousarray(window), restored, mask


def test_a_fast_object_taken_for_a_defect_is_given_back_bit_for_bit() -> None:
    window, restored, sprite = _scene(sprite_step=(4, 30))
    out, changed, vetoed = _engine.motion_veto(window, restored)
    assert changed == int((np.abs(restored - window[2]).max(-1) > 1e-5).sum()) > 1500
    back = np.all(out == window[2], axis=-1)
    # all but a thin outline (3x3 boxes there reach the background the object left)
    assert back[binary_erosion(sprite, iterations=4)].all()
    assert back[sprite].mean() > 0.9
    assert vetoed == int((back & sprite).sum())
    assert np.array_equal(out[~sprite], restored[~sprite])  # nothing else touched


def test_a_one_frame_speck_on_a_moving_object_stays_removed() -> None:
    window, restored, sprite = _scene(sprite_step=(0, 30))
    # a dark speck on the object in the centre frame only; the restoration removed it
    # but also erased the object around it
    speck = np.zeros((H, W), bool)
    speck[70:80, 100:110] = True
    window[2][speck] = 0.05
    out, _, _ = _engine.motion_veto(window, restored)
    assert np.all(np.abs(out[speck] - window[2][speck]).max(-1) > 0.1)  # still restored
    # the 2 px around the kept change stay restored (the soft edge of a real defect)
    edge = np.zeros((H, W), bool)
    edge[68:82, 98:112] = True
    edge &= ~speck
    assert np.array_equal(out[edge], restored[edge])
    # the rest of the object is back (but for a 4 px band: the pixels next to the
    # speck whose 3x3 boxes reach it, and the 2 px guarding them)
    near = np.zeros((H, W), bool)
    near[66:84, 96:114] = True
    far = binary_erosion(sprite, iterations=4) & ~near
    assert np.all(out[far] == window[2][far])


def test_a_still_change_is_not_vetoed() -> None:
    # what stays in place (a still picture, a duplicated frame) is what a detector can
    # trust: a defect that repeats there is kept as restored
    window, restored, _ = _scene(sprite_step=(0, 0))
    out, changed, vetoed = _engine.motion_veto(window, restored)
    assert changed > 1500 and vetoed == 0
    assert np.array_equal(out, restored)


def test_still_content_under_gate_weave_taken_for_a_defect_is_given_back() -> None:
    # the film weaves in the gate: the whole picture, object included, moves 1-2 px a
    # frame; a restoration that took the object's edges for defects gets them back
    window, restored, sprite = _scene(sprite_step=(-1, 2), pan_step=(1, -2))
    out, changed, vetoed = _engine.motion_veto(window, restored)
    back = np.all(out == window[2], axis=-1)
    assert changed > 1500 and vetoed > 0.9 * changed
    assert back[sprite].mean() > 0.9
    # with displacements under 3 px not trusted (the setting before) it stays erased
    _, _, vetoed_3 = _engine.motion_veto(window, restored, min_shift=3)
    assert vetoed_3 == 0


def _discs(dy: float, dx: float, h: int = 128, w: int = 160, s: int = 4) -> np.ndarray:
    """Bright discs (0.85) on a dark ground (0.15), [h, w] grey, anti-aliased by
    rendering at ``s`` times the size, displaced by (dy, dx) px: fractional moves."""
    yy, xx = np.mgrid[0 : h * s, 0 : w * s] / s
    img = np.full((h * s, w * s), 0.15, np.float32)
    for cy, cx in [(30, 40), (30, 110), (90, 60), (95, 125)]:
        img[(yy - cy - dy) ** 2 + (xx - cx - dx) ** 2 < 22**2] = 0.85
    return img.reshape(h, s, w, s).mean(axis=(1, 3))


def test_sharp_edges_weaving_by_fractions_of_a_pixel_are_given_back() -> None:
    # gate weave is rarely a whole number of pixels: the neighbours show a sharp edge
    # half a pixel off, most of its contrast; compared within half a pixel (the
    # default), the edges a restoration took for defects go back
    rng = np.random.default_rng(0)
    window = np.stack([np.repeat(_discs(0.5 * k, 1.5 * k)[..., None], 3, -1) for k in range(-2, 3)])
    window = np.ascontiguousarray(window + rng.normal(0, 0.01, window.shape).astype(np.float32))
    grey = window[2].mean(-1)
    edges = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1)) > 0.5
    restored = window[2].copy()
    restored[edges] = 0.5  # the edges taken for defects and filled flat
    out, changed, _ = _engine.motion_veto(window, restored)
    assert changed == edges.sum()
    assert np.all(out == window[2], axis=-1)[edges].mean() > 0.9
    whole, _, _ = _engine.motion_veto(window, restored, subpixel=False)
    assert np.all(whole == window[2], axis=-1)[edges].mean() < 0.3


def test_a_full_height_line_scratch_stays_removed_under_a_vertical_pan() -> None:
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(12, 0))
    clean_centre = window[2].copy()
    window[:, :, 120:123] += 0.25  # the same scratch on every frame
    restored = clean_centre  # the restoration removed it
    kept, changed, vetoed = _engine.motion_veto(window, restored)
    assert changed == H * 3 and vetoed == 0
    assert np.array_equal(kept, restored)
    # without the column rule the scratch "matches" one pan step up: given back
    undone, _, vetoed_off = _engine.motion_veto(window, restored, column=2.0)
    assert vetoed_off > H
    assert not np.array_equal(undone, restored)


def test_a_band_wider_than_a_scratch_is_not_kept_by_the_column_rule() -> None:
    # the restoration toned down a 20 px band over the full height where the picture
    # has no scratch: a network seeing a scratch in the picture's own detail
    window, _, _ = _scene(sprite_step=(0, 0), pan_step=(12, 0))
    restored = window[2].copy()
    restored[:, 100:120] *= 0.98
    _, changed, vetoed = _engine.motion_veto(window, restored)
    assert changed == H * 20 and vetoed > 0.8 * changed
    # as wide as a scratch may be, the same band stays
    kept, _, vetoed_wide = _engine.motion_veto(window, restored, scratch_width=40)
    assert vetoed_wide == 0 and np.array_equal(kept, restored)


def test_windows_without_neighbours_or_changes_are_left_alone() -> None:
    window, restored, _ = _scene(sprite_step=(4, 30))
    out, changed, vetoed = _engine.motion_veto(window[1:2], restored)
    assert (changed, vetoed) == (0, 0) and np.array_equal(out, restored)
    out, changed, vetoed = _engine.motion_veto(window, window[2])
    assert (changed, vetoed) == (0, 0) and np.array_equal(out, window[2])


def test_bad_shapes_and_settings_are_refused() -> None:
    window, restored, _ = _scene(sprite_step=(4, 30))
    with pytest.raises(ValueError, match="restored must be"):
        _engine.motion_veto(window, restored[:10])
    with pytest.raises(ValueError, match="window must be"):
        _engine.motion_veto(window[..., :2], restored)
    with pytest.raises(ValueError, match="tau must be positive"):
        _engine.motion_veto(window, restored, tau=0.0)


def test_the_restorer_applies_the_veto_to_the_networks_result() -> None:
    # the shipped model takes part of a fast textured object for a defect; the
    # Restorer's first pass gives it back and keeps the speck it removed (the passes
    # after it are off here: test_temporal_fill checks the fill runs on its result)
    window, _, sprite = _scene(sprite_step=(4, 30), grain=0.02)
    window[2][70:78, 60:68] = 0.05
    kw = {"model": "default", "patch": 128, "steps": 1, "seed": 2, "deflicker": False,
          "temporal_fill": False}
    on = Restorer(**kw)
    off = Restorer(motion_veto=False, **kw)
    got = on.restore(window, frame_index=3)
    plain = off.restore(window, frame_index=3)
    want, _, vetoed = _engine.motion_veto(window, plain)
    assert vetoed > 1000 and on.last_timings["vetoed_px"] == vetoed
    np.testing.assert_array_equal(got, want)
    assert off.last_timings["vetoed_px"] == 0
    assert np.abs(got[70:78, 60:68] - window[2][70:78, 60:68]).max(-1).min() > 0.1
    changed = np.abs(got - window[2]).max(-1) > 1e-5
    assert (changed & sprite).sum() < 0.2 * (np.abs(plain - window[2]).max(-1) > 1e-5)[sprite].sum()
