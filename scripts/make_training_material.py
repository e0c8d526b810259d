"""Pack a self-contained training-material folder (<= 64 MiB) for a GPU machine.

The GPU machine has no network and no ../shared: this copies a bounded subset
of the damage templates into MATERIAL/film-damage and the scikit-image training
photographs into MATERIAL/photos (PNG), so the pack built there does not depend
on which photographs that machine's scikit-image bundles.

Usage: python scripts/make_training_material.py ../shared/data/film-damage material/
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from haineifrdm.data.sources import TRAIN_IMAGES, bundled_image
from haineifrdm.data.templates import TemplateLibrary

LIMIT = 40 * (1 << 20)  # templates; the photographs add ~10 MiB


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    lib = TemplateLibrary.scan(src)
    per_cat = 120
    while True:
        picks = {c: files[:: max(1, len(files) // per_cat)][:per_cat]
                 for c, files in lib.files.items()}
        size = sum(f.stat().st_size for fs in picks.values() for f in fs)
        if size <= LIMIT or per_cat <= 5:
            break
        per_cat = int(per_cat * 0.8)
    for cat, files in picks.items():
        (dst / "film-damage" / cat).mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copy2(f, dst / "film-damage" / cat / f.name)
    print(f"{sum(len(v) for v in picks.values())} templates, {size / (1 << 20):.1f} MiB -> {dst}")
    (dst / "photos").mkdir(parents=True, exist_ok=True)
    for name in TRAIN_IMAGES:
        rgb = np.round(bundled_image(name) * 255).astype(np.uint8)
        Image.fromarray(rgb).save(dst / "photos" / f"{name}.png")
    print(f"{len(TRAIN_IMAGES)} photographs -> {dst / 'photos'}")


if __name__ == "__main__":
    main()
