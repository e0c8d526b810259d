"""A one-line text progress bar on stderr: done/total, rate, ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, total: int, unit: str = "it", width: int = 30,
                 stream: TextIO | None = None) -> None:
        self.total, self.unit, self.width = max(total, 1), unit, width
        self.stream = stream or sys.stderr
        self.t0 = time.time()
        self.done = 0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        elapsed = max(time.time() - self.t0, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        fill = int(self.width * done / self.total)
        eta_s = f"{eta / 60:.1f} min" if eta != float("inf") else "?"
        self.stream.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {done}/{self.total} "
                          f"{rate:.2f} {self.unit}/s  ETA {eta_s} {note}   ")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
