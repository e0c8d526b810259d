"""TensorRT engines from the exported ONNX graphs (official Python API, TensorRT 10 and 11).

TensorRT 11 removed the FP16 builder flag and builds strongly typed networks:
FP16 then comes from ``denoiser.fp16.onnx``. On TensorRT 10 the FP32 graph is
built with the FP16 flag when FP16 is asked for. Engines are cached by GPU
name, compute capability, TensorRT version, model hash and shape; the timing
cache persists beside them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


class TensorRTUnavailable(RuntimeError):
    """TensorRT (or a CUDA GPU) is not there: a one-line reason."""


def tensorrt_module() -> Any:
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise TensorRTUnavailable("TensorRT is not installed (pip install tensorrt); "
                                  "ONNX files were not written either") from exc
    return trt


def gpu_identity() -> tuple[str, str]:
    import torch

    if not torch.cuda.is_available():
        raise TensorRTUnavailable("TensorRT engines need a CUDA GPU; none is visible")
    major, minor = torch.cuda.get_device_capability(0)
    return torch.cuda.get_device_name(0), f"sm{major}{minor}"


def engine_key(gpu: str, cc: str, trt_version: str, model_hash: str, shape: str,
               precision: str) -> str:
    raw = "|".join([gpu, cc, trt_version, model_hash, shape, precision])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def build_engine(onnx_path: Path, engine_path: Path, cache_path: Path, profiles: dict[str, tuple],
                 fp16: bool, workspace_gb: float = 8.0) -> None:
    """Parse ``onnx_path`` and write a serialized engine; ``profiles``: input -> (min, opt, max)."""
    trt = tensorrt_module()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    strongly_typed = not hasattr(trt.BuilderFlag, "FP16")  # TensorRT 11+
    if strongly_typed and hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED"):
        flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path.name}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gb * (1 << 30)))
    if fp16 and not strongly_typed:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for name, (lo, opt, hi) in profiles.items():
        profile.set_shape(name, lo, opt, hi)
    config.add_optimization_profile(profile)
    cache = config.create_timing_cache(cache_path.read_bytes() if cache_path.is_file() else b"")
    config.set_timing_cache(cache, ignore_mismatch=False)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine for {onnx_path.name}")
    engine_path.write_bytes(bytes(serialized))
    cache_path.write_bytes(bytes(config.get_timing_cache().serialize()))


def build_engines(out_dir: Path, manifest: dict[str, Any], precisions: list[str]
                  ) -> dict[str, Any]:
    """Build context + denoiser engines for each precision; returns the manifest section."""
    trt = tensorrt_module()
    gpu, cc = gpu_identity()
    contract = manifest["contract"]
    p = int(manifest["patch"])
    lo, hi = manifest["batch_range"]
    opt = max(lo, min(hi, 4))
    wc = 3 * int(contract["window_frames"])
    nt, td, te = contract["n_tokens"], contract["token_dim"], contract["t_emb_dim"]
    per_image = {"x_t": (3, p, p), "window": (wc, p, p), "guide": (3, p, p), "tokens": (nt, td),
                 "box": (4,), "t_emb": (te,)}
    profiles = {k: ((lo, *s), (opt, *s), (hi, *s)) for k, s in per_image.items()}
    thumb = (wc, contract["thumb_size"], contract["thumb_size"])
    cache = out_dir / "timing.cache"
    section: dict[str, Any] = {"gpu": gpu, "compute_capability": cc,
                               "tensorrt": trt.__version__, "engines": {}}
    ctx_key = engine_key(gpu, cc, trt.__version__, manifest["model"]["hash"], "context", "fp32")
    ctx_file = f"context.{ctx_key}.engine"
    build_engine(out_dir / manifest["files"]["context"], out_dir / ctx_file, cache,
                 {"thumb": ((1, *thumb), (1, *thumb), (1, *thumb))}, fp16=False)
    section["engines"]["context"] = ctx_file
    for prec in precisions:
        key = engine_key(gpu, cc, trt.__version__, manifest["model"]["hash"],
                         f"{p}x{p}:b{lo}-{hi}", prec)
        src = manifest["files"]["denoiser_fp16" if prec == "fp16" and
                                "denoiser_fp16" in manifest["files"] else "denoiser"]
        name = f"denoiser.{prec}.{key}.engine"
        build_engine(out_dir / src, out_dir / name, cache, profiles, fp16=prec == "fp16")
        section["engines"][f"denoiser_{prec}"] = name
    section["timing_cache"] = cache.name
    return section
