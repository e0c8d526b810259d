"""``Restorer``: the Python face of the C++ two-stage patch sampler.

    r = Restorer(model="default", backend="auto", patch=256, overlap=32, steps=4)
    frame = r.restore(window)        # window float32 [2r+1, H, W, 3] -> [H, W, 3]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import _engine
from ..model import HaineiFRDM
from ..models import ResolvedModel, resolve_model
from .backends import Backend, OnnxRuntimeBackend, TorchBackend

OUTPUTS = ("restored", "matte", "difference")
BACKENDS = ("auto", "torch", "onnxruntime", "onnxruntime-cuda", "tensorrt")
MATTE_SCALE = 0.08  # a change of this size (in image units) gives a full-strength matte

RestoreCancelled = _engine.RestoreCancelled


@dataclass
class RestoreResult:
    image: np.ndarray  # what `output` asked for, [H, W, 3] float32
    restored: np.ndarray  # full-strength restoration
    timings: dict[str, float]


def defect_matte(restored: np.ndarray, centre: np.ndarray, exposure_gain: float = 1.0
                 ) -> np.ndarray:
    """How much the restoration changed each pixel, [H, W] in [0, 1] (full at MATTE_SCALE),
    apart from the deflicker's exposure gain (else every corrected frame would show as a
    grey wash): the defect-matte view."""
    change = restored / np.float32(exposure_gain) - centre
    return np.clip(np.abs(change).max(axis=-1) / MATTE_SCALE, 0.0, 1.0).astype(np.float32)


def make_backend(name: str, resolved: ResolvedModel, device: str | None, precision: str,
                 threads: int) -> Backend:
    if name == "auto":
        name = "torch" if resolved.network is not None and resolved.export_dir is None \
            else "onnxruntime"
    if name == "torch":
        if resolved.network is None:
            raise ValueError(f"{resolved.source} has no PyTorch weights; use backend "
                             "'onnxruntime' or export with the checkpoint included")
        return TorchBackend(resolved.network, device, fp16=precision == "fp16")
    if name in ("onnxruntime", "onnxruntime-cuda"):
        if resolved.export_dir is None or resolved.manifest is None:
            raise ValueError(f"backend {name!r} runs exported models: export {resolved.source} "
                             "with `haineifrdm export` and pass the export directory")
        providers = (["CUDAExecutionProvider", "CPUExecutionProvider"]
                     if name == "onnxruntime-cuda" else ["CPUExecutionProvider"])
        return OnnxRuntimeBackend(resolved.export_dir, resolved.manifest, providers, precision,
                                  threads)
    if name == "tensorrt":
        from .tensorrt_backend import TensorRTBackend

        if resolved.export_dir is None or resolved.manifest is None:
            raise ValueError("backend 'tensorrt' runs exported models (haineifrdm export "
                             "--tensorrt)")
        return TensorRTBackend(resolved.export_dir, resolved.manifest, precision)
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def activation_maps(resolved: ResolvedModel) -> int:
    """Full-resolution float maps one patch's forward pass holds at its peak (measured on
    `small`: ~150 MB per 256x256 patch); dominated by the frame-fusion encoder and level 0."""
    cfg = resolved.network.config if resolved.network is not None else None
    if cfg is None and resolved.manifest is not None:
        from ..model import ModelConfig

        cfg = ModelConfig.from_dict(resolved.manifest["model"]["config"])
    if cfg is None:
        return 600
    return 3 * (2 * cfg.radius + 1) * cfg.fusion_ch + 12 * cfg.channels[0]


class Restorer:
    """Restores the centre frame of a temporal window with the two-stage patch sampler.

    ``motion_veto`` (default on) runs the engine's pass after the network, which gives
    back changed pixels whose content an adjacent frame shows displaced (motion_veto.hpp);
    ``temporal_fill`` (default on) refills each remaining defect from the other frames
    that show its place, found by motion, and fills the specks the network left that
    no other frame shows (temporal_fill.hpp); ``line_scratch`` (default
    on) then solves persistent vertical scratches out of the
    degraded centre frame (line_scratch.hpp); ``blotch`` (default on; models with a
    blotch graph, on backends that run it) subtracts the blotch network's offset from
    the pixels left as they came (blotch.hpp); ``deflicker`` (default on) last scales the
    result to the window's mean exposure (deflicker.hpp).
    """

    def __init__(self, model: str | Path | HaineiFRDM = "default", backend: str = "auto",
                 patch: int = 256, overlap: int | None = None, steps: int = 4, seed: int = 0,
                 radius: int | None = None, lowres: int | None = None, two_stage: bool = True,
                 batch: int | None = None, memory_budget: int = 512 << 20,
                 device: str | None = None, precision: str = "fp32", threads: int = 0,
                 motion_veto: bool = True, temporal_fill: bool = True,
                 line_scratch: bool = True, blotch: bool = True, deflicker: bool = True
                 ) -> None:
        if precision not in ("fp32", "fp16"):
            raise ValueError(f"precision must be fp32 or fp16, got {precision!r}")
        self.resolved = resolve_model(model, device or "cpu")
        dims = self.resolved.dims
        self.model_radius = dims.radius
        self.radius = dims.radius if radius is None else int(radius)
        if not 0 <= self.radius <= dims.radius:
            raise ValueError(f"radius must be in 0..{dims.radius} for this model, got {radius}")
        m = self.resolved.size_multiple
        if overlap is None:  # default: 32 px, at most a quarter of the patch
            overlap = min(32, patch // 4)
        if patch <= 0 or patch % m:
            raise ValueError(f"patch must be a positive multiple of {m}, got {patch}")
        if not 0 <= overlap < patch:
            raise ValueError(f"overlap must be in [0, patch), got {overlap}")
        manifest = self.resolved.manifest
        if manifest is not None and int(manifest["patch"]) != patch:
            raise ValueError(f"this export was built for patch {manifest['patch']}, got {patch}")
        schedule = self.resolved.schedule
        self.timesteps = schedule.timesteps(steps)
        self.steps, self.seed, self.patch, self.overlap = steps, seed, patch, overlap
        self.backend = make_backend(backend, self.resolved, device, precision, threads)
        max_batch = int(manifest["batch_range"][1]) if manifest else 8
        self.batch = batch or _engine.plan_batch(patch, dims.window_channels, memory_budget,
                                                 max_batch, activation_maps(self.resolved))
        self._sampler = _engine.Sampler(
            self.backend, radius=dims.radius, thumb=dims.thumb, n_tokens=dims.n_tokens,
            token_dim=dims.token_dim, t_emb_dim=dims.t_emb_dim, size_multiple=m, patch=patch,
            overlap=overlap, lowres=lowres or 0, two_stage=two_stage,
            register_frames=dims.register_frames, motion_veto=motion_veto,
            temporal_fill=temporal_fill, line_scratch=line_scratch, deflicker=deflicker,
            blotch=blotch,
            timesteps=self.timesteps,
            etas=list(schedule.etas), kappa=schedule.kappa, seed=seed, batch=self.batch,
            threads=threads)
        self.last_timings: dict[str, float] = {}

    @property
    def window_size(self) -> int:
        """Frames per window: 2r + 1."""
        return 2 * self.radius + 1

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def _full_window(self, window: np.ndarray) -> np.ndarray:
        """Pad a 2r+1 window to the model's 2R+1 frames by repeating the end frames."""
        extra = self.model_radius - self.radius
        if extra == 0:
            return window
        idx = np.clip(np.arange(-extra, self.window_size + extra), 0, self.window_size - 1)
        return np.ascontiguousarray(window[idx])

    def check_window(self, window: Any) -> np.ndarray:
        if not isinstance(window, np.ndarray):
            raise ValueError(f"window must be a NumPy array, got {type(window).__name__}")
        if not np.issubdtype(window.dtype, np.floating):
            raise ValueError(f"window must be float32, got {window.dtype}")
        if window.ndim != 4 or window.shape[0] != self.window_size or window.shape[3] != 3:
            raise ValueError(f"window must be [{self.window_size}, H, W, 3], "
                             f"got {list(window.shape)}")
        if window.shape[1] < 1 or window.shape[2] < 1:
            raise ValueError(f"window frames are empty: {list(window.shape)}")
        finite = np.isfinite(window).reshape(window.shape[0], -1).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"window frame {bad} (offset {bad - self.radius:+d} from the centre) "
                             "contains NaN or Inf")
        return np.ascontiguousarray(window, dtype=np.float32)

    def restore(self, window: np.ndarray, frame_index: int = 0, strength: float = 1.0,
                output: str = "restored", progress: Callable[[float], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        """Restored centre frame [H, W, 3] (or its matte/difference; see :meth:`run`)."""
        return self.run(window, frame_index, strength, output, progress, cancelled).image

    def run(self, window: np.ndarray, frame_index: int = 0, strength: float = 1.0,
            output: str = "restored", progress: Callable[[float], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> RestoreResult:
        """Restore and compose an output.

        ``output``: ``restored`` (input + strength * change), ``matte`` (how much the
        restoration changed each pixel apart from the deflicker's exposure gain, [0, 1]
        grey, for QC) or ``difference``
        (restored - input, signed). ``frame_index`` keys the noise field.
        """
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        w = self.check_window(window)
        centre = w[self.radius]
        if strength == 0.0 and output == "restored":
            self.last_timings = {"total_s": 0.0, "backend_s": 0.0}
            return RestoreResult(centre.copy(), centre.copy(), self.last_timings)
        restored = self._sampler.restore(self._full_window(w), frame_index, progress, cancelled)
        self.last_timings = dict(self._sampler.timings)
        change = restored - centre
        if output == "restored":
            image = restored if strength == 1.0 else centre + np.float32(strength) * change
        elif output == "matte":
            m = defect_matte(restored, centre, self.last_timings.get("exposure_gain", 1.0))
            image = np.repeat(m[..., None], 3, axis=-1)
        else:
            image = change
        return RestoreResult(image.astype(np.float32, copy=False), restored, self.last_timings)
