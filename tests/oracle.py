"""A slow, obviously-correct NumPy/PyTorch version of the two-stage patch sampler.

Written independently of the C++ engine (own patch planner, own blending, one
patch per network call); only the noise field and, for motion-compensated
models, the per-patch shifts are shared, since the algorithm under test is the
sampler, not the random-number generator or the motion search (which
tests/test_registration.py checks against known motion).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from haineifrdm import _engine
from haineifrdm.diffusion import Schedule, embed_timestep
from haineifrdm.model import HaineiFRDM


def axis_origins(length: int, patch: int, overlap: int) -> list[int]:
    if length <= patch:
        return [0]
    stride = patch - overlap
    count = math.ceil((length - patch) / stride) + 1
    span = length - patch
    return [(i * span * 2 + (count - 1)) // (2 * (count - 1)) for i in range(count)]


def ramp(patch: int, overlap: int) -> np.ndarray:
    r = np.ones(patch, np.float64)
    for i in range(overlap):
        r[i] = r[patch - 1 - i] = math.sin(0.5 * math.pi * (i + 0.5) / overlap) ** 2
    return r.astype(np.float32)


def reflect(idx: np.ndarray, n: int) -> np.ndarray:
    if n == 1:
        return np.zeros_like(idx)
    period = 2 * n - 2
    m = np.mod(idx, period)
    return np.where(m < n, m, period - m)


def to_nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2)


def area(frames: np.ndarray, h: int, w: int) -> np.ndarray:
    return F.interpolate(to_nchw(frames), size=(h, w), mode="area").permute(0, 2, 3, 1).numpy()


def fit_long_side(h: int, w: int, side: int) -> tuple[int, int]:
    s = side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def chain(model: HaineiFRDM, window: np.ndarray, guide: np.ndarray, tokens: torch.Tensor,
          stage: int, patch: int, overlap: int, sched: Schedule, ts: list[int], seed: int,
          frame: int, max_shift: int) -> np.ndarray:
    f, h, w, _ = window.shape
    register = model.config.register_frames
    ys, xs = axis_origins(h, patch, overlap), axis_origins(w, patch, overlap)
    r = ramp(patch, overlap)
    wgt = np.outer(r, r)
    wsum = np.zeros((h, w), np.float32)
    for y in ys:
        for x in xs:
            hh, ww = min(patch, h - y), min(patch, w - x)
            wsum[y : y + hh, x : x + ww] += wgt[:hh, :ww]

    def noise(step: int) -> np.ndarray:
        return _engine.noise_field(seed, frame, stage * 1000 + step, 0, h * w * 3).reshape(h, w, 3)

    x_t = guide + np.float32(sched.kappa * math.sqrt(sched.eta(ts[0]))) * noise(0)
    for i, t in enumerate(ts):
        acc = np.zeros((h, w, 3), np.float32)
        t_emb = embed_timestep(sched.eta(t), stage, batch=1)
        for y in ys:
            for x in xs:
                ry = reflect(np.arange(y, y + patch), h)
                rx = reflect(np.arange(x, x + patch), w)
                crop = np.ix_(ry, rx)
                shifts = (_engine.patch_shifts(window, y, x, patch, max_shift) if register
                          else np.zeros((f, 2), np.int32))
                win = np.concatenate(
                    [window[k][np.ix_(reflect(np.arange(y, y + patch) + dy, h),
                                      reflect(np.arange(x, x + patch) + dx, w))]
                     for k, (dy, dx) in enumerate(shifts.tolist())], axis=-1)
                with torch.no_grad():
                    out = model.denoiser(to_nchw(x_t[crop][None]), to_nchw(win[None]),
                                         to_nchw(guide[crop][None]), tokens,
                                         torch.tensor([[x / w, y / h, (x + patch) / w,
                                                        (y + patch) / h]], dtype=torch.float32),
                                         t_emb)
                x0p = out[0].permute(1, 2, 0).numpy()
                hh, ww = min(patch, h - y), min(patch, w - x)
                acc[y : y + hh, x : x + ww] += wgt[:hh, :ww, None] * x0p[:hh, :ww]
        x0 = acc / wsum[..., None]
        s = ts[i + 1] if i + 1 < len(ts) else 0
        if s == 0:
            return x0
        c_xt, c_x0, std = sched.posterior(t, s)
        x_t = np.float32(c_xt) * x_t + np.float32(c_x0) * x0 + np.float32(std) * noise(i + 1)
    raise AssertionError("unreachable")


def oracle_restore(model: HaineiFRDM, window: np.ndarray, patch: int, overlap: int, steps: int,
                   seed: int, frame: int = 0, lowres: int | None = None,
                   two_stage: bool = True) -> np.ndarray:
    sched = Schedule.from_config()
    ts = sched.timesteps(steps)
    f, h, w, _ = window.shape
    r = f // 2
    thumb = area(window, 128, 128)
    thumb_t = torch.from_numpy(np.concatenate(list(thumb), axis=-1)).permute(2, 0, 1)[None]
    with torch.no_grad():
        tokens = model.context(thumb_t.contiguous())
    lowres = lowres or patch
    if two_stage:
        shrink = max(h, w) > lowres
        if shrink:
            lh, lw = fit_long_side(h, w, lowres)
            low = area(window, lh, lw)
        else:
            low = window
        low_shift = _engine.scaled_max_shift(max(low.shape[1:3]), max(h, w))
        out1 = chain(model, np.ascontiguousarray(low), low[r].copy(), tokens, 1, patch, overlap,
                     sched, ts, seed, frame, low_shift)
        if shrink:
            guide = F.interpolate(to_nchw(out1[None]), size=(h, w), mode="bicubic",
                                  align_corners=False)[0].permute(1, 2, 0).numpy()
        else:
            guide = out1
    else:
        guide = window[r].copy()
    return chain(model, window, np.ascontiguousarray(guide), tokens, 2, patch, overlap, sched, ts,
                 seed, frame, _engine.MAX_SHIFT_PER_FRAME)
