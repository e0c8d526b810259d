"""The C++ two-stage sampler against the oracle, and its behaviour at the edges."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from haineifrdm import _engine
from haineifrdm.data.sources import bundled_image
from haineifrdm.engine import RestoreCancelled, Restorer
from haineifrdm.model import HaineiFRDM, create_model

from .oracle import oracle_restore


@pytest.fixture(scope="module")
def net() -> HaineiFRDM:
    torch.manual_seed(0)
    model = create_model("tiny").eval()
    with torch.no_grad():  # make the residual head matter so errors would show
        model.denoiser_net.head.weight.mul_(200.0)
    return model


def frames(h: int, w: int, seed: int = 0, n: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).random((n, h, w, 3), dtype=np.float32)


@pytest.mark.parametrize("h,w,patch,overlap,steps,lowres", [
    (40, 70, 32, 8, 2, 32),  # stage 1 shrinks, several patches in both stages
    (24, 24, 32, 8, 4, None),  # smaller than one patch: reflect padding, native stage 1
    (50, 33, 16, 4, 1, 24),
])
def test_engine_matches_oracle(net: HaineiFRDM, h: int, w: int, patch: int, overlap: int,
                               steps: int, lowres: int | None) -> None:
    win = frames(h, w)
    r = Restorer(model=net, backend="torch", patch=patch, overlap=overlap, steps=steps, seed=7,
                 lowres=lowres, batch=3, motion_veto=False, temporal_fill=False, deflicker=False)
    got = r.restore(win, frame_index=11)
    want = oracle_restore(net, win, patch, overlap, steps, seed=7, frame=11, lowres=lowres)
    assert np.abs(want - win[2]).max() > 0.05  # the network really changed the frame
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def pan(h: int, w: int, step: tuple[int, int] = (5, -9), n: int = 5) -> np.ndarray:
    """A camera pan across a photograph: frame k cut at k * step from the first."""
    img = bundled_image("astronaut")[::2, ::2]
    y0, x0 = 2 * abs(step[0]) + 4, 2 * abs(step[1]) + 4
    return np.ascontiguousarray(np.stack(
        [img[y0 + k * step[0] : y0 + k * step[0] + h, x0 + k * step[1] : x0 + k * step[1] + w]
         for k in range(-(n // 2), n // 2 + 1)]), dtype=np.float32)


def test_motion_compensated_model_matches_oracle(net: HaineiFRDM) -> None:
    reg = HaineiFRDM(replace(net.config, register_frames=True)).eval()
    reg.load_state_dict(net.state_dict())
    win = pan(72, 96)
    r = Restorer(model=reg, patch=32, overlap=8, steps=2, seed=5, lowres=48, batch=2,
                 motion_veto=False, temporal_fill=False, deflicker=False)
    got = r.restore(win)
    want = oracle_restore(reg, win, 32, 8, 2, seed=5, lowres=48)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    assert r.last_timings["register_s"] > 0
    # and the motion compensation changes what the network sees
    plain = Restorer(model=net, patch=32, overlap=8, steps=2, seed=5, lowres=48).restore(win)
    assert np.abs(plain - got).max() > 1e-3


def test_single_stage_matches_oracle(net: HaineiFRDM) -> None:
    win = frames(40, 40, 1)
    r = Restorer(model=net, patch=32, overlap=8, steps=2, seed=1, two_stage=False,
                 motion_veto=False, temporal_fill=False, deflicker=False)
    want = oracle_restore(net, win, 32, 8, 2, seed=1, two_stage=False)
    np.testing.assert_allclose(r.restore(win), want, atol=1e-4, rtol=0)


def test_deterministic_and_batch_invariant(net: HaineiFRDM) -> None:
    win = frames(48, 80, 2)
    a = Restorer(model=net, patch=32, overlap=8, steps=2, seed=3, batch=1).restore(win)
    b = Restorer(model=net, patch=32, overlap=8, steps=2, seed=3, batch=1).restore(win)
    c = Restorer(model=net, patch=32, overlap=8, steps=2, seed=3, batch=5).restore(win)
    d = Restorer(model=net, patch=32, overlap=8, steps=2, seed=4, batch=1).restore(win)
    assert np.array_equal(a, b)
    np.testing.assert_allclose(a, c, atol=1e-5, rtol=0)
    assert np.abs(a - d).max() > 1e-3


@pytest.mark.parametrize("h,w", [(1, 1), (7, 513), (300, 33), (4097, 33)])
def test_awkward_sizes(net: HaineiFRDM, h: int, w: int) -> None:
    win = frames(h, w, 3)
    r = Restorer(model=net, patch=32, overlap=8, steps=1, batch=8)
    out = r.restore(win)
    assert out.shape == (h, w, 3) and out.dtype == np.float32 and np.isfinite(out).all()


def test_nan_and_bad_windows_raise_value_error(net: HaineiFRDM) -> None:
    r = Restorer(model=net, patch=32, overlap=8, steps=1)
    win = frames(16, 16)
    win[3, 2, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"frame 3 .*NaN or Inf"):
        r.restore(win)
    win[3, 2, 2, 1] = np.inf
    with pytest.raises(ValueError, match="frame 3"):
        r.restore(win)
    with pytest.raises(ValueError, match=r"\[5, H, W, 3\]"):
        r.restore(frames(16, 16, n=3))
    with pytest.raises(ValueError, match="float32"):
        r.restore((frames(16, 16) * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="multiple of 8"):
        Restorer(model=net, patch=30)
    with pytest.raises(ValueError, match="radius"):
        Restorer(model=net, patch=32, radius=3)


class _Failing:
    name = "failing"

    def __init__(self, net: HaineiFRDM, fail_after: int = 0) -> None:
        self.net, self.calls, self.fail_after = net, 0, fail_after

    def context(self, thumb: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net.context(torch.from_numpy(thumb)).numpy()

    def denoise(self, *args: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls > self.fail_after:
            raise RuntimeError("backend exploded: out of VRAM")
        return args[2].copy()  # the guide


def _sampler(backend: object, net: HaineiFRDM, batch: int = 2) -> _engine.Sampler:
    d = net.dims
    return _engine.Sampler(backend, radius=d.radius, thumb=d.thumb, n_tokens=d.n_tokens,
                           token_dim=d.token_dim, t_emb_dim=d.t_emb_dim, size_multiple=8,
                           patch=32, overlap=8, lowres=0, two_stage=True, register_frames=False,
                           timesteps=[4, 1], etas=[0.02, 0.1, 0.5, 0.98], kappa=0.08, seed=0,
                           batch=batch)


def test_backend_exception_surfaces_with_message(net: HaineiFRDM) -> None:
    s = _sampler(_Failing(net, fail_after=1), net)
    with pytest.raises(RuntimeError, match="out of VRAM"):
        s.restore(frames(64, 64))


def test_cancel_stops_within_one_batch_and_progress_reaches_one(net: HaineiFRDM) -> None:
    backend = _Failing(net, fail_after=10**9)
    s = _sampler(backend, net, batch=2)
    seen: list[float] = []
    s.restore(frames(64, 96), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    full_calls = backend.calls
    backend.calls = 0
    state = {"cancel": False}

    def progress(v: float) -> None:
        state["cancel"] = True  # ask to stop after the first batch

    with pytest.raises(RestoreCancelled):
        s.restore(frames(64, 96), progress=progress, cancelled=lambda: state["cancel"])
    assert backend.calls == 1 < full_calls


def test_output_modes_and_strength(net: HaineiFRDM) -> None:
    win = frames(32, 48, 5)
    r = Restorer(model=net, patch=32, overlap=8, steps=1)
    full = r.restore(win)
    assert np.array_equal(r.restore(win, strength=0.0), win[2])
    half = r.restore(win, strength=0.5)
    np.testing.assert_allclose(half, win[2] + 0.5 * (full - win[2]), atol=1e-6)
    diff = r.restore(win, output="difference")
    np.testing.assert_allclose(diff, full - win[2], atol=1e-6)
    matte = r.restore(win, output="matte")
    assert matte.min() >= 0 and matte.max() <= 1 and matte.max() > 0
    with pytest.raises(ValueError, match="output"):
        r.restore(win, output="sparkles")


def test_smaller_radius_repeats_end_frames(net: HaineiFRDM) -> None:
    win = frames(32, 32, 6)
    r1 = Restorer(model=net, patch=32, overlap=8, steps=1, radius=1)
    assert r1.window_size == 3
    padded = win[[1, 1, 2, 3, 3]]  # the 3-frame window, end frames repeated to 5
    full = Restorer(model=net, patch=32, overlap=8, steps=1).restore(padded)
    np.testing.assert_allclose(r1.restore(win[1:4]), full, atol=1e-6)


def test_noise_field_is_counter_based() -> None:
    whole = _engine.noise_field(5, 2, 1, 0, 1000)
    part = _engine.noise_field(5, 2, 1, 333, 100)
    np.testing.assert_array_equal(whole[333:433], part)
    assert abs(whole.mean()) < 0.1 and abs(whole.std() - 1) < 0.1
    assert not np.array_equal(whole, _engine.noise_field(5, 3, 1, 0, 1000))
    assert not np.array_equal(whole, _engine.noise_field(5, 2, 2, 0, 1000))


def test_embedding_matches_python() -> None:
    from haineifrdm.diffusion import embed_timestep

    for eta, stage in ((0.02, 1), (0.5, 2), (0.98, 2)):
        np.testing.assert_allclose(_engine.embed_timestep(eta, stage, 64),
                                   embed_timestep(eta, stage)[0].numpy(), atol=1e-7, rtol=0)


def test_resamplers_match_torch() -> None:
    img = np.random.default_rng(0).random((37, 53, 3), dtype=np.float32)
    t = torch.from_numpy(img).permute(2, 0, 1)[None]
    want = torch.nn.functional.interpolate(t, size=(11, 19), mode="area")[0].permute(1, 2, 0)
    np.testing.assert_allclose(_engine.area_resize(img, 11, 19), want.numpy(), atol=1e-6)
    want = torch.nn.functional.interpolate(t, size=(80, 101), mode="bicubic",
                                           align_corners=False)[0].permute(1, 2, 0)
    np.testing.assert_allclose(_engine.bicubic_resize(img, 80, 101), want.numpy(), atol=1e-5)
