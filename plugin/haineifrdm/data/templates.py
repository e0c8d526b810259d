"""Damage templates: folders of RGBA overlays, one folder per defect category.

Each PNG's alpha channel says where the damage is; its grey level is kept as a
texture. Templates are loaded lazily, reduced to a bounded size, and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

#: Categories the synthesiser knows (folder names in the template directory).
CATEGORIES = ("dirt", "dots", "hair", "hair-short", "lint", "scratches", "smut", "spots",
              "sprinkles", "stain")
MAX_SIDE = 256  # templates are reduced to this long side when loaded


@dataclass
class TemplateLibrary:
    """Paths of the overlays found under ``root``, by category."""

    root: Path
    files: dict[str, list[Path]] = field(default_factory=dict)

    @classmethod
    def scan(cls, root: str | Path) -> TemplateLibrary:
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"damage-template folder not found: {root}")
        # accept DIR/<category>/ or DIR/<anything>/<category>/ (e.g. film-damage/synthetic/)
        found: dict[str, list[Path]] = {}
        for cat in CATEGORIES:
            for base in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
                d = base / cat
                if d.is_dir():
                    pngs = sorted(d.glob("*.png"))
                    if pngs:
                        found[cat] = pngs
                        break
        if not found:
            raise ValueError(f"{root} has no template folders named like {', '.join(CATEGORIES)}")
        return cls(root, found)

    def categories(self) -> list[str]:
        return sorted(self.files)

    def pick(self, category: str, rng: np.random.Generator) -> np.ndarray:
        """A random template of ``category`` as float32 [h, w, 2]: (alpha, grey) in [0, 1]."""
        paths = self.files[category]
        return load_template(str(paths[int(rng.integers(len(paths)))]))


@lru_cache(maxsize=512)
def load_template(path: str) -> np.ndarray:
    try:
        with Image.open(path) as src:
            im = src.convert("RGBA")
        scale = MAX_SIDE / max(im.size)
        if scale < 1:
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                           Image.Resampling.BOX)
        a = np.asarray(im, dtype=np.float32) / 255.0
    except OSError as exc:
        raise ValueError(f"unreadable damage template {path}: {exc}") from exc
    alpha = a[..., 3]
    ys, xs = np.nonzero(alpha > 0.02)
    if len(ys) == 0:
        return np.zeros((1, 1, 2), np.float32)
    crop = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    grey = crop[..., :3].mean(axis=-1)
    return np.stack([crop[..., 3], grey], axis=-1)
