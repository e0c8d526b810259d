"""The per-patch denoiser: fused window + guide + chain state -> clean patch.

A small UNet conditioned on the noise level/stage (``t_emb``), the patch's
place in the frame (``box``) and the global prompt (``tokens``):
FiLM at every block, cross-attention from pixels to tokens at the bottleneck,
Global-local Frequency Modules at the lower levels. Output (global residual
around the centre frame, defects replaced under a learned matte)::

    base   = centre + rlow(guide - centre)
    cand_k = frame_k + rlow(guide - frame_k)          every other frame k
    fill   = sum_j softmax(select)_j * [cand_k..., spatial, guide(, median)]_j
             (or ``spatial`` alone in models with fill = "spatial"; in models with
             fill = "gated" each cand_k's share scaled by that frame's agreement
             with the centre around the pixel: FILL_MODES)
    x0     = base + dz(matte) * (fill - base) + residual

``centre`` is the degraded centre frame of the window and ``rlow`` a robust
Gaussian low-pass (sigma GUIDE_SIGMA px, outliers such as defects and moving
edges down-weighted, see :class:`RobustLowpass`): the guide (stage 1's
whole-frame result, upsampled) supplies the low frequencies it corrected
(flicker, blotches) while each frame keeps its own detail and grain, and a
defect does not bleed into its neighbours. ``matte`` in (0, 1) is the
network's per-pixel defect matte, trained against the synthetic defect masks;
``dz`` maps matte values below MATTE_LO to 0 and above MATTE_HI to 1 (linear
between), so uncertain clean pixels keep ``base`` exactly. Under the matte the
picture comes from a per-pixel choice (``select``) between the other frames of
the window (good where nothing moves), ``spatial`` (a normalised convolution
of ``base`` drawing only on pixels outside the matte, sigma FILL_SIGMA px: thin
defects and motion), the guide itself (large blotches) and, in models with
``median_candidate``, the temporal median of the frames matched to the centre
(below; on motion-compensated windows the best candidate for specks and
blotches that last one or two frames). ``residual``
(starts at 0) refines the rest.

Models with ``keep_clean`` (the shipped default) touch defects only::

    x0 = centre + near(M) * (x0 - centre),   M = dz(matte) * hysteresis

``dz`` ramps over the model's ``matte_ramp`` (default KEEP_CLEAN_RAMP),
``hysteresis`` keeps a matte region only if it holds a pixel whose matte
probability reaches ``matte_seed`` (grown from it through the pixels with
dz(matte) > 0), and ``near`` is M dilated by
KEEP_CLEAN_RADIUS px (max-pool): every other pixel is the centre frame bit for
bit, grain, flicker and all. Where their ``spatial`` candidate has too little
support (the middle of a large defect) a wide one (WIDE_FILL_SIGMA px) takes over.

The detector and the stem's difference channels do not use the guide (stage
1's guide is the degraded frame itself, and a stage-2 guide still carries what
stage 1 missed): they see guide-free temporal evidence, every frame's gain and
offset matched to the centre over the whole patch (robustly, so flicker is
matched and a defect of any size still stands out; ``aligned_k``):
``centre - aligned_k`` and ``centre - median_k(aligned_k)``; the shallow
full-resolution detector also sees ``centre`` and the temporal median. A fresh
network is nearly the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .context import POS_DIM, POS_FREQS
from .frequency import GlobalLocalFrequencyModule
from .fusion import FrameFusionModule
from .layers import (
    ChannelLayerNorm,
    Downsample,
    GaussianBlur,
    ResBlock,
    RobustGlobalMatch,
    RobustLowpass,
    Upsample,
    fourier_features,
)

#: Width (pixels) of the low-pass that takes the guide's low frequencies.
GUIDE_SIGMA = 3.0
#: Width (pixels) of the normalised-convolution spatial fill under the defect matte.
FILL_SIGMA = 2.0
#: Residual scale (image units) above which a pixel stops counting in a low-pass match.
MATCH_TAU = 0.05
#: Reweighting rounds of the robust low-pass.
MATCH_ITERS = 2
#: Reweighting rounds of the global (per-frame gain and offset) match for detection.
ALIGN_ITERS = 4
#: Matte values below this keep the centre (base) exactly...
MATTE_LO = 0.3
#: ...and above this take the fill whole (chosen on validation sets, seeds 5000+ and
#: 6000+: a lower ramp finds more defects but costs more outside them).
MATTE_HI = 0.7
#: Initial matte logit: sigmoid(-3) ~ 0.05, so a fresh network is nearly the identity.
MATTE_BIAS = -3.0
#: Models with ``keep_clean`` change only pixels within this many pixels of the matte,
KEEP_CLEAN_RADIUS = 2
#: use a dead zone of their own instead of (MATTE_LO, MATTE_HI), by default this one
#: (``matte_ramp``: a calibration of the weights, like ``matte_seed``)...
KEEP_CLEAN_RAMP = (0.1, 0.5)
#: ...and keep a matte region only if it holds a pixel whose matte probability reaches
#: the model's ``matte_seed`` (ModelConfig: a calibration of its weights), grown from it
#: over GROW_STEPS steps of 2 px (hysteresis; chosen on the validation sets, seeds 5000+
#: and 6000+).
GROW_STEPS = 32
#: keep_clean models: where the spatial fill's support (the blurred keep weight) is below
#: WIDE_FILL_BELOW, a wide normalised convolution (sigma WIDE_FILL_SIGMA px) takes over in
#: proportion, so the middle of a large defect is filled from its surroundings
WIDE_FILL_SIGMA = 8.0
WIDE_FILL_BELOW = 0.2
#: How the picture under the matte is made: ``select`` (the learned per-pixel choice
#: between the candidates; what training trains), ``spatial`` (the spatial fill alone:
#: better under fast pans, where the other frames are unaligned, worse on still
#: backgrounds; see MODEL_CARD.md) or ``gated`` (the learned choice, with each other
#: frame's share scaled by how well that frame matches the centre around the defect;
#: see :meth:`Denoiser._frame_agreement`). None adds or drops weights.
FILL_MODES = ("select", "spatial", "gated")
#: ``gated`` fill: a frame matches the centre at a pixel when the mean absolute
#: difference between the two (grey, each pre-smoothed by a Gaussian of GATE_PRE_SIGMA
#: px so grain averages out), over the pixels outside the matte within a Gaussian of
#: GATE_SIGMA px, is below GATE_LO; above GATE_HI it does not (linear between). Chosen
#: on the validation sets (seed 5000, moving and still) and a static speck.
GATE_PRE_SIGMA = 1.0
GATE_SIGMA = 4.0
GATE_LO = 0.005
GATE_HI = 0.02
#: Width of the shallow full-resolution detector path.
DETECTOR_CH = 32


@dataclass(frozen=True)
class DenoiserConfig:
    frames: int
    fusion_ch: int
    channels: tuple[int, ...]  # per UNet level, full resolution first
    blocks: int  # ResBlocks per level
    freq_levels: tuple[int, ...]  # levels (indices) carrying a frequency module
    token_dim: int
    t_emb_dim: int
    cond_dim: int
    heads: int
    median_candidate: bool = False  # the temporal median is a fill candidate too
    keep_clean: bool = False  # pixels away from the matte are the centre frame, bit for bit
    matte_seed: float = 0.9  # keep_clean: the confidence a kept matte region must reach
    fill: str = "select"  # FILL_MODES: how the picture under the matte is made
    matte_ramp: tuple[float, float] = KEEP_CLEAN_RAMP  # keep_clean: dz's 0 and 1 ends


def _hysteresis(seeds: Tensor, allowed: Tensor) -> Tensor:
    """1.0 where ``allowed`` [B, 1, H, W] (bool, H and W even) is connected to a pixel of
    ``seeds`` within GROW_STEPS steps, else 0.0. The growth runs on a half-resolution
    grid (a 2x2 block is allowed if any of its pixels is; one step = 2 px), a quarter
    of the cost of growing at full resolution."""
    region = F.max_pool2d(allowed.float(), 2)
    grown = F.max_pool2d((seeds & allowed).float(), 2)
    for _ in range(GROW_STEPS):
        grown = F.max_pool2d(grown, 3, stride=1, padding=1) * region
    return F.interpolate(grown, scale_factor=2.0, mode="nearest") * allowed.float()


class TokenCrossAttention(nn.Module):
    """Pixels (tagged with their frame position) attend to the global tokens."""

    def __init__(self, ch: int, token_dim: int, heads: int) -> None:
        super().__init__()
        self.norm = ChannelLayerNorm(ch)
        self.q = nn.Linear(ch + POS_DIM, ch)
        self.kv = nn.Linear(token_dim, 2 * ch)
        self.out = nn.Linear(ch, ch)
        nn.init.normal_(self.out.weight, std=1e-3)
        nn.init.zeros_(self.out.bias)
        self.heads = heads

    def forward(self, x: Tensor, tokens: Tensor, box: Tensor) -> Tensor:
        b, c, h, w = x.shape
        # pixel centres in normalised frame coordinates from the patch box
        # positions in FP32 whatever the compute type
        fy = (torch.arange(h, device=x.device, dtype=torch.float32) + 0.5) / h
        fx = (torch.arange(w, device=x.device, dtype=torch.float32) + 0.5) / w
        bf = box.float()
        px = bf[:, 0:1] + fx[None, :] * (bf[:, 2:3] - bf[:, 0:1])  # [B, w]
        py = bf[:, 1:2] + fy[None, :] * (bf[:, 3:4] - bf[:, 1:2])  # [B, h]
        pos = torch.stack(
            [px[:, None, :].expand(b, h, w), py[:, :, None].expand(b, h, w)], dim=-1
        )  # [B, h, w, 2]
        pos_f = fourier_features(pos, POS_FREQS).reshape(b, h * w, POS_DIM).to(x.dtype)
        pix = self.norm(x).flatten(2).transpose(1, 2)  # [B, hw, c]
        q = self.q(torch.cat([pix, pos_f], dim=-1))
        k, v = self.kv(tokens).chunk(2, dim=-1)
        d = c // self.heads
        q = q.reshape(b, h * w, self.heads, d).transpose(1, 2)
        k = k.reshape(b, -1, self.heads, d).transpose(1, 2)
        v = v.reshape(b, -1, self.heads, d).transpose(1, 2)
        attn = torch.softmax(((q @ k.transpose(-1, -2)) * (d**-0.5)).float(), dim=-1).to(q.dtype)
        o = (attn @ v).transpose(1, 2).reshape(b, h * w, c)
        return x + self.out(o).transpose(1, 2).reshape(b, c, h, w)


class Level(nn.Module):
    """ResBlocks at one resolution, optionally followed by a frequency module."""

    def __init__(self, in_ch: int, ch: int, blocks: int, cond_dim: int, freq: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            [ResBlock(in_ch if i == 0 else ch, ch, cond_dim) for i in range(blocks)])
        self.freq = GlobalLocalFrequencyModule(ch, cond_dim) if freq else None

    def forward(self, h: Tensor, cond: Tensor) -> Tensor:
        for blk in self.blocks:
            h = blk(h, cond)
        return self.freq(h, cond) if self.freq is not None else h


class Denoiser(nn.Module):
    """See :mod:`haineifrdm.contract` for the tensor contract."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        if cfg.fill not in FILL_MODES:
            raise ValueError(f"fill must be one of {FILL_MODES}, got {cfg.fill!r}")
        if not 0.0 <= cfg.matte_ramp[0] < cfg.matte_ramp[1] <= 1.0:
            raise ValueError(f"matte_ramp must be 0 <= lo < hi <= 1, got {cfg.matte_ramp}")
        self.cfg = cfg
        ch = cfg.channels
        self.fusion = FrameFusionModule(cfg.frames, cfg.fusion_ch)
        self.cond = nn.Sequential(
            nn.Linear(cfg.t_emb_dim + 2 * 4 * POS_FREQS + cfg.token_dim, cfg.cond_dim),
            nn.GELU(),
            nn.Linear(cfg.cond_dim, cfg.cond_dim),
        )
        # x_t, guide, fused window, centre - aligned_k (F - 1 frames), centre - median
        self.stem = nn.Conv2d(3 + 3 + cfg.fusion_ch + 3 * cfg.frames, ch[0], 3, padding=1)
        levels = range(len(ch))
        self.enc = nn.ModuleList(
            [Level(c, c, cfg.blocks, cfg.cond_dim, i in cfg.freq_levels) for i, c in enumerate(ch)])
        self.down = nn.ModuleList([Downsample(ch[i], ch[i + 1]) for i in levels[:-1]])
        mid = ch[-1]
        self.mid1 = ResBlock(mid, mid, cfg.cond_dim)
        self.attn = TokenCrossAttention(mid, cfg.token_dim, cfg.heads)
        self.mid_freq = GlobalLocalFrequencyModule(mid, cfg.cond_dim)
        self.mid2 = ResBlock(mid, mid, cfg.cond_dim)
        up_levels = list(levels[:-1])[::-1]
        self.up = nn.ModuleList([Upsample(ch[i + 1], ch[i]) for i in up_levels])
        self.dec = nn.ModuleList(
            [Level(2 * ch[i], ch[i], cfg.blocks, cfg.cond_dim, False) for i in up_levels])
        self.head_norm = ChannelLayerNorm(ch[0])
        # other frames, spatial fill, guide (, temporal median)
        self.n_candidates = cfg.frames + 1 + int(cfg.median_candidate)
        # residual RGB, matte logit, one selection logit per fill candidate
        self.head = nn.Conv2d(ch[0], 4 + self.n_candidates, 3, padding=1)
        nn.init.normal_(self.head.weight, std=1e-3)
        bias = torch.zeros(4 + self.n_candidates)
        bias[3] = MATTE_BIAS
        self.head.bias = nn.Parameter(bias)
        # shallow full-resolution path for the matte and the selection: defects are
        # local temporal/spatial outliers, which the deep path alone learns slowly
        det_in = 3 * cfg.frames + 6  # diffs, centre, temporal median
        det_out = nn.Conv2d(DETECTOR_CH, 1 + self.n_candidates, 1)
        nn.init.normal_(det_out.weight, std=1e-3)
        nn.init.zeros_(det_out.bias)  # type: ignore[arg-type]
        self.detector = nn.Sequential(
            nn.Conv2d(det_in, DETECTOR_CH, 3, padding=1), nn.GELU(),
            nn.Conv2d(DETECTOR_CH, DETECTOR_CH, 3, padding=1), nn.GELU(), det_out)
        self.match = RobustLowpass(GUIDE_SIGMA, cfg.frames, MATCH_TAU, MATCH_ITERS)
        self.align = RobustGlobalMatch(cfg.frames, MATCH_TAU, ALIGN_ITERS)
        self.fill_rgb = GaussianBlur(FILL_SIGMA, channels=3)
        self.fill_w = GaussianBlur(FILL_SIGMA, channels=1)
        self.wide_rgb = GaussianBlur(WIDE_FILL_SIGMA, channels=3)
        self.wide_w = GaussianBlur(WIDE_FILL_SIGMA, channels=1)
        self.gate_pre = GaussianBlur(GATE_PRE_SIGMA, channels=cfg.frames)  # F - 1 frames + keep
        self.gate_mean = GaussianBlur(GATE_SIGMA, channels=cfg.frames)

    @property
    def size_multiple(self) -> int:
        """Patch sides must be multiples of this."""
        return 2 ** (len(self.cfg.channels) - 1) * 2

    def forward(
        self, x_t: Tensor, window: Tensor, guide: Tensor, tokens: Tensor, box: Tensor, t_emb: Tensor
    ) -> Tensor:
        return self.forward_parts(x_t, window, guide, tokens, box, t_emb)[0].to(x_t.dtype)

    def forward_parts(self, x_t: Tensor, window: Tensor, guide: Tensor, tokens: Tensor,
                      box: Tensor, t_emb: Tensor) -> tuple[Tensor, Tensor]:
        """(x0 [B, 3, P, P] FP32, defect-matte logits [B, 1, P, P] FP32); training
        supervises the matte directly."""
        f, r = self.cfg.frames, self.cfg.frames // 2
        frames = window.float()
        g = guide.float()
        centre = frames[:, 3 * r : 3 * r + 3]
        # guide-free temporal evidence: every frame's gain and offset matched to the centre
        aligned = self.align(centre, frames)
        stack = aligned.reshape(aligned.shape[0], f, 3, *aligned.shape[2:])
        median = torch.topk(stack, f // 2 + 1, dim=1).values[:, -1]
        aligned_others = torch.cat([aligned[:, : 3 * r], aligned[:, 3 * r + 3 :]], dim=1)
        diffs = torch.cat([centre.repeat(1, f - 1, 1, 1) - aligned_others, centre - median], dim=1)
        # every frame matched to the guide's low frequencies (flicker, blotches)
        matched = frames + self.match(g.repeat(1, f, 1, 1) - frames)
        base = matched[:, 3 * r : 3 * r + 3]
        others = torch.cat([matched[:, : 3 * r], matched[:, 3 * r + 3 :]], dim=1)
        out = self._head(x_t, guide, window, diffs.to(x_t.dtype), tokens, box, t_emb)
        det = self.detector(torch.cat([diffs, centre, median], dim=1).to(x_t.dtype)).float()
        out = torch.cat([out[:, :3], out[:, 3:] + det], dim=1)
        m = self._matte(out[:, 3:4])
        spatial = self._spatial_fill(base, m)
        if self.cfg.fill == "spatial":
            fill = spatial
        else:
            extra = [median] if self.cfg.median_candidate else []
            cands = torch.cat([others, spatial, g, *extra], dim=1)
            b, _, h, w = cands.shape
            sel = torch.softmax(out[:, 4:], dim=1)
            if self.cfg.fill == "gated":
                fill = self._gated_fill(sel, cands, others, base, spatial, m)
            else:
                fill = (cands.reshape(b, self.n_candidates, 3, h, w) * sel[:, :, None]).sum(dim=1)
        x0 = base + m * (fill - base) + out[:, :3]
        if self.cfg.keep_clean:
            k = 2 * KEEP_CLEAN_RADIUS + 1
            near = F.max_pool2d(m, k, stride=1, padding=KEEP_CLEAN_RADIUS)
            x0 = centre + near * (x0 - centre)
        return x0, out[:, 3:4]

    def _matte(self, logit: Tensor) -> Tensor:
        """Matte logits [B, 1, P, P] -> the matte in [0, 1] that composes the output: the
        dead zone, and for keep_clean models the hysteresis. Detached: the matte learns
        from its own loss only (the restoration loss would push it toward 0 while the
        fill is still poor)."""
        p = torch.sigmoid(logit).detach()
        lo, hi = self.cfg.matte_ramp if self.cfg.keep_clean else (MATTE_LO, MATTE_HI)
        m = ((p - lo) / (hi - lo)).clamp(0.0, 1.0)
        if self.cfg.keep_clean:
            m = m * _hysteresis(p >= self.cfg.matte_seed, m > 0)
        return m

    def _spatial_fill(self, base: Tensor, m: Tensor) -> Tensor:
        """Normalised convolution of ``base`` [B, 3, P, P] over the pixels outside the
        matte ``m``; for keep_clean models a wide one takes over where the narrow one
        has no support (the middle of a large defect)."""
        keep = 1.0 - m
        kept, support = base * keep, self.fill_w(keep)
        spatial = self.fill_rgb(kept) / (support + 1e-3)
        if not self.cfg.keep_clean:
            return spatial
        wide = self.wide_rgb(kept) / (self.wide_w(keep) + 1e-3)
        a = (support / WIDE_FILL_BELOW).clamp(max=1.0)
        return a * spatial + (1.0 - a) * wide

    def _frame_agreement(self, others: Tensor, base: Tensor, m: Tensor) -> Tensor:
        """How far each other frame (``others`` [B, 3(F-1), P, P], matched like ``base``
        [B, 3, P, P]) shows what the centre shows around each pixel, judged on the
        pixels outside the matte ``m``: [B, F-1, P, P] in [0, 1], 1 = the same picture
        (a still background), 0 = another one (a pan, a moving object). With no pixel
        outside the matte within reach there is nothing to judge by: 1, the learned
        choice stands."""
        b, c, h, w = others.shape
        n = c // 3
        diff = (others.reshape(b, n, 3, h, w) - base[:, None]).mean(dim=2)
        keep = (m <= 0).float()
        pre = self.gate_pre(torch.cat([diff * keep, keep], dim=1))
        smooth = pre[:, :n] / (pre[:, n:] + 1e-3)
        mean = self.gate_mean(torch.cat([smooth.abs() * keep, keep], dim=1))
        mismatch = mean[:, :n] / (mean[:, n:] + 1e-3)
        return ((GATE_HI - mismatch) / (GATE_HI - GATE_LO)).clamp(0.0, 1.0)

    def _gated_fill(self, sel: Tensor, cands: Tensor, others: Tensor, base: Tensor,
                    spatial: Tensor, m: Tensor) -> Tensor:
        """The learned choice ``sel`` [B, n_candidates, P, P] over ``cands`` with each
        other frame's share scaled by its agreement; the share taken away goes to the
        frames that agree (weighted by their agreement) as far as the best of them
        agrees, and to the spatial fill for the rest."""
        b, _, h, w = cands.shape
        r = self._frame_agreement(others, base, m)
        n = r.shape[1]
        frames = others.reshape(b, n, 3, h, w)
        lost = (sel[:, :n] * (1.0 - r)).sum(dim=1, keepdim=True)
        agreeing = (r[:, :, None] * frames).sum(dim=1) / (r.sum(dim=1, keepdim=True) + 1e-6)
        best = r.amax(dim=1, keepdim=True)
        kept = torch.cat([sel[:, :n] * r, sel[:, n:]], dim=1)
        fill = (cands.reshape(b, self.n_candidates, 3, h, w) * kept[:, :, None]).sum(dim=1)
        return fill + lost * (best * agreeing + (1.0 - best) * spatial)

    def _head(self, x_t: Tensor, guide: Tensor, window: Tensor, diffs: Tensor, tokens: Tensor,
              box: Tensor, t_emb: Tensor) -> Tensor:
        """The UNet: the head's channels in FP32 (residual RGB, matte logit, selection)."""
        box_f = fourier_features(box, POS_FREQS)
        cond = self.cond(torch.cat([t_emb, box_f, tokens.mean(dim=1)], dim=-1))
        fused = self.fusion(window)
        h = self.stem(torch.cat([x_t, guide, fused, diffs], dim=1))
        skips = []
        for i, level in enumerate(self.enc):
            h = level(h, cond)
            if i < len(self.down):
                skips.append(h)
                h = self.down[i](h)
        h = self.mid1(h, cond)
        h = self.attn(h, tokens, box)
        h = self.mid_freq(h, cond)
        h = self.mid2(h, cond)
        # the decoder runs in its weights' dtype, never autocast (FP32 in FP16 exports and
        # under CUDA autocast: see fp32_decoder)
        dd = self.head.weight.dtype
        with torch.autocast(h.device.type, enabled=False):
            h, cond = h.to(dd), cond.to(dd)
            for up, level in zip(self.up, self.dec, strict=True):
                h = level(torch.cat([up(h), skips.pop().to(dd)], dim=1), cond)
            return self.head(F.gelu(self.head_norm(h))).float()

    def fp32_decoder(self) -> None:
        """Keep the decoder (upsampling levels and head) in FP32 in a half-precision copy:
        its activations grow about 7x per level before the head's LayerNorm and pass
        FP16's range (65504) in trained weights (shipped model, random inputs: 6e4 after
        the first upsampling, 2.6e6 before the head); the encoder and bottleneck stay
        below 4e3 and run in FP16."""
        for part in (self.up, self.dec, self.head_norm, self.head):
            part.float()
