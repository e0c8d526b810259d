"""A small, pure-PyTorch single-patch sampler (tests, training previews).

The fast full-frame two-stage sampler lives in the C++ engine; this one is the
reference for one patch: start at the guide plus noise, predict x0, step the
residual-shifting posterior.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from .embedding import embed_timestep
from .schedule import Schedule


class DenoiserFn(Protocol):
    def __call__(self, x_t: Tensor, window: Tensor, guide: Tensor, tokens: Tensor, box: Tensor,
                 t_emb: Tensor) -> Tensor: ...


def sample_patch(denoiser: DenoiserFn, schedule: Schedule, window: Tensor, guide: Tensor,
                 tokens: Tensor, box: Tensor, steps: int, stage: int = 2,
                 generator: torch.Generator | None = None) -> Tensor:
    """Restore one batch of patches with ``steps`` of the schedule (1..T).

    Deterministic given ``generator``'s seed. Returns x0 [B, 3, P, P].
    """
    ts = schedule.timesteps(steps)
    b = guide.shape[0]

    def noise() -> Tensor:
        return torch.randn(guide.shape, generator=generator, dtype=guide.dtype).to(guide.device)

    eta_t = schedule.eta(ts[0])
    x = guide + schedule.kappa * eta_t**0.5 * noise()
    x0 = guide
    for i, t in enumerate(ts):
        t_emb = embed_timestep(schedule.eta(t), stage, batch=b).to(guide.device, guide.dtype)
        x0 = denoiser(x, window, guide, tokens, box, t_emb)
        s = ts[i + 1] if i + 1 < len(ts) else 0
        if s == 0:
            break
        c_xt, c_x0, std = schedule.posterior(t, s)
        x = c_xt * x + c_x0 * x0 + std * noise()
    return x0
