"""Pre-generated training material: a folder of clean/degraded clips made once.

Layout of a pack folder (uint8 arrays, memory-mapped when read)::

    clean.npy     [N, T, H, W, 3]   targets (clean picture incl. grain)
    degraded.npy  [N, T, H, W, 3]
    mask.npy      [N, T, H, W]      defect masks, 0..255
    pack.json     how it was made (seed, split, sizes, degradation settings)

Generating once and sampling crops many times keeps a 2-core machine from
spending its training time on synthesis.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .degrade import DegradationConfig, synthesize
from .sources import (
    EVAL_IMAGES,
    STILL_SCENE,
    TRAIN_IMAGES,
    SceneConfig,
    bundled_videos,
    clip_from_source,
    render_scene,
)
from .templates import TemplateLibrary


@dataclass(frozen=True)
class PackConfig:
    clips: int = 64
    seed: int = 0
    split: str = "train"  # "train" or "eval": disjoint source photographs
    frames: int = 7
    height: int = 256
    width: int = 352
    speck_density: float = 15.0  # far more damage than a typical reel: more to learn from
    scale_range: tuple[float, float] = (0.35, 1.0)  # pixels per 2K pixel
    clean_sources: tuple[str, ...] = ()  # folders of frames / movies the user adds
    video_prob: float = 0.3  # share of clips taken from real clips when any are available
    photos: tuple[str, ...] = ()  # image files replacing the skimage training photographs
    # share of rendered clips shot from a locked-off camera with gate weave (most real
    # film; a detector that only ever saw pans takes weaving edges for defects)
    still_prob: float = 0.3


def _clip_settings(cfg: PackConfig, i: int, rng: np.random.Generator, still: bool
                   ) -> DegradationConfig:
    return DegradationConfig(seed=cfg.seed * 100_003 + i,
                             scale=float(rng.uniform(*cfg.scale_range)),
                             specks=cfg.speck_density * float(rng.uniform(0.3, 1.0)),
                             blotch_prob=0.2, grain=None, soften=None, fade=None,
                             weave=bool(rng.random() < 0.3) or still)


def _make_clip(cfg: PackConfig, templates: TemplateLibrary | None, videos: list[str], i: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Clip ``i`` of the pack, seeded by (seed, split, i) alone: any worker can make it."""
    split = 0 if cfg.split == "train" else 1
    rng = np.random.default_rng((cfg.seed, split, i))
    names = cfg.photos or (TRAIN_IMAGES if cfg.split == "train" else EVAL_IMAGES)
    # drawn from a stream of its own: clips that pan are the ones packs held before
    still = bool(np.random.default_rng((cfg.seed, split, i, 1)).random() < cfg.still_prob)
    scene = replace(STILL_SCENE if still else SceneConfig(), frames=cfg.frames,
                    height=cfg.height, width=cfg.width)
    source = "scene"
    if videos and rng.random() < cfg.video_prob:
        source = videos[int(rng.integers(len(videos)))]
        frames = clip_from_source(source, cfg.frames, cfg.height, cfg.width, rng)
    else:
        frames = render_scene(rng, scene, names)
    dcfg = _clip_settings(cfg, i, rng, still and source == "scene")
    res = synthesize(frames, dcfg, templates)
    info = {"specks": res.params.get("specks", {}),
            "line_scratches": len(res.params.get("line_scratches", [])),
            "blotches": len(res.params.get("blotches", [])),
            "scale": dcfg.scale, "source": source, "still": still and source == "scene"}
    return _u8(res.clean), _u8(res.degraded), _u8(res.mask), info


# what forked pack workers need, set by build_pack before the pool starts
_WORKER_ARGS: tuple[PackConfig, TemplateLibrary | None, list[str]] | None = None


def _worker_clip(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    assert _WORKER_ARGS is not None
    return _make_clip(*_WORKER_ARGS, i)


def build_pack(out: str | Path, cfg: PackConfig, templates: TemplateLibrary | None,
               progress: Callable[[int, int], None] | None = None, workers: int = 1) -> Path:
    """Render and degrade ``cfg.clips`` clips into ``out`` (written atomically as a folder).

    ``workers`` > 1 renders clips in that many forked processes; the pack is the same
    for any number of workers.
    """
    global _WORKER_ARGS
    out = Path(out)
    if cfg.split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {cfg.split!r}")
    shape = (cfg.clips, cfg.frames, cfg.height, cfg.width)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        clean = np.lib.format.open_memmap(tmp / "clean.npy", "w+", np.uint8, (*shape, 3))
        degraded = np.lib.format.open_memmap(tmp / "degraded.npy", "w+", np.uint8, (*shape, 3))
        mask = np.lib.format.open_memmap(tmp / "mask.npy", "w+", np.uint8, shape)
        videos = [*map(str, bundled_videos()), *cfg.clean_sources] if cfg.split == "train" \
            else []
        per_clip: list[dict[str, Any]] = []
        if workers > 1:
            _WORKER_ARGS = (cfg, templates, videos)
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers) as pool:
                per_clip = _store(pool.imap(_worker_clip, range(cfg.clips)), clean, degraded,
                                  mask, progress)
            _WORKER_ARGS = None
        else:
            per_clip = _store((_make_clip(cfg, templates, videos, i) for i in range(cfg.clips)),
                              clean, degraded, mask, progress)
        for a in (clean, degraded, mask):
            a.flush()
        del clean, degraded, mask
        meta = {"config": asdict(cfg), "templates": str(templates.root) if templates else None,
                "clips": per_clip}
        (tmp / "pack.json").write_text(json.dumps(meta, indent=1))
        if out.exists():
            shutil.rmtree(out)
        tmp.chmod(0o755)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def _store(clips: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]],
           clean: np.ndarray, degraded: np.ndarray, mask: np.ndarray,
           progress: Callable[[int, int], None] | None) -> list[dict[str, Any]]:
    per_clip = []
    for i, (c, d, m, info) in enumerate(clips):
        clean[i], degraded[i], mask[i] = c, d, m
        per_clip.append(info)
        if progress:
            progress(i + 1, len(clean))
    return per_clip


def _u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)


@dataclass
class Pack:
    clean: np.ndarray
    degraded: np.ndarray
    mask: np.ndarray
    meta: dict[str, Any]

    @classmethod
    def open(cls, folder: str | Path, in_memory: bool = True) -> Pack:
        folder = Path(folder)
        if not (folder / "pack.json").is_file():
            raise ValueError(f"{folder} is not a training pack (no pack.json)")
        def load(name: str) -> np.ndarray:
            return np.load(folder / name) if in_memory else np.load(folder / name, mmap_mode="r")

        return cls(load("clean.npy"), load("degraded.npy"), load("mask.npy"),
                   json.loads((folder / "pack.json").read_text()))

    def __len__(self) -> int:
        return int(self.clean.shape[0])
