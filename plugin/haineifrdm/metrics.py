"""Quality measures on float RGB frames [H, W, 3] (values nominally in [0, 1])."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity

PSNR_CAP = 99.0  # identical images score this instead of infinity (keeps means finite)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB over all pixels, or over ``mask`` (bool [H, W]) only; capped at 99 dB."""
    d = (np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2
    if mask is not None:
        if not mask.any():
            return float("nan")
        d = d[mask]
    mse = float(d.mean())
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * float(np.log10(1.0 / mse)))


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM (RGB, 7x7 window), over ``mask`` when given."""
    _, full = structural_similarity(np.clip(a, 0, 1), np.clip(b, 0, 1), channel_axis=-1,
                                    data_range=1.0, full=True)
    s = full.mean(axis=-1)
    if mask is not None:
        return float(s[mask].mean()) if mask.any() else float("nan")
    return float(s.mean())


def highpass(img: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    luma = img.mean(axis=-1)
    return luma - ndimage.gaussian_filter(luma, sigma)


def grain_ratio(restored: np.ndarray, clean: np.ndarray, mask: np.ndarray | None = None
                ) -> float:
    """High-pass std of restored / clean outside the mask: 1.0 = grain kept, < 1 smoothed;
    nan when the mask covers the whole frame."""
    keep = np.ones(clean.shape[:2], bool) if mask is None else ~mask
    if not keep.any():
        return float("nan")
    c = highpass(clean)[keep].std()
    return float(highpass(restored)[keep].std() / max(c, 1e-8))


def temporal_flicker(frames: np.ndarray) -> float:
    """Std over time of per-frame mean luminance; frames [T, H, W, 3]."""
    return float(frames.mean(axis=(1, 2, 3)).std())


def impulses(window: np.ndarray, frame: np.ndarray | None = None, level: float = 0.1,
             min_px: int = 3) -> int:
    """Single-frame impulses in the centre of ``window`` [F, H, W, 3] (or in ``frame``
    [H, W, 3], a restoration of it, against the window's other frames): 8-connected
    groups of at least ``min_px`` pixels whose grey level differs from every other
    frame at the same place by over ``level`` (each frame brought to the judged frame's
    exposure by the ratio of their median grey levels), all with one sign. Dust and
    dirt, and whatever moves or weaves: a count to compare before and after, not a
    defect count."""
    grey = window.mean(axis=-1)
    centre = grey[len(grey) // 2] if frame is None else frame.mean(axis=-1)
    others = np.delete(grey, len(grey) // 2, axis=0)
    gain = np.median(centre) / np.maximum(np.median(others.reshape(len(others), -1), axis=1),
                                          1e-6)
    diff = centre[None] - others * gain[:, None, None]
    hit = (diff > level).all(axis=0) | (diff < -level).all(axis=0)
    labels, n = ndimage.label(hit, structure=np.ones((3, 3), bool))
    if n == 0:
        return 0
    sizes = ndimage.sum_labels(hit, labels, index=np.arange(1, n + 1))
    return int((sizes >= min_px).sum())


def dilate(mask: np.ndarray, pixels: int = 2) -> np.ndarray:
    return ndimage.binary_dilation(mask, iterations=pixels) if pixels > 0 else mask


def frame_scores(out: np.ndarray, clean: np.ndarray, defect: np.ndarray) -> dict[str, float]:
    """PSNR/SSIM whole, inside the dilated defect mask and outside it; grain ratio."""
    inside = dilate(defect, 2)
    return {"psnr": psnr(out, clean), "ssim": ssim(out, clean),
            "psnr_in": psnr(out, clean, inside), "psnr_out": psnr(out, clean, ~inside),
            "ssim_in": ssim(out, clean, inside), "ssim_out": ssim(out, clean, ~inside),
            "grain_ratio": grain_ratio(out, clean, inside)}
