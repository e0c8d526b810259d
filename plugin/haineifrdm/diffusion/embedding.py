"""Noise-level + stage embedding, computed in FP32 outside the exported graphs."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..contract import T_EMB_DIM

STAGE_DIMS = 2  # one-hot: stage 1 (low-res whole frame), stage 2 (full-res patches)


def embed_timestep(eta: Tensor | float, stage: int, dim: int = T_EMB_DIM,
                   batch: int | None = None) -> Tensor:
    """[B] noise levels eta in [0, 1] and a stage in {1, 2} -> [B, dim] float32.

    The first dim - 2 entries are sin/cos of 1000 * eta at geometric frequencies;
    the last two are the stage one-hot. Always float32 (FP16-safe: the graph only
    sees bounded values).
    """
    if stage not in (1, 2):
        raise ValueError(f"stage must be 1 or 2, got {stage}")
    eta_t = torch.as_tensor(eta, dtype=torch.float64).reshape(-1)
    if batch is not None and eta_t.numel() == 1:
        eta_t = eta_t.expand(batch)
    half = (dim - STAGE_DIMS) // 2
    # computed in float64 and rounded once, exactly like the C++ engine
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    angles = (1000.0 * eta_t)[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1).to(torch.float32)
    onehot = torch.zeros(eta_t.shape[0], STAGE_DIMS, dtype=torch.float32)
    onehot[:, stage - 1] = 1.0
    return torch.cat([emb, onehot], dim=-1)
