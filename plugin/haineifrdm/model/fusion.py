"""Frame Fusion Module: flow-free, per-pixel attention across the window.

Each frame goes through one shared encoder. At every scale a small scorer
looks at (frame features, |frame - centre| features) and gives one logit per
pixel and frame; a learned bias favours the centre frame. A softmax over
frames weights the features. Where a neighbour does not match (fast motion:
20-70 px displacements, occlusions) its difference features are large, its
logit drops, and the fusion falls back to the centre frame — nothing is warped,
so limbs cannot smear.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ChannelLayerNorm


class _Scorer(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2 * ch, ch, 1), nn.GELU(), nn.Conv2d(ch, 1, 3, padding=1)
        )

    def forward(self, feats: Tensor, centre: Tensor) -> Tensor:
        return self.net(torch.cat([feats, (feats - centre).abs()], dim=1))


class FrameFusionModule(nn.Module):
    """window [B, 3F, H, W] -> fused features [B, ch, H, W] (H, W even).

    Fusion runs at full and half resolution; ``weights`` of the last call are
    kept in ``last_weights`` (full scale, [B, F, H, W]) for inspection.
    """

    def __init__(self, frames: int, ch: int) -> None:
        super().__init__()
        self.frames = frames
        self.centre = frames // 2
        self.encoder = nn.Sequential(
            nn.Conv2d(3, ch, 3, padding=1), nn.GELU(), nn.Conv2d(ch, ch, 3, padding=1)
        )
        self.down = nn.Conv2d(ch, ch, 4, stride=2, padding=1)
        self.score_full = _Scorer(ch)
        self.score_half = _Scorer(ch)
        self.centre_bias = nn.Parameter(torch.tensor(2.0))
        self.norm = ChannelLayerNorm(ch)
        self.out = nn.Conv2d(3 * ch, ch, 1)
        self.last_weights: Tensor | None = None

    def _fuse(self, feats: Tensor, scorer: _Scorer, b: int) -> tuple[Tensor, Tensor]:
        bf, c, h, w = feats.shape
        f = self.frames
        per_frame = feats.reshape(b, f, c, h, w)
        centre = per_frame[:, self.centre : self.centre + 1].expand(b, f, c, h, w)
        logits = scorer(feats, centre.reshape(bf, c, h, w)).reshape(b, f, h, w)
        bias = torch.zeros(f, device=feats.device, dtype=feats.dtype)
        onehot = F.one_hot(torch.tensor(self.centre, device=feats.device), f).to(feats.dtype)
        bias = bias + onehot * self.centre_bias
        weights = torch.softmax((logits + bias[None, :, None, None]).float(), dim=1).to(feats.dtype)
        fused = (per_frame * weights[:, :, None]).sum(dim=1)
        return fused, weights

    def forward(self, window: Tensor) -> Tensor:
        b, _, h, w = window.shape
        frames = window.reshape(b * self.frames, 3, h, w)
        feats = self.encoder(frames)
        fused_full, weights = self._fuse(feats, self.score_full, b)
        half = self.down(feats)
        fused_half, _ = self._fuse(half, self.score_half, b)
        hb, hc, hh, hw = fused_half.shape
        up = fused_half[:, :, :, None, :, None].expand(hb, hc, hh, 2, hw, 2).reshape(hb, hc, h, w)
        centre_feats = feats.reshape(b, self.frames, -1, h, w)[:, self.centre]
        self.last_weights = weights.detach()
        return self.out(torch.cat([self.norm(fused_full), up, centre_feats], dim=1))
