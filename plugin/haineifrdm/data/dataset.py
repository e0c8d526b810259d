"""Training samples in exactly the network contract's shapes.

Each sample is one training example for one of the two stages:

* stage 2 (full-resolution patches): a random P x P crop of a larger frame;
  ``window`` the 2r+1 degraded frames of the crop, ``target`` the clean centre
  crop, ``box`` the crop rectangle in normalised frame coordinates, ``guide`` an
  upsampled low-resolution clean frame perturbed like an imperfect stage-1 result
  (blurred by the down/up-sampling, a little noise, and 0-100 % of the defects left
  in: all of them half of the time, as stage 1 misses most small defects);
* stage 1 (whole frame at low resolution): every frame area-downscaled so its long
  side is between P and the frame's own (the sampler's stage-1 size varies with the
  patch size and the frame), reflect-padded to at least P x P and a random P x P crop
  taken; ``guide`` is the degraded centre frame there.

With ``register_frames`` every window is read the way the sampler reads it for
such a model: each frame through the engine's per-patch motion-compensating
shift (``_engine.patch_shifts`` / ``_engine.extract_patch``, the same C++ code).

Both carry ``thumb`` (the whole degraded window at THUMB x THUMB) and ``mask``.
Tensors are float32 CHW; frames are stacked on channels, oldest first.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from .. import _engine
from ..contract import THUMB_SIZE
from .pack import Pack


def area_resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """[N, C, H, W] -> [N, C, h, w] with an area (box) filter; bilinear when enlarging."""
    if size[0] <= x.shape[-2] and size[1] <= x.shape[-1]:
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def fit_long_side(h: int, w: int, side: int) -> tuple[int, int]:
    """(h', w') with max(h', w') == side and the aspect ratio kept (each >= 1)."""
    s = side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def pad_to(x: Tensor, size: int) -> Tensor:
    """Reflect-pad [N, C, h, w] on the bottom/right to [N, C, size, size] (h, w <= size)."""
    ph, pw = size - x.shape[-2], size - x.shape[-1]
    while ph > 0 or pw > 0:  # reflect needs pad < dim; grow in steps
        sh, sw = min(ph, x.shape[-2] - 1), min(pw, x.shape[-1] - 1)
        if (sh <= 0 and ph > 0) or (sw <= 0 and pw > 0):
            x = F.pad(x, (0, max(pw, 0), 0, max(ph, 0)), mode="replicate")
            break
        x = F.pad(x, (0, max(sw, 0), 0, max(sh, 0)), mode="reflect")
        ph, pw = size - x.shape[-2], size - x.shape[-1]
    return x


def registered_window(frames: Tensor, y: int, x: int, p: int, max_shift: int) -> Tensor:
    """[F, 3, H, W] -> [3F, p, p]: the p x p patch at (y, x) of every frame read
    through its motion-compensating shift onto the centre frame (reflect padding past
    the edges), exactly as the engine's sampler extracts it."""
    hwc = np.ascontiguousarray(frames.permute(0, 2, 3, 1).numpy(), dtype=np.float32)
    shifts = _engine.patch_shifts(hwc, y, x, p, max_shift)
    return torch.from_numpy(_engine.extract_patch(hwc, y, x, p, shifts))


class RestorationDataset(Dataset[dict[str, Tensor]]):
    """Random samples from a :class:`Pack`; ``length`` samples per epoch, seeded per index."""

    def __init__(self, pack: Pack, patch: int = 128, radius: int = 2, stage1_prob: float = 0.25,
                 length: int = 100_000, seed: int = 0, register_frames: bool = False) -> None:
        t = pack.clean.shape[1]
        if 2 * radius + 1 > t:
            raise ValueError(f"pack clips have {t} frames; radius {radius} needs {2 * radius + 1}")
        h, w = pack.clean.shape[2:4]
        if patch > min(h, w):
            raise ValueError(f"patch {patch} is larger than the pack's frames ({h}x{w})")
        self.pack, self.patch, self.radius = pack, patch, radius
        self.stage1_prob, self.length, self.seed = stage1_prob, length, seed
        self.register_frames = register_frames

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = np.random.default_rng((self.seed, index))
        pk, r, _p = self.pack, self.radius, self.patch
        clip = int(rng.integers(len(pk)))
        t = pk.clean.shape[1]
        c = int(rng.integers(r, t - r))
        sl = slice(c - r, c + r + 1)
        deg = torch.from_numpy(np.asarray(pk.degraded[clip, sl])).permute(0, 3, 1, 2).float() / 255
        clean = torch.from_numpy(np.asarray(pk.clean[clip, c])).permute(2, 0, 1).float() / 255
        mask = torch.from_numpy(np.asarray(pk.mask[clip, c])).float()[None] / 255
        if rng.random() < 0.5:  # horizontal flip
            deg, clean, mask = deg.flip(-1), clean.flip(-1), mask.flip(-1)
        if rng.random() < 0.5:  # time reversal
            deg = deg.flip(0)
        f, _, _h, _w = deg.shape
        thumb = area_resize(deg, (THUMB_SIZE, THUMB_SIZE)).reshape(f * 3, THUMB_SIZE, THUMB_SIZE)
        if rng.random() < self.stage1_prob:
            sample = self._stage1(deg, clean, mask, rng)
        else:
            sample = self._stage2(deg, clean, mask, rng)
        sample["thumb"] = thumb
        return sample

    def _stage1(self, deg: Tensor, clean: Tensor, mask: Tensor, rng: np.random.Generator
                ) -> dict[str, Tensor]:
        f, _, h, w = deg.shape
        p, r = self.patch, self.radius
        side = int(rng.integers(p, max(p, h, w) + 1))
        lh, lw = fit_long_side(h, w, side)
        size = max(p, lh, lw)
        low = area_resize(deg, (lh, lw))
        target = pad_to(area_resize(clean[None], (lh, lw)), size)[0]
        m = pad_to(area_resize(mask[None], (lh, lw)), size)[0]
        y, x = int(rng.integers(0, size - p + 1)), int(rng.integers(0, size - p + 1))
        target, m = (a[:, y : y + p, x : x + p] for a in (target, m))
        if self.register_frames:
            reach = _engine.scaled_max_shift(max(lh, lw), max(h, w))
            window = registered_window(low, y, x, p, reach)
        else:
            window = pad_to(low, size).reshape(f * 3, size, size)[:, y : y + p, x : x + p]
        box = torch.tensor([x / lw, y / lh, (x + p) / lw, (y + p) / lh])
        guide = window[3 * r : 3 * r + 3].clone()
        return {"window": window, "guide": guide, "target": target, "mask": m, "box": box,
                "stage": torch.tensor(1)}

    def _stage2(self, deg: Tensor, clean: Tensor, mask: Tensor, rng: np.random.Generator
                ) -> dict[str, Tensor]:
        f, _, h, w = deg.shape
        p, r = self.patch, self.radius
        y, x = int(rng.integers(0, h - p + 1)), int(rng.integers(0, w - p + 1))
        if self.register_frames:
            window = registered_window(deg, y, x, p, _engine.MAX_SHIFT_PER_FRAME)
        else:
            window = deg[:, :, y : y + p, x : x + p].reshape(f * 3, p, p)
        target = clean[:, y : y + p, x : x + p]
        m = mask[:, y : y + p, x : x + p]
        centre = window[3 * r : 3 * r + 3]
        # imperfect stage-1 result: low-res clean + defect residue (anything from none to
        # all of it, all of it half of the time: stage 1 misses what it cannot see at
        # low resolution), blurred by resampling
        residue = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.0, 1.0))
        rough = target + residue * (centre - target)
        factor = float(rng.uniform(2.0, 5.0))
        small = max(4, round(p / factor))
        low = area_resize(rough[None], (small, small))
        guide = F.interpolate(low, size=(p, p), mode="bicubic", align_corners=False)[0]
        guide = guide + float(rng.uniform(0, 0.01)) * torch.from_numpy(
            rng.standard_normal(guide.shape).astype(np.float32))
        box = torch.tensor([x / w, y / h, (x + p) / w, (y + p) / h])
        return {"window": window, "guide": guide, "target": target, "mask": m, "box": box,
                "stage": torch.tensor(2)}
