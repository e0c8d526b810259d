"""TensorRT backend: runs the engines `haineifrdm export --tensorrt` built.

Buffers are CUDA tensors (PyTorch allocates them); execution uses the
TensorRT 10/11 name-based API (set_input_shape, set_tensor_address,
execute_async_v3) on the current PyTorch CUDA stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class TensorRTBackend:
    name = "tensorrt"
    #: no engine is built for the optional blotch graph (issue 6: TensorRT is not
    #: available to build or test one), so the engine's blotch pass does not run here
    has_blotch = False

    def __init__(self, directory: Path, manifest: dict[str, Any], precision: str = "fp32"
                 ) -> None:
        try:
            import tensorrt as trt
            import torch
        except ImportError as exc:
            raise ValueError("backend 'tensorrt' needs the tensorrt package") from exc
        if not torch.cuda.is_available():
            raise ValueError("backend 'tensorrt' needs a CUDA GPU; none is visible")
        section = manifest.get("tensorrt")
        if not section:
            raise ValueError(f"{directory} has no TensorRT engines (export with --tensorrt)")
        if section["tensorrt"] != trt.__version__:
            raise ValueError(f"engines were built with TensorRT {section['tensorrt']}, "
                             f"this is {trt.__version__}: export again")
        if torch.cuda.get_device_name(0) != section["gpu"]:
            raise ValueError(f"engines were built for {section['gpu']}; export again on "
                             f"{torch.cuda.get_device_name(0)}")
        key = f"denoiser_{precision}"
        if key not in section["engines"]:
            raise ValueError(f"{directory} has no {precision} TensorRT engine")
        self._torch = torch
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self._engines = {}
        self._contexts = {}
        for name, file in (("context", section["engines"]["context"]),
                           ("denoiser", section["engines"][key])):
            engine = runtime.deserialize_cuda_engine((directory / file).read_bytes())
            if engine is None:
                raise ValueError(f"TensorRT could not load {file}")
            self._engines[name] = engine
            self._contexts[name] = engine.create_execution_context()

    def _run(self, graph: str, feeds: dict[str, np.ndarray], out_name: str,
             out_shape: tuple[int, ...]) -> np.ndarray:
        torch = self._torch
        ctx = self._contexts[graph]
        keep = []
        for name, arr in feeds.items():
            t = torch.from_numpy(np.ascontiguousarray(arr)).cuda()
            keep.append(t)
            ctx.set_input_shape(name, tuple(t.shape))
            ctx.set_tensor_address(name, t.data_ptr())
        out = torch.empty(out_shape, dtype=torch.float32, device="cuda")
        ctx.set_tensor_address(out_name, out.data_ptr())
        stream = torch.cuda.current_stream()
        if not ctx.execute_async_v3(stream.cuda_stream):
            raise RuntimeError(f"TensorRT execution of {graph} failed")
        stream.synchronize()
        return out.cpu().numpy()

    def context(self, thumb: np.ndarray) -> np.ndarray:
        shape = tuple(self._engines["context"].get_tensor_shape("tokens"))
        return self._run("context", {"thumb": thumb}, "tokens", (1, *shape[1:]))

    def denoise(self, x_t: np.ndarray, window: np.ndarray, guide: np.ndarray,
                tokens: np.ndarray, box: np.ndarray, t_emb: np.ndarray) -> np.ndarray:
        feeds = {"x_t": x_t, "window": window, "guide": guide, "tokens": tokens, "box": box,
                 "t_emb": t_emb}
        return self._run("denoiser", feeds, "x0", x_t.shape)
