"""Training of the blotch network (model/blotch.py), apart from the main network.

Material is made once: synthetic clips (the training photographs, panning and
locked-off scenes, every defect class, blotches in most) degraded with their blotch
offset kept, reduced to what the network sees: 5-frame windows and the centre's
offset, area-downscaled by 4 (float16). Training draws whole quarter-size frames
from it with flips and time reversal.

Loss: squared error of the offset (weighted 5x inside blotches, x200 overall) plus
0.2 x the confidence's BCE against the blotch mask (positives weighted 3x). AdamW,
lr 2e-3 with 200 warm-up steps and a cosine over the time budget, EMA 0.995, batch
24, gradient norm clipped at 1.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from .contract import BLOTCH_SCALE
from .data.degrade import DegradationConfig, synthesize
from .data.sources import STILL_SCENE, TRAIN_IMAGES, SceneConfig, render_scene
from .data.templates import TemplateLibrary
from .model.blotch import BlotchNet

#: windows per clip: centres 2, 3 and 4 of a 7-frame clip
CENTRES = (2, 3, 4)


def quarter(a: np.ndarray) -> np.ndarray:
    """[..., H, W, C] -> area mean over BLOTCH_SCALE x BLOTCH_SCALE blocks (H, W cropped)."""
    s = BLOTCH_SCALE
    h, w = a.shape[-3] // s * s, a.shape[-2] // s * s
    a = a[..., :h, :w, :]
    shape = a.shape
    return a.reshape(*shape[:-3], h // s, s, w // s, s, shape[-1]).mean(axis=(-4, -2))


def material_clip(i: int, templates: TemplateLibrary | None, photos: tuple[str, ...] = ()
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clip ``i`` (seeded by i alone): windows [3, 5, h, w, 3], offsets [3, h, w, 3],
    blotch masks [3, h, w] at a quarter of 256 x 352, and [3] flags: a locked-off shot.
    ``photos``: image files in place of the skimage training photographs (the same
    pictures, saved by scripts/make_training_material.py, on machines without skimage)."""
    rng = np.random.default_rng((777, i))
    still = rng.random() < 0.45
    scene = replace(STILL_SCENE if still else SceneConfig(), frames=7, height=256, width=352)
    clean = render_scene(rng, scene, photos or TRAIN_IMAGES)
    scale = float(rng.uniform(0.8, 1.0) if still else rng.uniform(0.4, 0.8))
    cfg = DegradationConfig(seed=900_000 + i, scale=scale, grain=float(rng.uniform(0.01, 0.03)),
                            weave=still, specks=float(rng.choice([0.0, 10.0, 30.0])),
                            line_scratches=bool(rng.random() < 0.4),
                            blotch_prob=float(rng.choice([0.0, 0.3, 0.6, 0.6])),
                            flicker=float(rng.choice([0.0, 0.04, 0.06])))
    res = synthesize(clean, cfg, templates, keep_blotch_offset=True)
    assert res.blotch_offset is not None
    mask = res.class_masks["blotch"].astype(np.float32)[..., None]
    win = np.stack([quarter(res.degraded[k - 2:k + 3]) for k in CENTRES])
    off = np.stack([quarter(res.blotch_offset[k]) for k in CENTRES])
    m = np.stack([quarter(mask[k])[..., 0] for k in CENTRES])
    flags = np.full(len(CENTRES), float(still), np.float16)
    return win.astype(np.float16), off.astype(np.float16), m.astype(np.float16), flags


_WORKER_ARGS: tuple[TemplateLibrary | None, tuple[str, ...]] = (None, ())


def _worker(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return material_clip(i, *_WORKER_ARGS)


def make_material(out: str | Path, clips: int, templates: TemplateLibrary | None,
                  workers: int = 1, start: int = 0, photos: tuple[str, ...] = ()) -> Path:
    """Write clips ``start`` .. ``start + clips - 1`` to ``out`` (.npz, written atomically)."""
    global _WORKER_ARGS
    out = Path(out)
    _WORKER_ARGS = (templates, photos)
    ids = range(start, start + clips)
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            rows = pool.map(_worker, ids)
    else:
        rows = [_worker(i) for i in ids]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.npz")  # hidden: no glob of finished files sees it
    np.savez(tmp, win=np.concatenate([r[0] for r in rows]),
             off=np.concatenate([r[1] for r in rows]),
             mask=np.concatenate([r[2] for r in rows]),
             still=np.concatenate([r[3] for r in rows]))
    tmp.replace(out)
    return out


def load_material(paths: list[Path]
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(windows [N, 5, 3, h, w], offsets [N, 3, h, w], masks [N, 1, h, w]) in float32, and
    [N] bool: the window is from a locked-off shot."""
    win, off, mask, still = [], [], [], []
    for p in paths:
        with np.load(p) as d:
            win.append(d["win"])
            off.append(d["off"])
            mask.append(d["mask"])
            still.append(d["still"])
    w = torch.from_numpy(np.concatenate(win).astype(np.float32)).permute(0, 1, 4, 2, 3)
    o = torch.from_numpy(np.concatenate(off).astype(np.float32)).permute(0, 3, 1, 2)
    m = torch.from_numpy(np.concatenate(mask).astype(np.float32))[:, None]
    s = torch.from_numpy(np.concatenate(still) > 0.5)
    return w.contiguous(), o.contiguous(), m, s


def loss_terms(net: BlotchNet, win: torch.Tensor, off: torch.Tensor, mask: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """(offset term, confidence term) for windows [B, 5, 3, h, w]."""
    b, f, c, h, w = win.shape
    pred, logit = net.raw(win.reshape(b, f * c, h, w))
    weight = 1.0 + 4.0 * (mask > 0.5).float()
    sq = ((pred - off) ** 2 * weight).mean() * 200
    positive = torch.tensor(3.0, device=logit.device)
    bce = 0.2 * F.binary_cross_entropy_with_logits(logit, mask, pos_weight=positive)
    return sq, bce


def train_blotch(material: list[Path], minutes: float, seed: int = 0, batch: int = 24,
                 held_out: int = 150, lr: float = 2e-3, device: str | None = None,
                 init: dict[str, torch.Tensor] | None = None, still_share: float | None = None,
                 checkpoint: Path | None = None,
                 log: Callable[[str], None] = print) -> dict[str, torch.Tensor]:
    """Train for ``minutes`` of wall time (on CUDA when there is one, unless ``device``
    says otherwise), from ``init`` weights if given; returns the EMA weights (on the
    CPU). ``still_share``: the share of each batch drawn from locked-off shots (None:
    as the material has them). The first ``held_out`` windows are never trained on;
    their error is logged (and the EMA weights written to ``checkpoint``, atomically)
    every 100 steps."""
    torch.manual_seed(seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    win, off, mask, still = (t.to(dev) for t in load_material(material))
    n = len(win)
    if n <= held_out:
        raise ValueError(f"{n} windows of material; need more than the {held_out} held out")
    ids = torch.arange(n, device=dev)
    pools = (ids[held_out:][still[held_out:]], ids[held_out:][~still[held_out:]])
    if still_share is not None and min(len(pools[0]), len(pools[1])) == 0:
        raise ValueError("still_share needs both locked-off and panning windows")
    net = BlotchNet().to(dev)
    if init is not None:
        net.load_state_dict(init)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    t0, step = time.time(), 0
    budget = minutes * 60
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, step / 200) * 0.5 * (1 + math.cos(math.pi * frac))
        if still_share is None:
            idx = torch.randint(held_out, n, (batch,)).to(dev)
        else:
            n_still = round(batch * still_share)
            idx = torch.cat([p[torch.randint(len(p), (m_,)).to(dev)]
                             for p, m_ in zip(pools, (n_still, batch - n_still), strict=True)])
        w, o, m = win[idx], off[idx], mask[idx]
        if torch.rand(1) < 0.5:
            w, o, m = w.flip(-1), o.flip(-1), m.flip(-1)
        if torch.rand(1) < 0.5:
            w, o, m = w.flip(-2), o.flip(-2), m.flip(-2)
        if torch.rand(1) < 0.3:
            w = w.flip(1)  # time reversed
        sq, bce = loss_terms(net, w, o, m)  # FP32: offsets of 0.01 matter
        opt.zero_grad()
        (sq + bce).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for k, v in net.state_dict().items():
                ema[k].mul_(0.995).add_(v.detach(), alpha=0.005)
        step += 1
        if step % 100 == 0:
            log(f"step {step} {time.time() - t0:.0f}s loss {float((sq + bce).detach()):.4f} "
                f"held-out rms in blotches {held_out_rms(ema, win, off, mask, held_out):.4f}")
            if checkpoint is not None:
                save_weights({k: v.cpu() for k, v in ema.items()}, checkpoint)
    log(f"done: {step} steps in {time.time() - t0:.0f} s on {dev.type}")
    return {k: v.cpu() for k, v in ema.items()}


def save_weights(state: dict[str, torch.Tensor], path: Path) -> None:
    """Write blotch-network weights as safetensors, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(path)


def held_out_rms(state: dict[str, torch.Tensor], win: torch.Tensor, off: torch.Tensor,
                 mask: torch.Tensor, held_out: int) -> float:
    """RMS error of the confidence-weighted offset inside the held-out windows' blotches."""
    net = BlotchNet().to(win.device)
    net.load_state_dict(state)
    w = win[:held_out]
    b, f, c, h, wd = w.shape
    with torch.no_grad():
        pred = net(w.reshape(b, f * c, h, wd))
    inside = mask[:held_out] > 0.5
    err = ((pred - off[:held_out]) ** 2).mean(1, keepdim=True)[inside]
    return float(err.mean().sqrt()) if err.numel() else 0.0
