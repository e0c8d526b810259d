"""Engine overhead: restore a 2048x1080 frame with the `small` model on the CPU.

overhead_pct = time outside the backend / total * 100 (patch extraction, blending,
resampling, noise, Python glue). Also reports extraction+blending throughput and
the peak host memory of a 4096x3112 frame (engine + model; with --quick the 4K
pass uses 1 step). The last line is one JSON object.

Usage: python benchmarks/engine_overhead.py [--quick] [--model default|PATH] [--backend torch]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource

import torch

from haineifrdm.benchmarking import time_frame
from haineifrdm.engine import Restorer
from haineifrdm.model import create_model


def _model(spec: str) -> object:
    if spec == "small-random":
        torch.manual_seed(0)
        return create_model("small")
    return spec


def frame_2k(spec: str, backend: str, steps: int) -> dict[str, float]:
    r = Restorer(model=_model(spec), backend=backend, patch=256, overlap=32, steps=steps)  # type: ignore[arg-type]
    return time_frame(r, 1080, 2048)


def _peak_4k(spec: str, backend: str, steps: int, q: mp.Queue) -> None:
    r = Restorer(model=_model(spec), backend=backend, patch=256, overlap=32, steps=steps)  # type: ignore[arg-type]
    t = time_frame(r, 3112, 4096)
    q.put({"peak_rss_mb_4k": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "total_s_4k": t["total_s"]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1 step instead of 4, same frame size")
    ap.add_argument("--model", default="default",
                    help="'default', a checkpoint, or small-random (untrained small)")
    ap.add_argument("--backend", default="torch")
    ap.add_argument("--skip-4k", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    steps = 1 if args.quick else 4
    t = frame_2k(args.model, args.backend, steps)
    outside = t["total_s"] - t["backend_s"]
    result = {"size": "2048x1080", "steps": steps, "backend": args.backend,
              "total_s": t["total_s"], "backend_s": t["backend_s"],
              "overhead_pct": t["overhead_pct"], "patches": t["patches"],
              "extract_blend_gb_s": t["bytes_moved"] / max(outside, 1e-9) / 1e9}
    if not args.skip_4k:
        ctx = mp.get_context("spawn")  # a fresh process: its peak RSS is the 4K frame's alone
        q: mp.Queue = ctx.Queue()
        p = ctx.Process(target=_peak_4k, args=(args.model, args.backend, 1, q))
        p.start()
        result.update(q.get())
        p.join()
    print(f"2K frame: total {result['total_s']:.1f} s, backend {result['backend_s']:.1f} s, "
          f"overhead {result['overhead_pct']:.2f} %")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
