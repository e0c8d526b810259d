"""The shipped default model: found with no path, deterministic, touches defects only."""

from __future__ import annotations

import numpy as np
import torch
from haineifrdm.exporter.onnx_export import _copy_half, _Denoiser, example_inputs

from haineifrdm.data.sources import bundled_image
from haineifrdm.engine import Restorer
from haineifrdm.model import load_model
from haineifrdm.models import default_model_path


def _window() -> tuple[np.ndarray, np.ndarray]:
    """Five grainy frames of a static picture; the centre one carries a dark speck."""
    rng = np.random.default_rng(3)
    img = bundled_image("astronaut")[40:136, 120:248].astype(np.float32)
    frames = np.stack([img + rng.normal(0, 0.015, img.shape).astype(np.float32)
                       for _ in range(5)])
    clean = frames[2].copy()
    frames[2, 50:56, 70:75] = 0.03
    return np.clip(frames, 0, 1).astype(np.float32), np.clip(clean, 0, 1)


def test_default_model_removes_a_speck_and_leaves_the_rest_bit_for_bit() -> None:
    window, clean = _window()
    restorer = Restorer(model="default", patch=64, steps=2, seed=0)
    out = restorer.restore(window, frame_index=2)
    again = Restorer(model="default", patch=64, steps=2, seed=0).restore(window, frame_index=2)
    assert np.array_equal(out, again)  # deterministic
    speck = (slice(50, 56), slice(70, 75))
    assert np.abs(out[speck] - clean[speck]).mean() < 0.3 * np.abs(window[2][speck]
                                                                      - clean[speck]).mean()
    changed = np.abs(out - window[2]).max(axis=-1) > 1e-6
    far = np.ones(changed.shape, bool)
    far[44:62, 64:81] = False
    assert changed[~far].any() and not changed[far].any()


def test_default_model_runs_in_fp16_without_overflow() -> None:
    """The trained decoder's activations pass FP16's range; it stays FP32 both in FP16
    exports and under autocast, so half precision stays finite and close."""
    net = load_model(default_model_path())
    inp = example_inputs(net, 64)
    args = [inp[k] for k in ("x_t", "window", "guide", "tokens", "box", "t_emb")]
    with torch.inference_mode():
        ref = net.denoiser(*args)
        with torch.autocast("cpu", torch.float16):
            auto = net.denoiser(*args)
        half = _Denoiser(_copy_half(net), torch.float16)(*args)
    for out in (auto, half):
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out.float(), ref, atol=2e-2, rtol=0)
