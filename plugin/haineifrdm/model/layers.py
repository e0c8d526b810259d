"""Small building blocks shared by the network.

Nothing here normalises over spatial extent: every statistic is per pixel
(across channels), so a patch produces the same features as the same pixels
inside a larger patch (up to the receptive field's border). The one exception
is :class:`RobustGlobalMatch`, a per-patch gain/offset fit that feeds only the
defect detector's evidence, never the output pixels directly (neighbouring
patches fit nearly the same flicker; the sampler blends their overlaps).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor, per pixel."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        xf = x.float()  # statistics always in FP32 (a no-op for FP32 graphs)
        mean = xf.mean(dim=1, keepdim=True)
        var = (xf - mean).pow(2).mean(dim=1, keepdim=True)
        y = (xf - mean) * torch.rsqrt(var + self.eps)
        y = y * self.weight.float()[None, :, None, None] + self.bias.float()[None, :, None, None]
        return y.to(x.dtype)


def fourier_features(coords: Tensor, n_freqs: int) -> Tensor:
    """Sin/cos features of coordinates in [0, 1].

    coords [..., D] -> [..., D * 2 * n_freqs]; frequencies 2^k * pi, k < n_freqs.
    """
    c = coords.float()  # angles always in FP32
    freqs = (2.0 ** torch.arange(n_freqs, device=coords.device, dtype=c.dtype)) * math.pi
    angles = c[..., None] * freqs  # [..., D, n_freqs]
    feats = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    return feats.flatten(-2).to(coords.dtype)


class FiLM(nn.Module):
    """Per-channel scale and shift from a conditioning vector (initialised to identity)."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(cond_dim, 2 * channels)
        nn.init.normal_(self.proj.weight, std=1e-3)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        scale, shift = self.proj(cond).chunk(2, dim=-1)
        return x * (1.0 + scale[:, :, None, None]) + shift[:, :, None, None]


class ResBlock(nn.Module):
    """Pre-norm residual block: LN -> conv -> FiLM(cond) -> GELU -> conv."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = ChannelLayerNorm(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.film = FiLM(cond_dim, out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = self.conv1(self.norm(x))
        h = F.gelu(self.film(h, cond))
        return self.skip(x) + self.conv2(h)


class Downsample(nn.Module):
    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 4, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour x2 then a 3x3 conv (no Resize scales to keep in FP32)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        x = x[:, :, :, None, :, None].expand(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w)
        return self.conv(x)


class GaussianBlur(nn.Module):
    """Fixed separable Gaussian low-pass of an NCHW image with ``channels`` channels,
    edges replicated.

    ``sigma`` in pixels; the kernel spans +-3 sigma. No parameters: the taps are
    non-persistent buffers (not in checkpoints, constants in exported graphs).
    """

    def __init__(self, sigma: float, channels: int = 3) -> None:
        super().__init__()
        radius = max(1, round(3 * sigma))
        x = torch.arange(-radius, radius + 1, dtype=torch.float64)
        taps = torch.exp(-0.5 * (x / sigma) ** 2)
        taps = (taps / taps.sum()).float()
        self.row: Tensor
        self.col: Tensor
        self.register_buffer("row", taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1).contiguous(),
                             persistent=False)
        self.register_buffer("col", taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1).contiguous(),
                             persistent=False)
        self.radius, self.channels = radius, channels

    def forward(self, x: Tensor) -> Tensor:
        r = self.radius
        y = F.pad(x, (r, r, r, r), mode="replicate")
        y = F.conv2d(y, self.row.to(x.dtype), groups=self.channels)
        return F.conv2d(y, self.col.to(x.dtype), groups=self.channels)


class RobustLowpass(nn.Module):
    """Outlier-resistant Gaussian low-pass of per-frame differences.

    Input ``d`` [B, 3F, H, W]: F stacked RGB difference images (e.g. reference -
    frame k). Output: their low frequencies, where pixels that stand out from the
    local low-pass (defects, moving edges, detail the reference lacks) are
    down-weighted by ``1 / (1 + (e / tau)^2)`` (``e`` = mean |RGB residual|) over
    ``iters`` reweighting rounds. A defect therefore no longer spreads its low
    frequencies into its clean neighbours. Where nearly every weight is 0 the
    result falls back to the plain low-pass. ``tau`` in image units.
    """

    def __init__(self, sigma: float, frames: int, tau: float, iters: int) -> None:
        super().__init__()
        self.blur = GaussianBlur(sigma, channels=3 * frames)
        self.frames, self.tau, self.iters = frames, tau, iters

    def forward(self, d: Tensor) -> Tensor:
        b, _, h, w = d.shape
        low = self.blur(d)
        for _ in range(self.iters):
            e = (d - low).abs().reshape(b, self.frames, 3, h, w).mean(dim=2, keepdim=True)
            wgt = (1.0 / (1.0 + (e / self.tau) ** 2)).expand(b, self.frames, 3, h, w)
            wgt = wgt.reshape(b, 3 * self.frames, h, w)
            low = (self.blur(wgt * d) + 0.02 * low) / (self.blur(wgt) + 0.02)
        return low


class RobustGlobalMatch(nn.Module):
    """Per-frame, per-channel gain and offset that best match frames to a reference.

    ``ref`` [B, 3, H, W], ``frames`` [B, 3F, H, W] -> ``frames * (1 + a) + b`` with
    (a, b) fitted to ``ref - frames`` by weighted least squares over the whole
    patch, pixels that disagree with the current fit (defects, motion) down-weighted
    by ``1 / (1 + (e / tau)^2)`` over ``iters`` rounds. Flicker is global, a
    defect is not: after the match a blotch still stands out, however large it is.
    Evidence for detection only, not a flicker estimate: where the content moves
    between frames the fitted gain shrinks toward a plain mean match (measured:
    10-80 % off under 10-60 px/frame pans).
    """

    def __init__(self, frames: int, tau: float, iters: int) -> None:
        super().__init__()
        self.frames, self.tau, self.iters = frames, tau, iters

    def forward(self, ref: Tensor, frames: Tensor) -> Tensor:
        b, _, h, w = frames.shape
        x = frames.reshape(b, self.frames, 3, h, w)
        d = ref[:, None] - x
        wgt = torch.ones_like(d[:, :, :1])
        dims = (3, 4)
        for i in range(self.iters + 1):
            sw = wgt.sum(dim=dims, keepdim=True) + 1e-6
            mx = (wgt * x).sum(dim=dims, keepdim=True) / sw
            md = (wgt * d).sum(dim=dims, keepdim=True) / sw
            cov = (wgt * (x - mx) * (d - md)).sum(dim=dims, keepdim=True) / sw
            var = (wgt * (x - mx) ** 2).sum(dim=dims, keepdim=True) / sw
            gain = cov / (var + 1e-3)
            off = md - gain * mx
            if i < self.iters:
                e = (d - gain * x - off).abs().mean(dim=2, keepdim=True)
                wgt = 1.0 / (1.0 + (e / self.tau) ** 2)
        return (x * (1.0 + gain) + off).reshape(b, 3 * self.frames, h, w)
