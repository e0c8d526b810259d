"""A labelled contact sheet: one row per defect type, clean | degraded | mask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .degrade import DegradationConfig, synthesize
from .sources import SceneConfig, render_scene
from .templates import CATEGORIES, TemplateLibrary

ROWS: tuple[tuple[str, dict[str, object]], ...] = (
    *((f"specks: {c}", {"categories": (c,), "specks": 80.0}) for c in CATEGORIES),
    ("line scratches", {"specks": 0.0}),
    ("blotches", {"specks": 0.0, "blotch_prob": 1.0}),
    ("flicker", {"specks": 0.0, "flicker": 0.12}),
    ("grain as defect", {"specks": 0.0, "grain": 0.04, "grain_as_defect": True}),
    ("weave + softness + fade", {"specks": 0.0, "weave": True, "soften": 0.8, "fade": 0.2}),
    ("everything", {"specks": 25.0, "blotch_prob": 0.5, "soften": None, "fade": None}),
)


def _off(name: str) -> dict[str, object]:
    """Settings that isolate one defect type in its row."""
    base: dict[str, object] = {"line_scratches": name == "line scratches" or name == "everything",
                               "blotch_prob": 0.0, "flicker": 0.0, "grain": 0.015}
    return base


def make_gallery(out: str | Path, seed: int = 0, templates: TemplateLibrary | None = None,
                 size: tuple[int, int] = (192, 256)) -> Path:
    """Render the sheet to ``out`` (PNG) and return its path."""
    h, w = size
    label_w = 170
    rows = []
    for i, (name, settings) in enumerate(ROWS):
        rng = np.random.default_rng(seed * 1000 + i)
        clip = render_scene(rng, SceneConfig(frames=3, height=h, width=w))
        params = {**_off(name), **settings}
        cfg = DegradationConfig(seed=seed * 1000 + i, scale=0.6, **params)  # type: ignore[arg-type]
        res = synthesize(clip, cfg, templates)
        k = int(np.argmax(res.mask.reshape(len(res.mask), -1).sum(axis=1)))  # most damaged
        tiles = [res.clean[k], res.degraded[k], np.repeat(res.mask[k][..., None], 3, axis=-1)]
        row = np.concatenate([np.clip(t, 0, 1) for t in tiles], axis=1)
        label = Image.new("RGB", (label_w, h), (24, 24, 24))
        ImageDraw.Draw(label).text((6, h // 2 - 6), name, fill=(235, 235, 235))
        rows.append(np.concatenate([np.asarray(label, np.float32) / 255, row], axis=1))
    header = Image.new("RGB", (label_w + 3 * w, 20), (24, 24, 24))
    draw = ImageDraw.Draw(header)
    for j, title in enumerate(("clean (target)", "degraded", "defect mask")):
        draw.text((label_w + j * w + 6, 4), title, fill=(235, 235, 235))
    sheet = np.concatenate([np.asarray(header, np.float32) / 255, *rows], axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((sheet * 255).round().astype(np.uint8)).save(out)
    return out
