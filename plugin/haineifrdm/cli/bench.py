"""``haineifrdm bench``: denoiser latency per batch, per-frame stage times, memory, FLOPs."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from .main import CLIError

BACKENDS = ("torch", "onnxruntime", "onnxruntime-cuda", "tensorrt")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="default", help="'default', a checkpoint or an export dir")
    p.add_argument("--backend", default="all", help=f"{' | '.join(BACKENDS)} | all")
    p.add_argument("--size", default="1920x1080", help="frame WxH for the per-frame timing")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--precision", choices=("fp32", "fp16"), default="fp32")
    p.add_argument("--patch", type=int, default=256)
    p.add_argument("--batches", default="1,2,4", help="batch sizes for the denoiser timing")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-frame", action="store_true", help="skip the full-frame timing")
    p.add_argument("--json", help="write every number here")


def _backends(name: str) -> list[str]:
    if name == "all":
        import onnxruntime as ort
        import torch

        found = ["torch", "onnxruntime"]
        if "CUDAExecutionProvider" in ort.get_available_providers():
            found.append("onnxruntime-cuda")
        try:
            import tensorrt  # noqa: F401

            if torch.cuda.is_available():
                found.append("tensorrt")
        except ImportError:
            pass
        return found
    if name not in BACKENDS:
        raise CLIError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)} or all")
    return [name]


def run(args: argparse.Namespace) -> int:
    from ..benchmarking import denoiser_flops, peak_rss_mb, peak_vram_mb, time_denoiser, time_frame
    from ..engine import Restorer
    from ..models import resolve_model
    from ..progress import ProgressBar

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError as exc:
        raise CLIError(f"bad --size/--batches: {exc}") from exc
    names = _backends(args.backend)
    try:
        resolved = resolve_model(args.model)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    if resolved.network is None:
        raise CLIError(f"{args.model} has no PyTorch weights (needed for FLOP counting)")
    export_dir = resolved.export_dir
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if export_dir is None and any(n != "torch" for n in names):
        from ..exporter.export import ExportError, export_model

        tmp = tempfile.TemporaryDirectory(prefix="haineifrdm-bench-")
        export_dir = Path(tmp.name) / "export"
        try:
            export_model(str(args.model), export_dir, args.patch, (1, max(batches)))
        except ExportError as exc:
            raise CLIError(str(exc)) from exc
    flops_call = denoiser_flops(resolved.network, args.patch)
    results: dict[str, Any] = {"size": [w, h], "steps": args.steps, "patch": args.patch,
                               "precision": args.precision, "flops_per_patch": flops_call,
                               "backends": {}}
    total_units = len(names) * (len(batches) + (0 if args.no_frame else 1))
    bar = ProgressBar(total_units, "tasks")
    done = 0
    bar.update(0)
    for name in names:
        model: Any = args.model if name == "torch" else export_dir
        try:
            restorer = Restorer(model=model, backend=name, patch=args.patch,
                                steps=args.steps, precision=args.precision, batch=max(batches))
        except ValueError as exc:
            raise CLIError(f"{name}: {exc}") from exc
        entry: dict[str, Any] = {"denoiser": []}
        for b in batches:
            entry["denoiser"].append(time_denoiser(restorer, b, args.repeats))
            done += 1
            bar.update(done, name)
        if not args.no_frame:
            frame = time_frame(restorer, h, w)
            calls = frame["patches"]
            frame["flops"] = flops_call * calls
            frame["tflops_per_s"] = frame["flops"] / frame["total_s"] / 1e12
            entry["frame"] = frame
            done += 1
            bar.update(done, name)
        entry["peak_rss_mb"] = peak_rss_mb()
        entry["peak_vram_mb"] = peak_vram_mb()
        results["backends"][name] = entry
    bar.close()
    if tmp is not None:
        tmp.cleanup()
    print(f"\ndenoiser at {args.patch}x{args.patch} ({flops_call / 1e9:.1f} GFLOP per patch), "
          f"{args.precision}")
    print(f"{'backend':<18}{'batch':>6}{'median ms':>11}{'p90 ms':>9}{'ms/patch':>10}")
    for name, e in results["backends"].items():
        for d in e["denoiser"]:
            print(f"{name:<18}{d['batch']:>6}{d['median_ms']:>11.1f}{d['p90_ms']:>9.1f}"
                  f"{d['per_patch_ms']:>10.1f}")
    if not args.no_frame:
        print(f"\nframe {w}x{h}, {args.steps} steps")
        print(f"{'backend':<18}{'stage1 s':>9}{'stage2 s':>9}{'total s':>9}{'fps':>7}"
              f"{'TFLOP/s':>9}{'RSS MB':>8}")
        for name, e in results["backends"].items():
            f = e["frame"]
            print(f"{name:<18}{f['stage1_s']:>9.2f}{f['stage2_s']:>9.2f}{f['total_s']:>9.2f}"
                  f"{f['fps']:>7.3f}{f['tflops_per_s']:>9.3f}{e['peak_rss_mb']:>8.0f}")
    base = results["backends"].get("torch")
    if base:
        for name, e in results["backends"].items():
            if name != "torch":
                ratio = base["denoiser"][0]["median_ms"] / e["denoiser"][0]["median_ms"]
                results.setdefault("speedup_vs_torch", {})[name] = ratio
                print(f"{name} vs torch (denoiser, batch {batches[0]}): {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(json.dumps(results))
    return 0
