"""Engine passes after the network: seconds per window at 1920x1080 on the CPU.

On a GPU the network's share of a frame shrinks and the passes that follow it (motion
veto, temporal fill, line-scratch pass, deflicker; all C++ on the CPU's threads) become
a large part of it. This times each on one 5-frame window of a moving synthetic scene
with every defect class, the restoration standing in for the network's being the
clean frame inside the defect mask and the degraded one elsewhere (what a network that
fixed every defect and nothing else would give). Median of --repeats runs; the last
line is one JSON object.

Usage: python benchmarks/pass_speed.py [--size 1920x1080] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from haineifrdm import _engine
from haineifrdm.data.degrade import DegradationConfig, synthesize
from haineifrdm.data.sources import EVAL_IMAGES, render_scene
from haineifrdm.evaluation import CLASSES, SCENES


def window(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """([5, h, w, 3] degraded window, [h, w, 3] stand-in restoration of its centre)."""
    rng = np.random.default_rng(3)
    clean = render_scene(rng, replace(SCENES["moving"], frames=5, height=h, width=w),
                         EVAL_IMAGES)
    res = synthesize(clean, DegradationConfig(seed=3, grain=0.02, **CLASSES["mixed"]))
    deg = np.ascontiguousarray(res.degraded, dtype=np.float32)
    inside = res.mask[2] > 0.05
    restored = np.where(inside[..., None], res.clean[2], deg[2]).astype(np.float32)
    return deg, restored


def seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", default="1920x1080", help="WxH")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    deg, restored = window(h, w)
    vetoed = _engine.motion_veto(deg, restored)[0]
    filled = _engine.temporal_fill(deg, vetoed)[0]
    result = {
        "size": f"{w}x{h}",
        "veto_s": seconds(lambda: _engine.motion_veto(deg, restored), args.repeats),
        "fill_s": seconds(lambda: _engine.temporal_fill(deg, vetoed), args.repeats),
        "scratch_s": seconds(lambda: _engine.remove_line_scratches(deg, filled), args.repeats),
        "deflicker_s": seconds(lambda: _engine.estimate_exposure(deg), args.repeats),
        "block_motion_s": seconds(lambda: _engine.block_motion(deg[2], deg[0]), args.repeats),
    }
    result["passes_s"] = sum(result[k] for k in ("veto_s", "fill_s", "scratch_s",
                                                 "deflicker_s"))
    for k, v in result.items():
        print(f"{k:16s} {v:.3f}" if isinstance(v, float) else f"{k:16s} {v}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
