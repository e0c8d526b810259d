"""Film-degradation synthesis: seeded, composable, with a defect mask per frame.

Images are float32 RGB [T, H, W, 3], linear light, nominally [0, 1]. Two kinds
of effect:

* **content** effects change the picture itself and are applied to the clean
  target as well as to the degraded frames, never masked: gate weave / splice
  jumps, softness, fading/colour cast, grain (unless ``grain_as_defect``);
* **defects** are what a restorer removes: flicker (global, unmasked) and
  localised damage written into the mask: specks from real templates (dust,
  dirt, hair, lint, sprinkles, spots, smut, stains, short scratches), persistent
  line scratches, blotches.

So outside the mask a degraded frame equals flicker(clean target) exactly.

Parameter ranges (sizes in pixels of a 2048-wide scan, scaled by ``scale``):

======================  ==================================================
specks (templates)      per frame and category count ~ Gamma(k, theta)
                        (FilmDamageSimulator fits Gamma distributions to
                        annotated 35 mm scans; our k, theta give 4-15 specks
                        per 2K frame); long side ~ Gamma(3, mean/3) around
                        the category mean below; 70 % dark (dirt on the
                        print), 30 % bright (dust on the negative); one frame
line scratches          0-2 per clip (p = 0.5 for one, as in the source
                        project); width 1-10 px; cross-section
                        A * cos(2 pi d / w) * exp(-|d| / (w / 2)) (damped
                        sinusoid); amplitude 0.1-0.5, varying +-30 % per
                        frame; drift 0-1.5 px/frame plus 0.3 px jitter;
                        lifetime 60-100 % of the clip
blotches                p = 0.15 per frame; 40-250 px; 1-3 frames; soft edge;
                        tinted (density change 0.1-0.35, hue offset 0.05)
flicker                 gain std 0.04, offset std 0.01, AR(1) over time with
                        rho 0.6; spatial gain field +-3 % at < 2 cycles/frame
grain                   std 0.012-0.035 at mid-grey, sqrt(L (1 - L)) law,
                        correlation radius 0.6-1.2 px, new every frame
weave                   +-0.6 px/frame random walk, clipped at 2.5 px;
                        splice jump p = 0.02/frame: 5-20 px for 1-3 frames
softness, fade          Gaussian sigma 0-0.8 px; fade 0-25 % toward grey,
                        colour cast +-4 % per channel
======================  ==================================================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from .templates import CATEGORIES, TemplateLibrary

REFERENCE_WIDTH = 2048

# category: (count shape k, count scale theta, mean long side in 2K px)
SPECK_PARAMS: dict[str, tuple[float, float, float]] = {
    "dirt": (1.2, 1.2, 140.0),
    "dots": (1.5, 1.0, 35.0),
    "hair": (0.5, 0.6, 260.0),
    "hair-short": (0.8, 0.8, 70.0),
    "lint": (0.6, 0.8, 90.0),
    "scratches": (0.4, 0.6, 180.0),
    "smut": (0.8, 0.8, 45.0),
    "spots": (0.8, 0.8, 220.0),
    "sprinkles": (0.5, 0.8, 180.0),
    "stain": (0.3, 0.6, 120.0),
}
DEFECT_TYPES = ("specks", "line_scratch", "blotch", "flicker")


@dataclass
class DegradationConfig:
    """Every knob of the synthesiser; serialised into degradation.json."""

    seed: int = 0
    scale: float | None = None  # pixels per 2K pixel; None: width / 2048 (at least 0.2)
    specks: float = 1.0  # multiplier on speck counts (0 disables)
    categories: tuple[str, ...] = CATEGORIES
    line_scratches: bool = True
    blotch_prob: float = 0.15
    flicker: float = 0.04
    grain: float | None = None  # std at mid-grey; None draws from [0.012, 0.035]
    grain_as_defect: bool = False
    weave: bool = False
    splice_prob: float = 0.02
    soften: float | None = 0.0  # Gaussian sigma in 2K px; None draws from [0, 0.8]
    fade: float | None = 0.0  # None draws from [0, 0.25]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["categories"] = list(self.categories)
        return d


@dataclass
class DegradationResult:
    degraded: np.ndarray  # [T, H, W, 3] float32
    clean: np.ndarray  # [T, H, W, 3] the target: input + content effects
    mask: np.ndarray  # [T, H, W] float32 in [0, 1]
    class_masks: dict[str, np.ndarray]  # defect type -> [T, H, W] bool
    params: dict[str, Any] = field(default_factory=dict)  # everything drawn, JSON-ready
    #: [T, H, W, 3] what the blotches added (degraded - what it was before them), when asked
    blotch_offset: np.ndarray | None = None


def check_clip(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        shape = getattr(frames, "shape", None)
        raise ValueError(f"clip must be a float array [T, H, W, 3], got shape {shape}")
    if frames.dtype != np.float32:
        raise ValueError(f"clip must be float32, got {frames.dtype}")
    if frames.shape[0] < 1 or frames.shape[1] < 2 or frames.shape[2] < 2:
        raise ValueError(f"clip is too small: {frames.shape}")


def synthesize(frames: np.ndarray, cfg: DegradationConfig,
               templates: TemplateLibrary | None = None,
               keep_blotch_offset: bool = False) -> DegradationResult:
    """Degrade a clean clip. Deterministic in ``cfg.seed``; ``frames`` is not modified.
    ``keep_blotch_offset`` also returns what the blotches added (the blotch network's
    training target)."""
    check_clip(frames)
    rng = np.random.default_rng(cfg.seed)
    t, h, w, _ = frames.shape
    scale = cfg.scale if cfg.scale is not None else max(w / REFERENCE_WIDTH, 0.2)
    params: dict[str, Any] = {"config": cfg.to_dict(), "scale": scale, "frames": t, "size": [h, w],
                              "templates": str(templates.root) if templates else None}
    clean = frames.copy()
    if cfg.weave:
        clean, params["weave"] = _weave(clean, rng, scale, cfg.splice_prob)
    soften = rng.uniform(0, 0.8) if cfg.soften is None else cfg.soften
    if soften > 0:
        s = soften * scale
        clean = ndimage.gaussian_filter(clean, sigma=(0, s, s, 0)).astype(np.float32)
    params["soften"] = soften
    fade = rng.uniform(0, 0.25) if cfg.fade is None else cfg.fade
    if fade > 0:
        cast = rng.uniform(-0.04, 0.04, 3).astype(np.float32)
        clean = (clean * (1 - fade) + 0.5 * fade) * (1 + cast)
        params["fade"] = {"amount": fade, "cast": cast.tolist()}
    grain_std = rng.uniform(0.012, 0.035) if cfg.grain is None else cfg.grain
    grain = _grain(clean, rng, grain_std, scale) if grain_std > 0 else None
    params["grain"] = grain_std
    if grain is not None and not cfg.grain_as_defect:
        clean = clean + grain
    clean = clean.astype(np.float32)

    degraded = clean.copy()
    mask = np.zeros((t, h, w), np.float32)
    classes = {k: np.zeros((t, h, w), bool) for k in DEFECT_TYPES}
    if grain is not None and cfg.grain_as_defect:
        degraded += grain
        classes["grain"] = np.ones((t, h, w), bool)
        mask[:] = 1.0
    if cfg.flicker > 0:
        degraded, params["flicker"] = _flicker(degraded, rng, cfg.flicker)
        classes["flicker"][:] = True
    if cfg.line_scratches:
        params["line_scratches"] = _line_scratches(degraded, mask, classes["line_scratch"], rng,
                                                   scale)
    blotch_offset = np.zeros_like(degraded) if keep_blotch_offset else None
    if cfg.blotch_prob > 0:
        before = degraded.copy() if keep_blotch_offset else None
        params["blotches"] = _blotches(degraded, mask, classes["blotch"], rng, scale,
                                       cfg.blotch_prob)
        if before is not None:
            blotch_offset = degraded - before
    if cfg.specks > 0:
        params["specks"] = _specks(degraded, mask, classes["specks"], rng, scale, cfg, templates)
    return DegradationResult(degraded.astype(np.float32), clean, mask, classes, params,
                             blotch_offset)


# ---------------------------------------------------------------- content effects

def _weave(clip: np.ndarray, rng: np.random.Generator, scale: float, splice_prob: float
           ) -> tuple[np.ndarray, dict[str, Any]]:
    t = clip.shape[0]
    steps = rng.normal(0, 0.6, (t, 2))
    offs = np.clip(np.cumsum(steps, axis=0), -2.5, 2.5)
    jumps = []
    i = 0
    while i < t:
        if rng.random() < splice_prob:
            n = int(rng.integers(1, 4))
            jump = rng.uniform(5, 20) * rng.choice([-1, 1])
            offs[i : i + n, 0] += jump
            jumps.append([i, n, float(jump)])
            i += n
        else:
            i += 1
    offs *= scale
    out = np.empty_like(clip)
    for k in range(t):
        out[k] = ndimage.shift(clip[k], (offs[k, 0], offs[k, 1], 0), order=1, mode="reflect")
    return out, {"offsets_px": offs.round(3).tolist(), "splices": jumps}


def _grain(clip: np.ndarray, rng: np.random.Generator, std: float, scale: float) -> np.ndarray:
    t, h, w, _ = clip.shape
    radius = rng.uniform(0.6, 1.2) * max(scale, 0.5)
    noise = rng.standard_normal((t, h, w, 3), dtype=np.float32)
    noise = ndimage.gaussian_filter(noise, sigma=(0, radius, radius, 0))
    noise /= noise.std() + 1e-8
    luma = np.clip(clip.mean(axis=-1, keepdims=True), 0.0, 1.0)
    amp = std * 2.0 * np.sqrt(luma * (1.0 - luma) + 0.01)
    # mostly luminance grain with some chroma
    mono = noise.mean(axis=-1, keepdims=True)
    return ((0.7 * mono + 0.3 * noise) * amp).astype(np.float32)


# ---------------------------------------------------------------- defects

def _flicker(clip: np.ndarray, rng: np.random.Generator, strength: float
             ) -> tuple[np.ndarray, dict[str, Any]]:
    t, h, w, _ = clip.shape
    rho = 0.6
    gain = np.zeros(t)
    off = np.zeros(t)
    g_prev = o_prev = 0.0
    for k in range(t):
        g_prev = rho * g_prev + math.sqrt(1 - rho**2) * rng.normal(0, strength)
        o_prev = rho * o_prev + math.sqrt(1 - rho**2) * rng.normal(0, strength / 4)
        gain[k], off[k] = g_prev, o_prev
    # low-frequency spatial gain field: a few cosines, +-3 %
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fields = np.zeros((t, h, w), np.float32)
    for _ in range(3):
        fy, fx = rng.uniform(0, 2, 2)
        ph = rng.uniform(0, 2 * math.pi)
        amp = rng.uniform(0, 0.01)
        drift = rng.uniform(-0.3, 0.3)
        base = 2 * math.pi * (fy * yy / h + fx * xx / w)
        for k in range(t):
            fields[k] += amp * np.cos(base + ph + drift * k)
    g = (1.0 + gain[:, None, None] + fields)[..., None]
    out = clip * g + off[:, None, None, None]
    return out.astype(np.float32), {"gain": gain.round(4).tolist(), "offset": off.round(4).tolist()}


def _composite(img: np.ndarray, mask: np.ndarray, cls: np.ndarray, alpha: np.ndarray,
               value: np.ndarray | float, y: int, x: int) -> None:
    """Blend ``value`` into img[y:, x:] with ``alpha`` [h, w]; clips at the frame edge."""
    h, w = alpha.shape
    fh, fw = img.shape[:2]
    y0, x0, y1, x1 = max(y, 0), max(x, 0), min(y + h, fh), min(x + w, fw)
    if y0 >= y1 or x0 >= x1:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    a = np.where(a < 0.02, 0.0, a).astype(np.float32)  # no invisible tails: mask == 0 is clean
    v = value[y0 - y : y1 - y, x0 - x : x1 - x] if isinstance(value, np.ndarray) else value
    region = img[y0:y1, x0:x1]
    a3 = a[..., None]
    vv = v if not isinstance(v, np.ndarray) or v.ndim == 3 else v[..., None]
    region[:] = region * (1 - a3) + vv * a3
    mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], a)
    cls[y0:y1, x0:x1] |= a > 0.02


def _line_scratches(clip: np.ndarray, mask: np.ndarray, cls: np.ndarray,
                    rng: np.random.Generator, scale: float) -> list[dict[str, Any]]:
    t, h, w, _ = clip.shape
    n = int(rng.random() < 0.5) + int(rng.random() < 0.15)
    drawn = []
    cols = np.arange(w, dtype=np.float32)
    for _ in range(n):
        width = max(rng.uniform(1, 10) * scale, 0.7)
        amp = rng.uniform(0.1, 0.5)
        dark = rng.random() < 0.4
        life = max(1, round(t * rng.uniform(0.6, 1.0)))
        start = int(rng.integers(0, t - life + 1))
        x0 = rng.uniform(0.05, 0.95) * w
        drift = rng.uniform(-1.5, 1.5) * scale
        y_top = int(rng.integers(0, h // 3 + 1)) if rng.random() < 0.3 else 0
        for k in range(start, start + life):
            xc = x0 + drift * (k - start) + rng.normal(0, 0.3 * scale)
            a_k = amp * rng.uniform(0.7, 1.3)
            d = cols - xc
            profile = np.cos(2 * np.pi * d / (2 * width)) * np.exp(-np.abs(d) / (width / 2))
            profile = np.where(np.abs(d) < 2 * width, profile, 0.0).astype(np.float32)
            alpha_row = np.clip(np.abs(profile) * a_k * 2.0, 0, 1)
            if alpha_row.max() <= 0:
                continue
            value = 0.0 if dark else 1.0
            alpha = np.broadcast_to(alpha_row, (h - y_top, w)).copy()
            _composite(clip[k], mask[k], cls[k], alpha, value, y_top, 0)
        drawn.append({"x0": float(x0), "width": float(width), "amplitude": float(amp),
                      "dark": bool(dark), "start": start, "frames": life,
                      "drift_px_per_frame": float(drift)})
    return drawn


def _soft_shape(size: int, rng: np.random.Generator, roughness: float = 0.5) -> np.ndarray:
    """A random blob with a soft edge: [size, size] alpha in [0, 1]."""
    size = max(size, 3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    c = (size - 1) / 2
    ry, rx = c * rng.uniform(0.5, 1.0), c * rng.uniform(0.5, 1.0)
    r = np.sqrt(((yy - c) / max(ry, 1)) ** 2 + ((xx - c) / max(rx, 1)) ** 2)
    noise = ndimage.gaussian_filter(rng.standard_normal((size, size)).astype(np.float32),
                                    size / 8)
    noise /= np.abs(noise).max() + 1e-6
    field_ = 1.0 - r + roughness * 0.5 * noise
    alpha = np.clip(field_ * 4.0, 0, 1)
    return ndimage.gaussian_filter(alpha, max(size / 20, 0.6)).astype(np.float32)


def _blotches(clip: np.ndarray, mask: np.ndarray, cls: np.ndarray, rng: np.random.Generator,
              scale: float, prob: float) -> list[dict[str, Any]]:
    t, h, w, _ = clip.shape
    drawn = []
    for k in range(t):
        if rng.random() >= prob:
            continue
        size = max(int(rng.uniform(40, 250) * scale), 4)
        shape = _soft_shape(size, rng) * rng.uniform(0.5, 0.95)
        density = rng.uniform(0.1, 0.35) * rng.choice([-1.0, 1.0])
        tint = rng.uniform(-0.05, 0.05, 3).astype(np.float32)
        y, x = int(rng.integers(-size // 2, h)), int(rng.integers(-size // 2, w))
        n = int(rng.integers(1, 4))
        for j in range(k, min(k + n, t)):
            y0, x0 = max(y, 0), max(x, 0)
            y1, x1 = min(y + size, h), min(x + size, w)
            if y0 >= y1 or x0 >= x1:
                continue
            under = clip[j, y0:y1, x0:x1]
            value = np.zeros((size, size, 3), np.float32)
            value[y0 - y : y1 - y, x0 - x : x1 - x] = np.clip(under + density + tint, -0.1, 1.1)
            _composite(clip[j], mask[j], cls[j], shape, value, y, x)
        drawn.append({"frame": k, "frames": n, "size": size, "density": float(density)})
    return drawn


def _procedural_speck(category: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Fallback shapes when no templates are given: [h, w, 2] (alpha, grey)."""
    size = max(size, 2)
    if category in ("hair", "hair-short", "lint", "scratches"):
        canvas = np.zeros((size, size), np.float32)
        n = size * 3
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.08, n))
        step = 0.5 if category != "scratches" else 0.7
        ys = size / 2 + np.cumsum(np.sin(ang) * step) - np.sin(ang).sum() * step / 2
        xs = size / 2 + np.cumsum(np.cos(ang) * step) - np.cos(ang).sum() * step / 2
        keep = (ys >= 0) & (ys < size) & (xs >= 0) & (xs < size)
        canvas[ys[keep].astype(int), xs[keep].astype(int)] = 1.0
        alpha = np.clip(ndimage.gaussian_filter(canvas, 0.6) * 3, 0, 1)
    else:
        alpha = _soft_shape(size, rng, roughness=1.0)
        if category == "stain":
            alpha *= rng.uniform(0.4, 0.8)
    return np.stack([alpha, np.full_like(alpha, 0.8)], axis=-1)


def _place(tmpl: np.ndarray, long_side: float, rng: np.random.Generator) -> np.ndarray:
    th, tw = tmpl.shape[:2]
    z = max(long_side, 1.0) / max(th, tw)
    out = ndimage.zoom(tmpl, (z, z, 1), order=1) if abs(z - 1) > 1e-3 else tmpl
    out = np.rot90(out, int(rng.integers(4)))
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(np.clip(out, 0, 1))


def _specks(clip: np.ndarray, mask: np.ndarray, cls: np.ndarray, rng: np.random.Generator,
            scale: float, cfg: DegradationConfig, templates: TemplateLibrary | None
            ) -> dict[str, int]:
    t, h, w, _ = clip.shape
    # counts scale with the frame's share of a 2K (2048 x 1556) frame
    area = (h * w) / (REFERENCE_WIDTH * REFERENCE_WIDTH * 0.76) / max(scale, 1e-3) ** 2
    area = min(max(area, 0.005), 4.0)
    counts: dict[str, int] = {}
    cats = [c for c in cfg.categories if templates is None or c in templates.files]
    for k in range(t):
        for cat in cats:
            kk, theta, mean_size = SPECK_PARAMS[cat]
            n = int(rng.poisson(rng.gamma(kk, theta) * cfg.specks * area))
            for _ in range(n):
                long_side = rng.gamma(3.0, mean_size / 3.0) * scale
                if long_side < 1.0:
                    continue
                tmpl = (templates.pick(cat, rng) if templates is not None
                        else _procedural_speck(cat, int(long_side) + 2, rng))
                shape = _place(tmpl, long_side, rng)
                alpha, grey = shape[..., 0], shape[..., 1]
                if rng.random() < 0.7:  # dark: dirt on the print
                    value = rng.uniform(0.0, 0.12) + 0.08 * (1 - grey)
                else:  # bright: dust on the negative
                    value = rng.uniform(0.82, 1.0) - 0.1 * (1 - grey)
                y = int(rng.integers(-alpha.shape[0] // 2, h))
                x = int(rng.integers(-alpha.shape[1] // 2, w))
                _composite(clip[k], mask[k], cls[k], alpha, value.astype(np.float32), y, x)
                counts[cat] = counts.get(cat, 0) + 1
    return counts
