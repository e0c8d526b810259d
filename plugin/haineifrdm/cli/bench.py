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


def _measure(args: argparse.Namespace, name: str, model: Any, flops_call: float, w: int, h: int,
             batches: list[int]) -> dict[str, Any]:
    """Every number for one backend, in this process."""
    from ..benchmarking import peak_rss_mb, peak_vram_mb, time_denoiser, time_frame
    from ..engine import Restorer
    from ..progress import ProgressBar

    try:
        restorer = Restorer(model=model, backend=name, patch=args.patch, steps=args.steps,
                            precision=args.precision, batch=max(batches))
    except ValueError as exc:
        raise CLIError(f"{name}: {exc}") from exc
    bar = ProgressBar(len(batches) + (0 if args.no_frame else 1), "tasks")
    bar.update(0, name)
    entry: dict[str, Any] = {"denoiser": []}
    for i, b in enumerate(batches):
        entry["denoiser"].append(time_denoiser(restorer, b, args.repeats))
        bar.update(i + 1, name)
    if not args.no_frame:
        frame = time_frame(restorer, h, w)
        frame["flops"] = flops_call * frame["patches"]
        frame["tflops_per_s"] = frame["flops"] / frame["total_s"] / 1e12
        entry["frame"] = frame
        bar.update(len(batches) + 1, name)
    bar.close()
    entry["peak_rss_mb"] = peak_rss_mb()
    entry["peak_vram_mb"] = peak_vram_mb()
    return {"size": [w, h], "steps": args.steps, "patch": args.patch,
            "precision": args.precision, "flops_per_patch": flops_call,
            "backends": {name: entry}}


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


def _in_subprocesses(args: argparse.Namespace, names: list[str], model_for: dict[str, str]
                     ) -> dict[str, Any]:
    """One fresh process per backend: runtimes' spinning worker threads (OpenMP for torch,
    ORT's pool) would otherwise slow whichever backend runs next in the same process."""
    import subprocess
    import sys

    merged: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="haineifrdm-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, "-m", "haineifrdm.cli.main", "bench", "--model",
                   model_for[name], "--backend", name, "--size", args.size, "--steps",
                   str(args.steps), "--precision", args.precision, "--patch", str(args.patch),
                   "--batches", args.batches, "--repeats", str(args.repeats), "--json", str(out)]
            if args.no_frame:
                cmd.append("--no-frame")
            proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
            if proc.returncode != 0:
                raise CLIError(f"{name}: {proc.stderr.strip().splitlines()[-1]}")
            part = json.loads(out.read_text())
            merged = {**part, "backends": {**merged.get("backends", {}), **part["backends"]}}
    return merged


def run(args: argparse.Namespace) -> int:
    from ..benchmarking import denoiser_flops
    from ..models import resolve_model

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
    if len(names) > 1:
        model_for = {n: str(args.model if n == "torch" else export_dir) for n in names}
        results = _in_subprocesses(args, names, model_for)
    else:
        results = _measure(args, names[0], args.model if names[0] == "torch" else export_dir,
                           flops_call, w, h, batches)
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
              f"{'TFLOP/s':>9}{'RSS MB':>8}{'motion s':>9}{'veto s':>8}{'fill s':>8}"
              f"{'scratch s':>10}"
              f"{'deflicker s':>12}")
        for name, e in results["backends"].items():
            f = e["frame"]
            print(f"{name:<18}{f['stage1_s']:>9.2f}{f['stage2_s']:>9.2f}{f['total_s']:>9.2f}"
                  f"{f['fps']:>7.3f}{f['tflops_per_s']:>9.3f}{e['peak_rss_mb']:>8.0f}"
                  f"{f['register_s']:>9.2f}{f['veto_s']:>8.2f}{f['fill_s']:>8.2f}"
                  f"{f['scratch_s']:>10.2f}"
                  f"{f['deflicker_s']:>12.2f}")
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
