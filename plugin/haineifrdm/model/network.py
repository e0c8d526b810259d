"""HaineiFRDM: the two exported graphs (``context`` and ``denoiser``) in one module.

The public methods validate their inputs and raise ``ValueError`` with a
message naming the offending tensor; the wrapped sub-modules
(``context_net``, ``denoiser_net``) are what the exporter traces.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..contract import T_EMB_DIM, THUMB_SIZE, ModelDims
from .blotch import BLOTCH_MULTIPLE, BlotchNet
from .context import ContextEncoder
from .denoiser import KEEP_CLEAN_RAMP, Denoiser, DenoiserConfig


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a network; stored beside its weights."""

    preset: str
    radius: int = 2
    fusion_ch: int = 16
    channels: tuple[int, ...] = (16, 32, 32)
    blocks: int = 1
    freq_levels: tuple[int, ...] = (1, 2)
    token_dim: int = 32
    token_grid: int = 4
    context_width: int = 32
    cond_dim: int = 64
    heads: int = 2
    thumb: int = THUMB_SIZE
    t_emb_dim: int = T_EMB_DIM
    #: the window input is motion-compensated per patch (see contract.py)
    register_frames: bool = False
    #: the temporal median is one of the fill candidates under the matte
    median_candidate: bool = False
    #: only pixels on or beside the defect matte change; the rest are the centre frame
    keep_clean: bool = False
    #: keep_clean: a matte region is kept only if it holds a pixel this confident (a
    #: calibration of the trained weights, chosen on the validation sets)
    matte_seed: float = 0.9
    #: the picture under the matte: "select" (learned choice between the candidates) or
    #: "spatial" (the spatial fill alone); see denoiser.FILL_MODES
    fill: str = "select"
    #: keep_clean: the matte's dead zone, (0 below, 1 above); a calibration like matte_seed
    matte_ramp: tuple[float, float] = KEEP_CLEAN_RAMP
    #: a blotch network (model/blotch.py, graph ``blotch``) rides along; trained apart
    blotch: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        d = dict(d)
        for key in ("channels", "freq_levels", "matte_ramp"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    @property
    def dims(self) -> ModelDims:
        return ModelDims(radius=self.radius, n_tokens=self.token_grid**2,
                         token_dim=self.token_dim, thumb=self.thumb, t_emb_dim=self.t_emb_dim,
                         register_frames=self.register_frames, blotch=self.blotch)


PRESETS: dict[str, ModelConfig] = {
    # tests: well under 300k parameters
    "tiny": ModelConfig(preset="tiny", fusion_ch=12, channels=(16, 24, 32), blocks=1,
                        freq_levels=(1,), token_dim=32, context_width=24, cond_dim=48, heads=2),
    # the shipped default: trainable on CPU, a few M parameters
    "small": ModelConfig(preset="small", fusion_ch=16, channels=(24, 48, 96), blocks=2,
                         freq_levels=(1, 2), token_dim=64, context_width=48, cond_dim=128,
                         heads=4),
    # GPU training: 20-40 M parameters
    "base": ModelConfig(preset="base", fusion_ch=48, channels=(96, 192, 384), blocks=2,
                        freq_levels=(1, 2), token_dim=192, context_width=128, cond_dim=384,
                        heads=8),
}


class HaineiFRDM(nn.Module):
    """context(thumb) -> tokens; denoiser(x_t, window, guide, tokens, box, t_emb) -> x0;
    with ``config.blotch`` also blotch(window_q) -> offset."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        frames = 2 * config.radius + 1
        self.context_net = ContextEncoder(3 * frames, config.context_width, config.token_dim,
                                          config.thumb, config.token_grid)
        self.denoiser_net = Denoiser(DenoiserConfig(
            frames=frames, fusion_ch=config.fusion_ch, channels=config.channels,
            blocks=config.blocks, freq_levels=config.freq_levels, token_dim=config.token_dim,
            t_emb_dim=config.t_emb_dim, cond_dim=config.cond_dim, heads=config.heads,
            median_candidate=config.median_candidate, keep_clean=config.keep_clean,
            matte_seed=config.matte_seed, fill=config.fill,
            matte_ramp=config.matte_ramp))
        self.blotch_net = BlotchNet(frames) if config.blotch else None

    @property
    def dims(self) -> ModelDims:
        return self.config.dims

    @property
    def size_multiple(self) -> int:
        return self.denoiser_net.size_multiple

    def context(self, thumb: Tensor) -> Tensor:
        d = self.dims
        _check(thumb, "thumb", 4)
        if thumb.shape[1:] != (d.window_channels, d.thumb, d.thumb):
            raise ValueError(
                f"thumb must be [B, {d.window_channels}, {d.thumb}, {d.thumb}] "
                f"(2r+1={d.window_frames} RGB frames), got {list(thumb.shape)}")
        return self.context_net(thumb)

    def blotch(self, window_q: Tensor) -> Tensor:
        """window_q [B, 3(2r+1), h, w] (quarter size, h and w multiples of 8) -> the centre
        frame's blotch offset [B, 3, h, w] (see model/blotch.py)."""
        if self.blotch_net is None:
            raise ValueError("this model has no blotch network (config.blotch is off)")
        d = self.dims
        _check(window_q, "window_q", 4)
        if window_q.shape[1] != d.window_channels:
            raise ValueError(f"window_q must have {d.window_channels} channels "
                             f"({d.window_frames} RGB frames), got {window_q.shape[1]}")
        if window_q.shape[2] % BLOTCH_MULTIPLE or window_q.shape[3] % BLOTCH_MULTIPLE:
            raise ValueError(f"window_q's size {window_q.shape[2]}x{window_q.shape[3]} must be "
                             f"a multiple of {BLOTCH_MULTIPLE}")
        return self.blotch_net(window_q)

    def denoiser(self, x_t: Tensor, window: Tensor, guide: Tensor, tokens: Tensor, box: Tensor,
                 t_emb: Tensor) -> Tensor:
        self.check_denoiser_inputs(x_t, window, guide, tokens, box, t_emb)
        return self.denoiser_net(x_t, window, guide, tokens, box, t_emb)

    def check_denoiser_inputs(self, x_t: Tensor, window: Tensor, guide: Tensor, tokens: Tensor,
                              box: Tensor, t_emb: Tensor) -> None:
        d = self.dims
        for name, t, nd in (("x_t", x_t, 4), ("window", window, 4), ("guide", guide, 4),
                            ("tokens", tokens, 3), ("box", box, 2), ("t_emb", t_emb, 2)):
            _check(t, name, nd)
        b, _, h, w = x_t.shape
        if x_t.shape[1] != 3:
            raise ValueError(f"x_t must have 3 channels (RGB), got {x_t.shape[1]}")
        if guide.shape[1] != 3:
            raise ValueError(f"guide must have 3 channels (RGB), got {guide.shape[1]}")
        if window.shape[1] != d.window_channels:
            raise ValueError(f"window must have {d.window_channels} channels "
                             f"({d.window_frames} RGB frames), got {window.shape[1]}")
        for name, t in (("window", window), ("guide", guide)):
            if t.shape[0] != b or t.shape[2:] != (h, w):
                raise ValueError(f"{name} is {list(t.shape)} but x_t is {list(x_t.shape)}: "
                                 "batch and spatial size must match")
        m = self.size_multiple
        if h % m or w % m:
            raise ValueError(f"patch size {h}x{w} must be a multiple of {m}")
        if tokens.shape != (b, d.n_tokens, d.token_dim):
            raise ValueError(f"tokens must be [{b}, {d.n_tokens}, {d.token_dim}], "
                             f"got {list(tokens.shape)}")
        if box.shape != (b, 4):
            raise ValueError(f"box must be [{b}, 4], got {list(box.shape)}")
        if t_emb.shape != (b, d.t_emb_dim):
            raise ValueError(f"t_emb must be [{b}, {d.t_emb_dim}], got {list(t_emb.shape)}")
        dtypes = {t.dtype for t in (x_t, window, guide, tokens, box, t_emb)}
        if len(dtypes) != 1:
            raise ValueError(f"all inputs must share one dtype, got {sorted(map(str, dtypes))}")


def _check(t: Any, name: str, ndim: int) -> None:
    if not isinstance(t, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise ValueError(f"{name} must be floating point (float32/float16), got {t.dtype}")
    if t.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {list(t.shape)}")


def create_model(preset: str = "small", **overrides: Any) -> HaineiFRDM:
    """Build a freshly initialised network from a preset name (tiny, small, base)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    cfg = PRESETS[preset]
    if overrides:
        cfg = ModelConfig.from_dict({**cfg.to_dict(), **overrides})
    return HaineiFRDM(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["PRESETS", "HaineiFRDM", "ModelConfig", "count_parameters", "create_model", "torch"]
