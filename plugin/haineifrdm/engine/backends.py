"""Backends the C++ sampler drives, all behind one duck-typed interface.

A backend has ``context(thumb) -> tokens`` and
``denoise(x_t, window, guide, tokens, box, t_emb) -> x0`` over float32 NumPy
arrays shaped as in :mod:`haineifrdm.contract`, and ``has_blotch``: when true,
also ``blotch(window_q) -> offset`` (the optional ``blotch`` graph). The arrays it receives are
views of engine buffers, valid only during the call. ONNX Runtime and TensorRT
sessions live here on the Python side because their C/C++ headers are not
available from the package registries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from ..model import HaineiFRDM


class Backend(Protocol):
    name: str
    has_blotch: bool

    def context(self, thumb: np.ndarray) -> np.ndarray: ...

    def denoise(self, x_t: np.ndarray, window: np.ndarray, guide: np.ndarray,
                tokens: np.ndarray, box: np.ndarray, t_emb: np.ndarray) -> np.ndarray: ...


class TorchBackend:
    """A PyTorch module on CPU or CUDA (FP32, or FP16 autocast on CUDA)."""

    name = "torch"

    def __init__(self, model: HaineiFRDM, device: str | torch.device | None = None,
                 fp16: bool = False) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.fp16 = fp16 and self.device.type == "cuda"
        self.has_blotch = model.blotch_net is not None

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(self.device, non_blocking=True)

    def context(self, thumb: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), torch.autocast(self.device.type, torch.float16,
                                                    enabled=self.fp16):
            out = self.model.context(self._t(thumb))
        return out.float().cpu().numpy()

    def denoise(self, x_t: np.ndarray, window: np.ndarray, guide: np.ndarray,
                tokens: np.ndarray, box: np.ndarray, t_emb: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), torch.autocast(self.device.type, torch.float16,
                                                    enabled=self.fp16):
            out = self.model.denoiser(self._t(x_t), self._t(window), self._t(guide),
                                      self._t(tokens), self._t(box), self._t(t_emb))
        return out.float().cpu().numpy()

    def blotch(self, window_q: np.ndarray) -> np.ndarray:
        with torch.inference_mode():  # FP32: a small graph, and offsets of 0.01 matter
            out = self.model.blotch(self._t(window_q))
        return out.float().cpu().numpy()


class OnnxRuntimeBackend:
    """ONNX Runtime sessions over an exported model directory (see the exporter)."""

    name = "onnxruntime"

    def __init__(self, directory: str | Path, manifest: dict[str, Any],
                 providers: list[str] | None = None, precision: str = "fp32",
                 threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ValueError("backend 'onnxruntime' needs the onnxruntime package "
                             "(pip install onnxruntime)") from exc
        directory = Path(directory)
        files = manifest["files"]
        key = "denoiser_fp16" if precision == "fp16" else "denoiser"
        if key not in files:
            raise ValueError(f"{directory} has no {precision} denoiser graph")
        available = ort.get_available_providers()
        want = providers or ["CPUExecutionProvider"]
        missing = [p for p in want if p not in available]
        if missing:
            raise ValueError(f"ONNX Runtime provider(s) {missing} not available here "
                             f"(available: {available})")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # one intra-op thread per logical core (ORT's own default counts physical cores,
        # which leaves half of a small VM idle); no spinning between calls, so the
        # engine's extraction/blending threads get the cores back at once
        opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.context_session = ort.InferenceSession(str(directory / files["context"]), opts,
                                                        providers=want)
            self.denoiser_session = ort.InferenceSession(str(directory / files[key]), opts,
                                                         providers=want)
            self.blotch_session = (ort.InferenceSession(str(directory / files["blotch"]), opts,
                                                        providers=want)
                                   if "blotch" in files else None)
        except Exception as exc:  # ORT raises its own types for corrupt/missing graphs
            raise ValueError(f"ONNX Runtime cannot load the graphs in {directory}: "
                             f"{str(exc).splitlines()[0]}") from exc
        self.providers = want
        self.has_blotch = self.blotch_session is not None

    def context(self, thumb: np.ndarray) -> np.ndarray:
        out = self.context_session.run(["tokens"], {"thumb": thumb})[0]
        return np.asarray(out, dtype=np.float32)

    def denoise(self, x_t: np.ndarray, window: np.ndarray, guide: np.ndarray,
                tokens: np.ndarray, box: np.ndarray, t_emb: np.ndarray) -> np.ndarray:
        feeds = {"x_t": x_t, "window": window, "guide": guide, "tokens": tokens, "box": box,
                 "t_emb": t_emb}
        out = self.denoiser_session.run(["x0"], feeds)[0]
        return np.asarray(out, dtype=np.float32)

    def blotch(self, window_q: np.ndarray) -> np.ndarray:
        if self.blotch_session is None:
            raise ValueError("this export has no blotch graph")
        out = self.blotch_session.run(["offset"], {"window_q": window_q})[0]
        return np.asarray(out, dtype=np.float32)
