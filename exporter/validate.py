"""Numerical validation of exported graphs: ONNX checker, ONNX Runtime vs PyTorch."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from haineifrdm.contract import BLOTCH_MULTIPLE, BLOTCH_SCALE
from haineifrdm.data.degrade import DegradationConfig, synthesize
from haineifrdm.data.sources import EVAL_IMAGES, SceneConfig, render_scene
from haineifrdm.diffusion import embed_timestep
from haineifrdm.model import HaineiFRDM

TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2}  # max |ort - torch| / max(|torch|, 1)


@dataclass
class Check:
    graph: str
    inputs: str  # "random" or "real"
    precision: str
    max_abs: float
    max_rel: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_rel <= self.tolerance


def real_inputs(net: HaineiFRDM, patch: int, batch: int = 2) -> dict[str, np.ndarray]:
    """Inputs cut from a degraded synthetic fast-motion clip (held-out photographs)."""
    d = net.dims
    f = d.window_frames
    h, w = max(patch, 64), max(patch, 64)
    clip = render_scene(np.random.default_rng(3), SceneConfig(frames=f, height=h, width=w),
                        EVAL_IMAGES)
    deg = synthesize(clip, DegradationConfig(seed=3, specks=40.0)).degraded
    win = torch.from_numpy(deg).permute(0, 3, 1, 2)[:, :, :patch, :patch]
    window = win.reshape(1, 3 * f, patch, patch).repeat(batch, 1, 1, 1)
    guide = window[:, 3 * d.radius : 3 * d.radius + 3]
    thumb = torch.nn.functional.interpolate(torch.from_numpy(deg).permute(0, 3, 1, 2),
                                            size=(d.thumb, d.thumb), mode="area")
    thumb = thumb.reshape(1, 3 * f, d.thumb, d.thumb)
    with torch.no_grad():
        tokens = net.context(thumb).repeat(batch, 1, 1)
    # the blotch graph's input: the whole window at a quarter of the size (h, w multiples of 8)
    s, m = BLOTCH_SCALE, BLOTCH_MULTIPLE
    q = torch.nn.functional.avg_pool2d(torch.from_numpy(deg).permute(0, 3, 1, 2), s)
    qh, qw = q.shape[2] // m * m, q.shape[3] // m * m
    q = q[:, :, :qh, :qw].reshape(1, 3 * f, qh, qw)
    return {"x_t": (guide + 0.05 * torch.randn(guide.shape)).numpy(), "window": window.numpy(),
            "guide": guide.numpy(), "tokens": tokens.numpy(),
            "box": np.array([[0.1, 0.2, 0.1 + patch / w, 0.2 + patch / h]] * batch, np.float32),
            "t_emb": embed_timestep(torch.linspace(0.1, 0.9, batch), 2).numpy(),
            "thumb": thumb.numpy(), "window_q": q.contiguous().numpy()}


def _compare(ref: np.ndarray, got: np.ndarray) -> tuple[float, float]:
    err = float(np.abs(ref - got).max())
    return err, err / max(float(np.abs(ref).max()), 1.0)


def validate_export(net: HaineiFRDM, out_dir: Path, files: dict[str, str], patch: int
                    ) -> list[Check]:
    import onnx
    import onnxruntime as ort

    from .onnx_export import example_inputs

    for name in files.values():
        if name.endswith(".onnx"):
            onnx.checker.check_model(str(out_dir / name), full_check=True)
    rnd = {k: v.numpy() for k, v in example_inputs(net, patch).items()}
    real = real_inputs(net, patch)
    net = net.float().eval().cpu()
    checks = []
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sessions = {k: ort.InferenceSession(str(out_dir / v), opts,
                                        providers=["CPUExecutionProvider"])
                for k, v in files.items() if v.endswith(".onnx")}
    for label, feed in (("random", rnd), ("real", real)):
        with torch.no_grad():
            tok = net.context(torch.from_numpy(feed["thumb"])).numpy()
            ref = net.denoiser(*(torch.from_numpy(feed[n]) for n in
                                 ("x_t", "window", "guide", "tokens", "box", "t_emb"))).numpy()
        got_tok = sessions["context"].run(None, {"thumb": feed["thumb"]})[0]
        checks.append(Check("context", label, "fp32", *_compare(tok, got_tok), TOLERANCE["fp32"]))
        dfeed = {n: feed[n] for n in ("x_t", "window", "guide", "tokens", "box", "t_emb")}
        for key, prec in (("denoiser", "fp32"), ("denoiser_fp16", "fp16")):
            if key in sessions:
                got = sessions[key].run(None, dfeed)[0]
                checks.append(Check(key, label, prec, *_compare(ref, got), TOLERANCE[prec]))
        if "blotch" in sessions:
            with torch.no_grad():
                ref_b = net.blotch(torch.from_numpy(feed["window_q"])).numpy()
            got_b = sessions["blotch"].run(None, {"window_q": feed["window_q"]})[0]
            checks.append(Check("blotch", label, "fp32", *_compare(ref_b, got_b),
                                TOLERANCE["fp32"]))
    return checks


def checks_json(checks: list[Check]) -> list[dict[str, Any]]:
    return [{**asdict(c), "ok": c.ok} for c in checks]
