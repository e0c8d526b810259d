"""Training loss and the forward (noising) process."""

from __future__ import annotations

import torch
from torch import Tensor

from .schedule import Schedule


def q_sample(x0: Tensor, guide: Tensor, eta: Tensor, kappa: float, noise: Tensor) -> Tensor:
    """x_t = x0 + eta (guide - x0) + kappa sqrt(eta) noise; eta is [B]."""
    e = eta.to(x0.dtype)[:, None, None, None]
    return x0 + e * (guide - x0) + kappa * e.sqrt() * noise


def sample_timesteps(schedule: Schedule, batch: int, generator: torch.Generator | None = None
                     ) -> tuple[Tensor, Tensor]:
    """Uniform trained timesteps t in 1..T and their eta, both [B]."""
    t = torch.randint(1, schedule.steps + 1, (batch,), generator=generator)
    eta = torch.tensor(schedule.etas, dtype=torch.float32)[t - 1]
    return t, eta


def restoration_loss(pred: Tensor, target: Tensor, mask: Tensor | None = None,
                     defect_weight: float = 4.0, eps: float = 1e-3) -> Tensor:
    """Per-pixel Charbonnier loss, weighted 1 + defect_weight inside the defect mask.

    pred/target [B, 3, H, W]; mask [B, 1, H, W] in [0, 1] or None. Returns a scalar
    normalised by the total weight.
    """
    per_px = torch.sqrt((pred - target) ** 2 + eps * eps).mean(dim=1, keepdim=True)
    if mask is None:
        return per_px.mean()
    w = 1.0 + defect_weight * mask.to(per_px.dtype)
    return (per_px * w).sum() / w.sum()
