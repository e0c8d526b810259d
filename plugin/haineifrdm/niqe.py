"""NIQE, a no-reference image-quality score that runs offline (lower = more natural).

The method of Mittal, Soundararajan and Bovik (2013): mean-subtracted, contrast-
normalised (MSCN) luminance coefficients are summarised per patch by generalised-
Gaussian fits (of the coefficients and of their products with the four neighbours),
at two scales: 36 numbers per patch. A multivariate Gaussian fitted to the patches of
pristine images is the model; an image's score is the distance between that model
and the Gaussian fitted to the image's own patches.

The published parameters were fitted to a photo collection that is not available
offline here, so :func:`pristine_model` fits its own from the clean photographs bundled
with scikit-image (training and evaluation sets). Scores are therefore comparable
with each other, not with published NIQE numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage
from scipy.special import gamma as gamma_fn

PATCH = 96  # patch side at full scale (pixels)
SHARPNESS_KEEP = 0.75  # pristine patches kept: sharpness above this share of the maximum

_ALPHAS = np.arange(0.2, 10.0, 0.001)
# generalised-Gaussian moment ratios over the alpha grid
_GGD_RHO = gamma_fn(1 / _ALPHAS) * gamma_fn(3 / _ALPHAS) / gamma_fn(2 / _ALPHAS) ** 2
_AGGD_R = gamma_fn(2 / _ALPHAS) ** 2 / (gamma_fn(1 / _ALPHAS) * gamma_fn(3 / _ALPHAS))


@dataclass(frozen=True)
class NiqeModel:
    mean: np.ndarray  # [36]
    cov: np.ndarray  # [36, 36]


def luminance(img: np.ndarray) -> np.ndarray:
    """[H, W] or [H, W, 3] in [0, 1] -> luminance in 0..255 (float64)."""
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 3:
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114])
    return np.clip(a, 0.0, 1.0) * 255.0


def mscn(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MSCN coefficients and local deviation (Gaussian window, sigma 7/6)."""
    mu = ndimage.gaussian_filter(lum, 7 / 6, truncate=3.0, mode="nearest")
    var = ndimage.gaussian_filter(lum * lum, 7 / 6, truncate=3.0, mode="nearest") - mu * mu
    sigma = np.sqrt(np.abs(var))
    return (lum - mu) / (sigma + 1.0), sigma


def fit_ggd(x: np.ndarray) -> tuple[float, float]:
    """Shape and variance of a zero-mean generalised Gaussian (moment matching)."""
    var = float(np.mean(x * x))
    e_abs = float(np.mean(np.abs(x)))
    rho = var / max(e_abs * e_abs, 1e-12)
    alpha = float(_ALPHAS[np.argmin(np.abs(_GGD_RHO - rho))])
    return alpha, var


def fit_aggd(x: np.ndarray) -> tuple[float, float, float, float]:
    """Shape, mean, left and right variance of an asymmetric generalised Gaussian."""
    left, right = x[x < 0], x[x >= 0]
    sl = float(np.sqrt(np.mean(left * left))) if left.size else 1e-6
    sr = float(np.sqrt(np.mean(right * right))) if right.size else 1e-6
    g = sl / max(sr, 1e-12)
    r_hat = float(np.mean(np.abs(x))) ** 2 / max(float(np.mean(x * x)), 1e-12)
    big_r = r_hat * (g**3 + 1) * (g + 1) / (g * g + 1) ** 2
    alpha = float(_ALPHAS[np.argmin(np.abs(_AGGD_R - big_r))])
    eta = (sr - sl) * gamma_fn(2 / alpha) / gamma_fn(1 / alpha) * np.sqrt(
        gamma_fn(1 / alpha) / gamma_fn(3 / alpha))
    return alpha, float(eta), sl * sl, sr * sr


def _patch_features(coeffs: np.ndarray) -> list[float]:
    feats = list(fit_ggd(coeffs))
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        shifted = np.roll(coeffs, (-dy, -dx), axis=(0, 1))
        feats.extend(fit_aggd((coeffs * shifted)[: coeffs.shape[0] - 1, 1 : coeffs.shape[1] - 1]))
    return feats


def patch_features(lum: np.ndarray, patch: int = PATCH) -> tuple[np.ndarray, np.ndarray]:
    """Per-patch features [N, 36] and sharpness [N] of a luminance image (0..255)."""
    h, w = (lum.shape[0] // patch) * patch, (lum.shape[1] // patch) * patch
    if h == 0 or w == 0:
        raise ValueError(f"NIQE needs images of at least {patch}x{patch} pixels, "
                         f"got {lum.shape[1]}x{lum.shape[0]}")
    lum = lum[:h, :w]
    rows: list[list[float]] = []
    sharp: list[float] = []
    scales = [lum, _half(lum)]
    maps = [mscn(s) for s in scales]
    for y in range(0, h, patch):
        for x in range(0, w, patch):
            feats: list[float] = []
            for k, (coeffs, sigma) in enumerate(maps):
                p = patch >> k
                yy, xx = y >> k, x >> k
                feats.extend(_patch_features(coeffs[yy : yy + p, xx : xx + p]))
                if k == 0:
                    sharp.append(float(sigma[yy : yy + p, xx : xx + p].mean()))
            rows.append(feats)
    return np.asarray(rows), np.asarray(sharp)


def _half(lum: np.ndarray) -> np.ndarray:
    """Half resolution with an area filter (dimensions even)."""
    h, w = lum.shape[0] // 2 * 2, lum.shape[1] // 2 * 2
    a = lum[:h, :w]
    return 0.25 * (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2])


def fit_model(images: list[np.ndarray]) -> NiqeModel:
    """Pristine model from clean images ([H, W(, 3)] in [0, 1]); only sharp patches count."""
    kept = []
    for img in images:
        feats, sharp = patch_features(luminance(img))
        kept.append(feats[sharp > SHARPNESS_KEEP * sharp.max()])
    allf = np.concatenate(kept)
    allf = allf[np.isfinite(allf).all(axis=1)]
    return NiqeModel(allf.mean(axis=0), np.cov(allf, rowvar=False))


@lru_cache(maxsize=1)
def pristine_model() -> NiqeModel:
    """Our pristine model: every clean scikit-image photograph we use, at least 192 px."""
    from .data.sources import EVAL_IMAGES, TRAIN_IMAGES, bundled_image

    imgs = [bundled_image(n) for n in (*TRAIN_IMAGES, *EVAL_IMAGES)]
    return fit_model([i for i in imgs if min(i.shape[:2]) >= 2 * PATCH])


def niqe(img: np.ndarray, model: NiqeModel | None = None) -> float:
    """NIQE score of one image [H, W(, 3)] in [0, 1] (at least 96 x 96); lower is better."""
    m = model or pristine_model()
    feats, _ = patch_features(luminance(img))
    feats = feats[np.isfinite(feats).all(axis=1)]
    mu = feats.mean(axis=0)
    cov = np.cov(feats, rowvar=False) if len(feats) > 1 else np.zeros_like(m.cov)
    d = m.mean - mu
    return float(np.sqrt(max(d @ np.linalg.pinv((m.cov + cov) / 2) @ d, 0.0)))
