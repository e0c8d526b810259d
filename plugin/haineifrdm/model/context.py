"""Position-aware global prompt: whole-window thumbnail -> a grid of tokens.

The thumbnail is encoded by strided convolutions to a G x G grid; each cell
becomes one token, tagged with Fourier features of its position in normalised
frame coordinates. The denoiser tags each pixel the same way (from ``box``), so
cross-attention can relate a patch to where it sits in the frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ChannelLayerNorm, fourier_features

POS_FREQS = 4  # Fourier frequencies per coordinate for token/pixel positions
POS_DIM = 2 * 2 * POS_FREQS


def grid_positions(g: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Cell centres of a g x g grid in [0, 1]: [g*g, 2] as (x, y), row-major."""
    c = (torch.arange(g, device=device, dtype=dtype) + 0.5) / g
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=-1)


class ContextEncoder(nn.Module):
    """thumb [B, 3F, S, S] -> tokens [B, G*G, D]; S = thumb size, G = grid."""

    def __init__(self, in_ch: int, width: int, token_dim: int, thumb: int, grid: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, width, 3, padding=1), nn.GELU()]
        size = thumb
        while size > grid:
            layers += [nn.Conv2d(width, width, 4, stride=2, padding=1), ChannelLayerNorm(width),
                       nn.GELU()]
            size //= 2
        if size != grid:
            raise ValueError(f"thumb size {thumb} must be grid {grid} times a power of two")
        self.body = nn.Sequential(*layers)
        self.grid = grid
        self.proj = nn.Linear(width + POS_DIM, token_dim)
        self.mix = nn.TransformerEncoderLayer(token_dim, nhead=4, dim_feedforward=2 * token_dim,
                                              dropout=0.0, batch_first=True, norm_first=True)

    def forward(self, thumb: Tensor) -> Tensor:
        feats = self.body(thumb)  # [B, W, G, G]
        b = feats.shape[0]
        tokens = feats.flatten(2).transpose(1, 2)  # [B, G*G, W]
        pos = fourier_features(grid_positions(self.grid, thumb.device, thumb.dtype), POS_FREQS)
        tokens = torch.cat([tokens, pos[None].expand(b, -1, -1)], dim=-1)
        return self.mix(F.gelu(self.proj(tokens)))
