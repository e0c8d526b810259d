"""Training-sample throughput: 256x256 crops with 5-frame windows on the CPU.

Builds a small pack (or uses --pack), then draws samples through a DataLoader
with 0 and 2 workers. Target: >= 20 samples/s on 2 cores. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from haineifrdm.data.dataset import RestorationDataset
from haineifrdm.data.pack import Pack, PackConfig, build_pack
from haineifrdm.data.templates import TemplateLibrary


def rate(ds: RestorationDataset, workers: int, n: int) -> float:
    loader = DataLoader(ds, batch_size=8, num_workers=workers)
    it = iter(loader)
    next(it)  # warm-up (worker start)
    t0 = time.perf_counter()
    got = 0
    for batch in it:
        got += batch["target"].shape[0]
        if got >= n:
            break
    return got / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pack", help="existing pack folder (default: build 8 clips)")
    ap.add_argument("--damage-templates")
    ap.add_argument("--samples", type=int, default=400)
    args = ap.parse_args()
    torch.set_num_threads(2)
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.pack) if args.pack else Path(tmp) / "pack"
        if not args.pack:
            lib = TemplateLibrary.scan(args.damage_templates) if args.damage_templates else None
            t0 = time.perf_counter()
            build_pack(folder, PackConfig(clips=8), lib)
            result["pack_clips_per_s"] = 8 / (time.perf_counter() - t0)
        ds = RestorationDataset(Pack.open(folder), patch=256, radius=2, length=10**6)
        for w in (0, 2):
            result[f"samples_per_s_workers{w}"] = rate(ds, w, args.samples)
    for k, v in result.items():
        print(f"{k:>26}: {v:8.1f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
