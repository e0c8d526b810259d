"""Latency, throughput and memory measurements shared by `haineifrdm bench` and benchmarks/."""

from __future__ import annotations

import resource
import statistics
import time
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from .diffusion import embed_timestep
from .engine import Restorer
from .model import HaineiFRDM


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_vram_mb() -> float | None:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / (1 << 20)
    return None


def denoiser_inputs(restorer: Restorer, batch: int) -> dict[str, np.ndarray]:
    d = restorer.resolved.dims
    p = restorer.patch
    rng = np.random.default_rng(0)
    return {
        "x_t": rng.random((batch, 3, p, p), dtype=np.float32),
        "window": rng.random((batch, d.window_channels, p, p), dtype=np.float32),
        "guide": rng.random((batch, 3, p, p), dtype=np.float32),
        "tokens": rng.standard_normal((batch, d.n_tokens, d.token_dim)).astype(np.float32),
        "box": np.tile(np.array([[0.0, 0.0, 0.25, 0.25]], np.float32), (batch, 1)),
        "t_emb": embed_timestep(0.5, 2, batch=batch).numpy(),
    }


def time_denoiser(restorer: Restorer, batch: int, repeats: int) -> dict[str, float]:
    """Median and p90 latency of one backend denoiser call at ``batch`` (after a warm-up)."""
    feed = denoiser_inputs(restorer, batch)
    be = restorer.backend
    be.denoise(**feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        be.denoise(**feed)
        times.append(time.perf_counter() - t0)
    times.sort()
    p90 = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
    return {"batch": batch, "median_ms": 1e3 * statistics.median(times), "p90_ms": 1e3 * p90,
            "per_patch_ms": 1e3 * statistics.median(times) / batch}


def denoiser_flops(net: HaineiFRDM, patch: int) -> float:
    d = net.dims
    dev = next(net.parameters()).device
    x = torch.rand(1, 3, patch, patch, device=dev)
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        net.denoiser(x, torch.rand(1, d.window_channels, patch, patch, device=dev), x,
                     torch.rand(1, d.n_tokens, d.token_dim, device=dev),
                     torch.tensor([[0.0, 0, 1, 1]], device=dev),
                     embed_timestep(0.5, 2, batch=1).to(dev))
    return float(fc.get_total_flops())


def time_frame(restorer: Restorer, height: int, width: int, repeats: int = 1
               ) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    window = rng.random((restorer.window_size, height, width, 3), dtype=np.float32)
    runs = []
    for _ in range(repeats):
        restorer.restore(window)
        runs.append(dict(restorer.last_timings))
    best = min(runs, key=lambda t: t["total_s"])
    total = best["total_s"]
    return {"total_s": total, "stage1_s": best["stage1_s"], "stage2_s": total - best["stage1_s"],
            "backend_s": best["backend_s"], "register_s": best.get("register_s", 0.0),
            "veto_s": best.get("veto_s", 0.0), "fill_s": best.get("fill_s", 0.0),
            "scratch_s": best.get("scratch_s", 0.0),
            "deflicker_s": best.get("deflicker_s", 0.0),
            "fps": 1.0 / total if total > 0 else float("inf"),
            "denoise_calls": best["denoise_calls"], "patches": best["patches"],
            "overhead_pct": 100.0 * (total - best["backend_s"]) / total if total > 0 else 0.0,
            "bytes_moved": best["bytes_moved"]}
