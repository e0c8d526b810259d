"""Plugin <-> service transport cost for a 2048x1080 frame, vs the engine in-process.

Starts `haineifrdm serve`, sends 5-frame float windows through the same protocol
the OFX plugin speaks (Unix socket + POSIX shared memory), and subtracts the
service's own render time (shm mapping, checks, restore, result write): what is
left is transport (client-side shm creation and copies, messages, wake-ups).
Targets: <= 30 ms, and <= 5 % of a Preview (1-step) render.
The last line is one JSON object.

Usage: python benchmarks/ofx_transport.py [--model default] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from haineifrdm.engine import Restorer
from haineifrdm.service.client import RenderClient
from haineifrdm.service.protocol import MessageType


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="default")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--size", default="2048x1080")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    window = np.random.default_rng(0).random((5, h, w, 3), dtype=np.float32)
    params = {"steps": 1, "patch": 256, "overlap": 32}
    with tempfile.TemporaryDirectory() as tmp:
        sock = Path(tmp) / "s" / "render.sock"
        proc = subprocess.Popen([sys.executable, "-m", "haineifrdm.cli.main", "serve",
                                 "--socket", str(sock), "--model", args.model])
        try:
            while not sock.exists():
                time.sleep(0.05)
            transport, totals = [], []
            with RenderClient(sock) as c:
                c.restore(window, **params)  # warm-up
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    c.restore(window, **params)
                    wall = time.perf_counter() - t0
                    service_s = c.last_reply["service_s"]  # the service's whole render
                    transport.append(wall - service_s)
                    totals.append(wall)
                c.call(MessageType.SHUTDOWN, {})
        finally:
            proc.wait(timeout=60)
    r = Restorer(model=args.model, patch=256, overlap=32, steps=1)
    r.restore(window)
    t0 = time.perf_counter()
    r.restore(window)
    inproc = time.perf_counter() - t0
    tr = statistics.median(transport)
    result = {"size": [w, h], "transport_ms": 1e3 * tr, "roundtrip_s": statistics.median(totals),
              "in_process_preview_s": inproc, "transport_pct_of_preview": 100 * tr / inproc,
              "window_mb": window.nbytes / 2**20}
    print(f"transport {result['transport_ms']:.1f} ms for a {w}x{h} 5-frame window "
          f"({result['window_mb']:.0f} MB); preview render in-process {inproc:.2f} s "
          f"-> {result['transport_pct_of_preview']:.2f} %")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
