"""Where a restoration fails: the worst crops of an evaluation, for its report and a sheet.

Frames are float RGB [H, W, 3] in [0, 1]; ``defect`` is the synthetic defect mask (bool
[H, W]), dilated here as :func:`metrics.frame_scores` dilates it, so "inside" and
"outside" mean what the report's PSNR in / out mean. Two kinds of failure, each scored
over a square crop (``crop`` px, or the frame's short side when smaller) placed where it
holds the most error:

- ``missed``: squared error (RGB mean) the restoration left inside the defect mask;
- ``false``: squared error it added outside the mask (its squared error minus the
  input's, where positive): picture it took for a defect.

Each clip contributes its worst frame per kind; the log keeps the ``per_kind`` worst
clips of each kind. Perfect restorations log nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from .metrics import dilate, psnr
from .sheets import amplify, contact_sheet

KINDS = ("missed", "false")
#: Nearest-neighbour zoom of the crops on the sheet (pixels stay visible).
SHEET_ZOOM = 3


@dataclass
class Failure:
    """One crop: ``box`` (y0, x0, y1, x1) px in the frame; ``error`` the kind's summed
    squared error in it; PSNR of the input and the restoration over the kind's pixels in
    the crop (inside the mask for ``missed``, outside for ``false``); ``tiles`` the
    crop of input, restored, truth and restored - truth (x4) for the sheet."""

    kind: str
    clip: str
    frame: int
    box: tuple[int, int, int, int]
    error: float
    psnr_input: float
    psnr_restored: float
    tiles: list[np.ndarray] = field(repr=False, default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "clip": self.clip, "frame": self.frame,
                "box": list(self.box), "error": self.error, "psnr_input": self.psnr_input,
                "psnr_restored": self.psnr_restored}


def error_maps(restored: np.ndarray, inp: np.ndarray, clean: np.ndarray, inside: np.ndarray
               ) -> dict[str, np.ndarray]:
    """Per-pixel error [H, W] of each kind (``inside``: the dilated defect mask)."""
    e_out = ((np.clip(restored, 0, 1) - np.clip(clean, 0, 1)) ** 2).mean(axis=-1)
    e_in = ((np.clip(inp, 0, 1) - np.clip(clean, 0, 1)) ** 2).mean(axis=-1)
    return {"missed": np.where(inside, e_out, 0.0),
            "false": np.where(inside, 0.0, np.maximum(e_out - e_in, 0.0))}


def worst_box(err: np.ndarray, size: int) -> tuple[tuple[int, int, int, int], float]:
    """The ``size`` x ``size`` box (inside the frame) holding the most of ``err`` [H, W],
    and that sum."""
    h, w = err.shape
    sy, sx = min(size, h), min(size, w)
    sums = ndimage.uniform_filter(err.astype(np.float64), (sy, sx), mode="constant")
    # a centred window of even side reaches one pixel further up/left than down/right
    cy = np.arange(h)[:, None] - sy // 2
    cx = np.arange(w)[None, :] - sx // 2
    valid = (cy >= 0) & (cy + sy <= h) & (cx >= 0) & (cx + sx <= w)
    sums = np.where(valid, sums, -1.0)
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    y0, x0 = int(y - sy // 2), int(x - sx // 2)
    return (y0, x0, y0 + sy, x0 + sx), float(err[y0:y0 + sy, x0:x0 + sx].sum())


class FailureLog:
    """Collects frames of an evaluation and keeps the worst crops of each kind."""

    def __init__(self, per_kind: int = 5, crop: int = 64) -> None:
        if per_kind < 1 or crop < 1:
            raise ValueError("per_kind and crop must be positive")
        self.per_kind, self.crop = per_kind, crop
        self._best: dict[tuple[str, str], Failure] = {}  # (kind, clip) -> its worst frame

    def add(self, clip: str, frame: int, inp: np.ndarray, restored: np.ndarray,
            clean: np.ndarray, defect: np.ndarray) -> None:
        inside = dilate(defect, 2)
        for kind, err in error_maps(restored, inp, clean, inside).items():
            box, total = worst_box(err, self.crop)
            held = self._best.get((kind, clip))
            if total <= 0.0 or (held is not None and held.error >= total):
                continue
            y0, x0, y1, x1 = box
            sl = (slice(y0, y1), slice(x0, x1))
            region = inside[sl] if kind == "missed" else ~inside[sl]
            self._best[(kind, clip)] = Failure(
                kind, clip, frame, box, total,
                psnr(inp[sl], clean[sl], region), psnr(restored[sl], clean[sl], region),
                [inp[sl].copy(), restored[sl].copy(), clean[sl].copy(),
                 amplify(restored[sl] - clean[sl])])  # copies: the frames are not kept

    def worst(self) -> list[Failure]:
        """The ``per_kind`` worst clips of each kind, worst first, kinds in KINDS order."""
        out: list[Failure] = []
        for kind in KINDS:
            found = [f for (k, _), f in self._best.items() if k == kind]
            out += sorted(found, key=lambda f: -f.error)[: self.per_kind]
        return out

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.worst()]

    def sheet(self, path: str | Path) -> Path | None:
        """Write the crops as a contact sheet (one row per failure); None when none."""
        rows = self.worst()
        if not rows:
            return None
        side = max(max(t.shape[0], t.shape[1]) for f in rows for t in f.tiles)

        def tile(img: np.ndarray) -> np.ndarray:
            pad = np.zeros((side, side, 3), np.float32)
            pad[: img.shape[0], : img.shape[1]] = img
            return np.repeat(np.repeat(pad, SHEET_ZOOM, axis=0), SHEET_ZOOM, axis=1)

        labels = [f"{f.clip} f{f.frame} {f.kind}\n{f.psnr_input:.1f} -> {f.psnr_restored:.1f} dB"
                  for f in rows]
        return contact_sheet([[tile(t) for t in f.tiles] for f in rows],
                             ["input", "restored", "ground truth", "restored - truth (x4)"],
                             labels, path, max_tile_width=side * SHEET_ZOOM)
