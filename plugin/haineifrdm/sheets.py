"""Contact sheets: labelled grids of frames for QC (PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def to_u8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def contact_sheet(rows: Sequence[Sequence[np.ndarray]], columns: Sequence[str],
                  row_labels: Sequence[str] | None, out: str | Path, max_tile_width: int = 320
                  ) -> Path:
    """rows of equally sized float RGB tiles; column titles on top; labels on the left."""
    h0, w0 = rows[0][0].shape[:2]
    scale = min(1.0, max_tile_width / w0)
    th, tw = max(1, round(h0 * scale)), max(1, round(w0 * scale))
    label_w = 150 if row_labels else 0
    head = 18
    sheet = Image.new("RGB", (label_w + tw * len(columns), head + th * len(rows)), (20, 20, 20))
    draw = ImageDraw.Draw(sheet)
    for j, title in enumerate(columns):
        draw.text((label_w + j * tw + 4, 3), title, fill=(235, 235, 235))
    for i, row in enumerate(rows):
        if row_labels:
            draw.text((4, head + i * th + th // 2 - 6), row_labels[i], fill=(235, 235, 235))
        for j, tile in enumerate(row):
            im = Image.fromarray(to_u8(tile)).resize((tw, th), Image.Resampling.BILINEAR)
            sheet.paste(im, (label_w + j * tw, head + i * th))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def amplify(diff: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """Signed difference for display: mid-grey = no change."""
    return np.clip(0.5 + gain * diff, 0, 1)
