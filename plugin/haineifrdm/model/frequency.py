"""Global-local Frequency Module with the 2-D DFT written as matrix multiplies.

``rdft2``/``irdft2`` equal ``torch.fft.rfft2``/``irfft2`` with ``norm="ortho"``
over the last two axes, but use only MatMul against fixed DFT matrices, so
ONNX Runtime and TensorRT run them as plain GEMMs (no DFT/STFT ops).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ChannelLayerNorm


def dft_matrices(
    n: int, half: bool, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Real and imaginary parts of the orthonormal forward DFT matrix.

    Shape [K, n] with K = n // 2 + 1 when ``half`` (real-input DFT) else n.
    Entry [k, j] = exp(-2 pi i k j / n) / sqrt(n). Computed in float64, then cast.
    """
    k_count = n // 2 + 1 if half else n
    k = torch.arange(k_count, dtype=torch.float64)[:, None]
    j = torch.arange(n, dtype=torch.float64)[None, :]
    angle = 2.0 * math.pi * ((k * j) % n) / n
    scale = 1.0 / math.sqrt(n)
    re = torch.cos(angle) * scale
    im = -torch.sin(angle) * scale
    return re.to(device=device, dtype=dtype), im.to(device=device, dtype=dtype)


def irdft_matrices(n: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    """Matrices [K, n] turning a half spectrum (re, im) back into n real samples.

    x[j] = sum_k c_k (re_k cos(2 pi k j / n) - im_k sin(2 pi k j / n)) / sqrt(n),
    with c_k = 1 for DC and Nyquist, 2 otherwise (Hermitian symmetry).
    """
    k_count = n // 2 + 1
    k = torch.arange(k_count, dtype=torch.float64)[:, None]
    j = torch.arange(n, dtype=torch.float64)[None, :]
    angle = 2.0 * math.pi * ((k * j) % n) / n
    c = torch.full((k_count, 1), 2.0, dtype=torch.float64)
    c[0] = 1.0
    if n % 2 == 0:
        c[-1] = 1.0
    scale = c / math.sqrt(n)
    return (torch.cos(angle) * scale).to(device=device, dtype=dtype), (
        -torch.sin(angle) * scale
    ).to(device=device, dtype=dtype)


class _DFTCache:
    """Per (size, dtype, device) cache of the fixed matrices."""

    def __init__(self) -> None:
        self._store: dict[tuple[int, int, torch.dtype, torch.device], tuple[Tensor, ...]] = {}

    def get(self, h: int, w: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, ...]:
        key = (h, w, dtype, device)
        if key not in self._store:
            # normal tensors even when first asked for under inference_mode: the cache
            # outlives that context and may later serve autograd (training, ONNX tracing)
            with torch.inference_mode(False):
                self._store[key] = self._build(h, w, dtype, device)
        return self._store[key]

    @staticmethod
    def _build(h: int, w: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, ...]:
        wr, wi = dft_matrices(w, True, dtype, device)
        hr, hi = dft_matrices(h, False, dtype, device)
        ir, ii = irdft_matrices(w, dtype, device)
        return (wr.T.contiguous(), wi.T.contiguous(), hr, hi, ir, ii)


_CACHE = _DFTCache()


def rdft2(x: Tensor) -> tuple[Tensor, Tensor]:
    """Orthonormal real 2-D DFT over the last two axes: [..., H, W] -> 2 x [..., H, W//2+1]."""
    h, w = x.shape[-2], x.shape[-1]
    wr_t, wi_t, hr, hi, _, _ = _CACHE.get(int(h), int(w), x.dtype, x.device)
    xr = x @ wr_t  # DFT along W
    xi = x @ wi_t
    yr = hr @ xr - hi @ xi  # complex DFT along H
    yi = hr @ xi + hi @ xr
    return yr, yi


def irdft2(yr: Tensor, yi: Tensor, w: int) -> Tensor:
    """Inverse of :func:`rdft2`; ``w`` is the real width. Returns [..., H, w]."""
    h = yr.shape[-2]
    _, _, hr, hi, ir, ii = _CACHE.get(int(h), int(w), yr.dtype, yr.device)
    # inverse complex DFT along H: conj(F_h) (F_h is symmetric and unitary)
    zr = hr @ yr + hi @ yi
    zi = hr @ yi - hi @ yr
    return zr @ ir + zi @ ii


class GlobalLocalFrequencyModule(nn.Module):
    """x + local(x) + global(x): a conv branch and a spectral branch.

    The spectral branch transforms the feature patch with ``rdft2``, mixes the
    stacked (re, im) channels with 1x1 convolutions (size-independent, so one
    set of weights serves every patch size), modulates them by the global
    prompt, and transforms back.
    """

    def __init__(self, channels: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = ChannelLayerNorm(channels)
        self.local = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels),
            nn.Conv2d(channels, channels, 1),
            nn.GELU(),
            nn.Conv2d(channels, channels, 1),
        )
        self.spec_in = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.spec_out = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.spec_mod = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.spec_mod.weight)
        nn.init.zeros_(self.spec_mod.bias)
        self.mix = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = self.norm(x)
        local = self.local(h)
        w = h.shape[-1]
        yr, yi = rdft2(h)
        s = F.gelu(self.spec_in(torch.cat([yr, yi], dim=1)))
        s = s * (1.0 + self.spec_mod(cond)[:, :, None, None])
        s = self.spec_out(s)
        c = h.shape[1]
        g = irdft2(s[:, :c], s[:, c:], int(w))
        return x + local + self.mix(g)
