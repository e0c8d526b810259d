"""Whole-frame restore on a CUDA GPU with the PyTorch backend: 2K and 4K, FP32 and FP16.

Usage: python benchmarks/gpu_restore.py [--model default] [--steps 4] [--json out.json]

For each variant (FP32, FP16 autocast, FP16 + channels-last) and each size
(2048x1080, 4096x3112): seconds per frame (best of ``--repeats`` after a warm-up),
stage split, share of time inside the backend, peak VRAM (torch allocator) and the
denoiser's latency per batch. Targets (issue: exporter/bench): 2K, 4 steps, `small`
<= 0.25 s per frame; 4K peak VRAM <= 8 GB. Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any

import torch

from haineifrdm.benchmarking import denoiser_flops, time_denoiser, time_frame
from haineifrdm.engine import Restorer

SIZES = ((2048, 1080), (4096, 3112))
VARIANTS = (("fp32", False), ("fp16", False), ("fp16", True))


def measure(model: str, precision: str, channels_last: bool, steps: int, batch: int,
            repeats: int, device: str, sizes: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    r = Restorer(model=model, backend="torch", device=device, precision=precision, steps=steps,
                 batch=batch)
    cuda = device == "cuda"
    net = r.backend.model  # type: ignore[attr-defined]
    if channels_last:
        net.to(memory_format=torch.channels_last)
    flops = denoiser_flops(r.resolved.network, r.patch) if r.resolved.network else 0.0
    out: dict[str, Any] = {"precision": precision, "channels_last": channels_last,
                           "batch": r.batch, "denoiser": [time_denoiser(r, b, 10)
                                                          for b in (1, r.batch)]}
    for w, h in sizes:
        time_frame(r, h, w)  # warm-up: cuDNN autotuning, allocator growth
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        f = time_frame(r, h, w, repeats)
        f["peak_vram_mb"] = torch.cuda.max_memory_allocated() / (1 << 20) if cuda else 0.0
        f["peak_vram_reserved_mb"] = (torch.cuda.max_memory_reserved() / (1 << 20)
                                      if cuda else 0.0)
        f["tflops_per_s"] = flops * f["patches"] / f["total_s"] / 1e12
        out[f"{w}x{h}"] = f
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--device", default="cuda", help="cuda (the point), or cpu to try it out")
    ap.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES))
    args = ap.parse_args()
    sizes = tuple((int(a), int(b)) for a, b in (s.split("x") for s in args.sizes.split(",")))
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_restore: no CUDA device here")
    torch.backends.cudnn.benchmark = True
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    result: dict[str, Any] = {"gpu": gpu, "torch": torch.__version__,
                              "python": platform.python_version(), "steps": args.steps,
                              "variants": []}
    for precision, cl in VARIANTS:
        t0 = time.time()
        v = measure(args.model, precision, cl, args.steps, args.batch, args.repeats,
                    args.device, sizes)
        v["wall_s"] = time.time() - t0
        result["variants"].append(v)
        print(f"{precision}{' channels-last' if cl else ''}: " + ", ".join(
            f"{w}x{h} {v[f'{w}x{h}']['total_s']:.3f} s/frame "
            f"(backend {100 - v[f'{w}x{h}']['overhead_pct']:.0f} %, "
            f"VRAM {v[f'{w}x{h}']['peak_vram_mb']:.0f} MB)" for w, h in sizes), flush=True)
        if args.json:  # after every variant: a cut-short run still leaves its numbers
            with open(args.json, "w") as fh:
                json.dump(result, fh, indent=1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
