"""``haineifrdm export``: checkpoint -> validated ONNX (FP32/FP16) [+ TensorRT] + manifest.

Everything is written into a temporary sibling folder and renamed into place at
the end, so a failure never leaves a half-written export behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import onnx

from haineifrdm.diffusion import Schedule
from haineifrdm.io.frames import umask_mode
from haineifrdm.model import HaineiFRDM, save_model
from haineifrdm.models import resolve_model

from .manifest import MANIFEST_NAME, build_manifest
from .onnx_export import OPSET, export_graphs
from .trt_ops import check_graph
from .validate import checks_json, validate_export

PRECISIONS = ("fp32", "fp16")


class ExportError(Exception):
    """A one-line, user-facing reason the export did not happen."""


def load_checkpoint(spec: str) -> HaineiFRDM:
    try:
        resolved = resolve_model(spec)
    except (ValueError, FileNotFoundError) as exc:
        raise ExportError(str(exc)) from exc
    if resolved.network is None:
        raise ExportError(f"{spec} holds no PyTorch weights to export")
    return resolved.network


def export_model(checkpoint: str, out: str | Path, patch: int = 256,
                 batch_range: tuple[int, int] = (1, 8), precisions: tuple[str, ...] = PRECISIONS,
                 tensorrt: bool = False) -> dict[str, Any]:
    out = Path(out)
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad or not precisions:
        raise ExportError(f"unsupported precision {bad or precisions}; choose from fp32, fp16")
    if "fp32" not in precisions:
        precisions = ("fp32", *precisions)  # the FP32 graph is the reference, always written
    lo, hi = batch_range
    if not 1 <= lo <= hi <= 64:
        raise ExportError(f"batch range must satisfy 1 <= min <= max <= 64, got {lo}-{hi}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not empty; choose a new folder")
    if tensorrt:  # fail before doing any work
        from .tensorrt_build import TensorRTUnavailable, gpu_identity, tensorrt_module

        try:
            tensorrt_module()
            gpu_identity()
        except TensorRTUnavailable as exc:
            raise ExportError(str(exc)) from exc
    net = load_checkpoint(checkpoint)
    if patch % net.size_multiple:
        raise ExportError(f"patch {patch} must be a multiple of {net.size_multiple}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = export_graphs(net, tmp, patch, fp16="fp16" in precisions)
        save_model(net, tmp / "model.safetensors")
        files["weights"] = "model.safetensors"
        checks = validate_export(net, tmp, files, patch)
        trt_problems = {k: check_graph(onnx.load(str(tmp / v)))
                        for k, v in files.items() if v.endswith(".onnx")}
        manifest = build_manifest(net, Schedule.from_config(), patch, (lo, hi),
                                  files=files, opset=OPSET, precisions=list(precisions),
                                  validation=checks_json(checks),
                                  tensorrt_static_check={k: v or "ok"
                                                         for k, v in trt_problems.items()})
        failed = [c for c in checks if not c.ok]
        if failed:
            c = failed[0]
            raise ExportError(f"validation failed: {c.graph} ({c.precision}, {c.inputs} inputs) "
                              f"relative error {c.max_rel:.2e} > {c.tolerance:.0e}")
        problems = [f"{k}: {p}" for k, v in trt_problems.items() for p in v]
        if problems:
            raise ExportError("graph is not TensorRT-compatible: " + "; ".join(problems[:3]))
        if tensorrt:
            from .tensorrt_build import build_engines

            manifest["tensorrt"] = build_engines(tmp, manifest, list(precisions))
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
        tmp.chmod(umask_mode(0o777))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except ExportError:
        raise
    except Exception as exc:  # any other failure: one line, nothing left behind
        raise ExportError(f"export failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return manifest
