"""The blotch network: the centre frame's additive blotch offset, at a quarter of the size.

A blotch (dirt or a water mark on the print, emulsion lifted) adds a smooth,
soft-edged density change to one to three frames at one place, over picture
that keeps its texture. So it is removed by subtracting its offset, not by
painting the place over: the grain and detail under it stay. The offset is
smooth, so it is estimated on the window area-downscaled by 4 and upscaled by
the engine (blotch.hpp; the factor is ``contract.BLOTCH_SCALE``), which keeps the
network cheap at any frame size.

Contract (graph ``blotch``, see :mod:`haineifrdm.contract`)::

    window_q [B, 3(2r+1), h, w]  the window, each frame area-downscaled by 4,
                                 frames on channels oldest first; h, w multiples of 8
    ->
    offset   [B, 3, h, w]        the centre's blotch offset (degraded - clean),
                                 already weighted by the network's confidence

Each other frame is matched to the centre's gain and offset (per channel, over the
whole quarter frame) before the network compares them, as the denoiser's matte does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contract import BLOTCH_MULTIPLE

__all__ = ["BLOTCH_MULTIPLE", "MAX_OFFSET", "BlotchNet", "match_exposure"]
#: The largest offset the network can express (a density change; tanh-bounded).
MAX_OFFSET = 0.5


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.GELU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.GELU())


def match_exposure(frames: Tensor, centre: int) -> Tensor:
    """[B, F, 3, h, w] -> every frame's per-channel gain/offset fitted to frame ``centre``
    (least squares over the frame, gain clamped to [0.5, 2])."""
    c = frames[:, centre:centre + 1]
    mean_f = frames.mean((-1, -2), keepdim=True)
    mean_c = c.mean((-1, -2), keepdim=True)
    cov = ((frames - mean_f) * (c - mean_c)).mean((-1, -2), keepdim=True)
    var = ((frames - mean_f) ** 2).mean((-1, -2), keepdim=True) + 1e-4
    gain = (cov / var).clamp(0.5, 2.0)
    return (frames - mean_f) * gain + mean_c


class BlotchNet(nn.Module):
    """window_q [B, 3F, h, w] -> offset [B, 3, h, w]; a four-level U-Net (~0.4 M weights)."""

    def __init__(self, frames: int = 5, channels: tuple[int, int, int, int] = (32, 48, 64, 64)
                 ) -> None:
        super().__init__()
        if frames < 3 or frames % 2 == 0:
            raise ValueError(f"frames must be odd and at least 3, got {frames}")
        self.frames = frames
        c1, c2, c3, c4 = channels
        cin = 3 + 6 * (frames - 1)  # centre, matched others, centre - others
        self.e1, self.e2, self.e3, self.e4 = (_block(cin, c1), _block(c1, c2), _block(c2, c3),
                                              _block(c3, c4))
        self.d3, self.d2, self.d1 = _block(c4 + c3, c3), _block(c3 + c2, c2), _block(c2 + c1, c1)
        self.head = nn.Conv2d(c1, 4, 1)

    def features(self, window_q: Tensor) -> Tensor:
        b, _, h, w = window_q.shape
        r = self.frames // 2
        frames = window_q.reshape(b, self.frames, 3, h, w)
        matched = match_exposure(frames, r)
        centre = frames[:, r]
        level = centre.mean((-1, -2), keepdim=True)
        idx = [j for j in range(self.frames) if j != r]
        others = torch.cat([matched[:, j] - level for j in idx], 1)
        diffs = torch.cat([centre - matched[:, j] for j in idx], 1)
        return torch.cat([centre - level, others, diffs], 1)

    def raw(self, window_q: Tensor) -> tuple[Tensor, Tensor]:
        """(offset [B, 3, h, w] in +-MAX_OFFSET, confidence logit [B, 1, h, w])."""
        h1 = self.e1(self.features(window_q))
        h2 = self.e2(F.avg_pool2d(h1, 2))
        h3 = self.e3(F.avg_pool2d(h2, 2))
        h4 = self.e4(F.avg_pool2d(h3, 2))
        u = self.d3(torch.cat([F.interpolate(h4, scale_factor=2.0, mode="nearest"), h3], 1))
        u = self.d2(torch.cat([F.interpolate(u, scale_factor=2.0, mode="nearest"), h2], 1))
        u = self.d1(torch.cat([F.interpolate(u, scale_factor=2.0, mode="nearest"), h1], 1))
        o = self.head(u)
        return MAX_OFFSET * torch.tanh(o[:, :3]), o[:, 3:]

    def forward(self, window_q: Tensor) -> Tensor:
        offset, logit = self.raw(window_q)
        return offset * torch.sigmoid(logit)
