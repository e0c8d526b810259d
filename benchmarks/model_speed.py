"""Forward latency of the denoiser at 256x256 per preset on CPU, and GFLOPs per megapixel.

Usage: python benchmarks/model_speed.py [--size 256] [--repeats 5] [--threads 2] [--keep-clean]
(``--keep-clean``: the output form of the shipped default model, matte gate and hysteresis)
Prints a table and, as the last line, one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from haineifrdm.diffusion import embed_timestep
from haineifrdm.model import count_parameters, create_model


def measure(preset: str, size: int, repeats: int, keep_clean: bool = False
            ) -> dict[str, float]:
    torch.manual_seed(0)
    model = create_model(preset, keep_clean=keep_clean).eval()
    d = model.dims
    x = torch.rand(1, 3, size, size)
    window = torch.rand(1, d.window_channels, size, size)
    thumb = torch.rand(1, d.window_channels, d.thumb, d.thumb)
    box = torch.tensor([[0.0, 0.0, 0.5, 0.5]])
    t_emb = embed_timestep(0.5, 2, batch=1)
    with torch.inference_mode():
        tokens = model.context(thumb)
        with FlopCounterMode(display=False) as fc:
            model.denoiser(x, window, x, tokens, box, t_emb)
        flops = fc.get_total_flops()
        with FlopCounterMode(display=False) as fc_ctx:
            model.context(thumb)
        model.denoiser(x, window, x, tokens, box, t_emb)  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.denoiser(x, window, x, tokens, box, t_emb)
            times.append(time.perf_counter() - t0)
    mp = size * size / 1e6
    return {
        "params_m": count_parameters(model) / 1e6,
        "latency_ms": 1e3 * statistics.median(times),
        "gflops_per_call": flops / 1e9,
        "gflops_per_mp": flops / 1e9 / mp,
        "context_gflops": fc_ctx.get_total_flops() / 1e9,
        "achieved_gflops_s": flops / 1e9 / statistics.median(times),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--presets", default="tiny,small,base")
    ap.add_argument("--keep-clean", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = {p: measure(p, args.size, args.repeats, args.keep_clean)
               for p in args.presets.split(",")}
    form = ", keep_clean" if args.keep_clean else ""
    print(f"denoiser forward at {args.size}x{args.size}, CPU, {args.threads} threads{form}")
    print(f"{'preset':<8}{'params M':>10}{'ms':>10}{'GFLOP/MP':>10}{'GFLOP/s':>10}")
    for p, r in results.items():
        print(f"{p:<8}{r['params_m']:>10.2f}{r['latency_ms']:>10.1f}{r['gflops_per_mp']:>10.1f}"
              f"{r['achieved_gflops_s']:>10.1f}")
    print(json.dumps({"size": args.size, "threads": args.threads, "torch": torch.__version__,
                      "keep_clean": args.keep_clean, "results": results}))


if __name__ == "__main__":
    main()
