"""The blotch graph and pass: engine input/apply, model contract, sampler, export, training."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from haineifrdm.exporter import read_manifest
from safetensors.torch import load_file
from scipy import ndimage

from haineifrdm import _engine
from haineifrdm.blotch_training import material_clip
from haineifrdm.cli.main import main
from haineifrdm.contract import BLOTCH_MULTIPLE, BLOTCH_SCALE, contract_spec
from haineifrdm.engine import Restorer
from haineifrdm.model import HaineiFRDM, create_model, load_model, save_model

ROOT = Path(__file__).resolve().parents[1]


def _window(h: int = 45, w: int = 70, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((5, h, w, 3), dtype=np.float32)


def _still_window(h: int, w: int, pan: int = 0, seed: int = 0) -> np.ndarray:
    """Five frames of one textured picture (fresh grain each), panning `pan` px a frame."""
    rng = np.random.default_rng(seed)
    pic = ndimage.gaussian_filter(rng.random((h + 80, w + 80, 3)), (4, 4, 0))
    pic = (0.5 + (pic - pic.mean()) / (6 * pic.std())).astype(np.float32)
    frames = [pic[40 + (k - 2) * pan // 2: 40 + (k - 2) * pan // 2 + h,
                  40 + (k - 2) * pan: 40 + (k - 2) * pan + w] for k in range(5)]
    grain = rng.normal(0, 0.01, (5, h, w, 3)).astype(np.float32)
    return np.ascontiguousarray(np.stack(frames) + grain, dtype=np.float32)


def _constant_blotch(net: HaineiFRDM, offset: float) -> None:
    """Make the blotch network say `offset` everywhere, fully confident."""
    assert net.blotch_net is not None
    head = net.blotch_net.head
    with torch.no_grad():
        head.weight.zero_()
        head.bias[:3] = math.atanh(offset / 0.5)
        head.bias[3] = 30.0


def test_blotch_input_is_the_area_downscaled_window_edge_padded() -> None:
    win = _window(45, 70)
    q = _engine.blotch_input(win)
    assert (BLOTCH_SCALE, BLOTCH_MULTIPLE) == (4, 8)  # the engine's kBlotchScale, kBlotchMultiple
    assert q.shape == (1, 15, 16, 24)  # round(45/4)=11 -> 16, round(70/4)=18 -> 24
    ref = F.adaptive_avg_pool2d(torch.from_numpy(win).permute(0, 3, 1, 2), (11, 18))
    ref = ref.reshape(1, 15, 11, 18).numpy()
    np.testing.assert_allclose(q[:, :, :11, :18], ref, atol=1e-6)
    np.testing.assert_array_equal(q[:, :, 11:, :18], np.repeat(q[:, :, 10:11, :18], 5, axis=2))
    np.testing.assert_array_equal(q[:, :, :, 18:], np.repeat(q[:, :, :, 17:18], 6, axis=3))


def test_apply_blotch_offset_subtracts_where_the_frame_is_untouched() -> None:
    win = _window(64, 88)
    offset = np.zeros((1, 3, 16, 24), np.float32)
    offset[0, :, 4:10, 6:14] = 0.2
    restored = win[2].copy()
    restored[20:24, 30:34] = 0.5  # an earlier pass refilled these
    out, px = _engine.apply_blotch_offset(win, restored, offset, min_offset=0.05)
    up = F.interpolate(torch.from_numpy(offset[:, :, :, :22]), size=(64, 88),  # 22 = 88 / 4
                       mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
    applied = (np.abs(up).max(-1) >= 0.05)
    applied[20:24, 30:34] = False
    assert px == applied.sum() > 0
    np.testing.assert_allclose(out[applied], (win[2] - up)[applied], atol=1e-6)
    np.testing.assert_array_equal(out[~applied], restored[~applied])
    np.testing.assert_array_equal(out[20:24, 30:34], 0.5)
    with pytest.raises(ValueError, match="offset must be"):
        _engine.apply_blotch_offset(win, restored, offset[:, :, :8])


def test_model_blotch_contract() -> None:
    net = create_model("tiny", blotch=True).eval()
    spec = contract_spec(net.dims)
    assert spec["blotch"] is True and "blotch" in spec["graphs"]
    assert "blotch" not in contract_spec(create_model("tiny").dims)["graphs"]
    with torch.no_grad():
        out = net.blotch(torch.rand(2, 15, 16, 24))
    assert out.shape == (2, 3, 16, 24) and float(out.abs().max()) <= 0.5
    with pytest.raises(ValueError, match="multiple of 8"):
        net.blotch(torch.rand(1, 15, 12, 24))
    with pytest.raises(ValueError, match="15 channels"):
        net.blotch(torch.rand(1, 12, 16, 24))
    with pytest.raises(ValueError, match="no blotch network"):
        create_model("tiny").blotch(torch.rand(1, 15, 16, 24))


def test_camera_shift_gate() -> None:
    assert _engine.window_camera_shift(_still_window(64, 96)) == 0
    assert _engine.window_camera_shift(_still_window(64, 96, pan=12)) == 24  # 2 frames away


def test_sampler_runs_the_blotch_pass_on_untouched_pixels_of_still_shots() -> None:
    torch.manual_seed(0)
    net = create_model("tiny", keep_clean=True, blotch=True)
    with torch.no_grad():
        net.denoiser_net.head.bias[3] = -30.0  # the matte never fires: every pixel untouched
    _constant_blotch(net, 0.1)
    win = _still_window(40, 56)
    kw = {"patch": 32, "overlap": 8, "steps": 1, "deflicker": False}
    off = Restorer(model=net, blotch=False, **kw)
    on = Restorer(model=net, **kw)
    plain = off.restore(win)
    np.testing.assert_allclose(plain, win[2], atol=1e-6)  # the blend's rounding only
    res = on.run(win)
    np.testing.assert_allclose(res.image, win[2] - 0.1, atol=1e-5)
    assert on.last_timings["blotch_px"] == 40 * 56
    assert off.last_timings["blotch_px"] == 0
    # a pan closes the gate: the network takes moving picture for blotches
    panning = _still_window(40, 56, pan=12)
    np.testing.assert_allclose(on.restore(panning), panning[2], atol=1e-6)
    assert on.last_timings["blotch_px"] == 0


def test_export_carries_the_blotch_graph(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = create_model("tiny", keep_clean=True, blotch=True)
    with torch.no_grad():
        net.denoiser_net.head.bias[3] = -30.0
        assert net.blotch_net is not None
        net.blotch_net.head.weight.mul_(50.0)  # an offset that varies and matters
        net.blotch_net.head.bias[3] = 5.0
    ckpt = tmp_path / "b.safetensors"
    save_model(net, ckpt)
    out = tmp_path / "b-export"
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(out), "--patch", "32",
                 "--batch", "1-2", "--precision", "fp32"]) == 0
    man = read_manifest(out)
    assert man["files"]["blotch"] == "blotch.onnx" and "blotch" in man["contract"]["graphs"]
    checks = [c for c in man["validation"] if c["graph"] == "blotch"]
    assert len(checks) == 2 and all(c["ok"] for c in checks)
    win = _still_window(48, 64, seed=3)
    kw = {"patch": 32, "overlap": 8, "steps": 1, "deflicker": False}
    ort = Restorer(model=out, backend="onnxruntime", **kw)
    assert ort.backend.has_blotch
    a = ort.run(win)
    b = Restorer(model=out, backend="torch", **kw).run(win)
    assert a.timings["blotch_px"] > 0
    np.testing.assert_allclose(a.image, b.image, atol=1e-4)


def test_training_script_makes_material_trains_and_attaches(tmp_path: Path) -> None:
    win, off, mask, still = material_clip(3, None)
    assert win.shape == (3, 5, 64, 88, 3) and off.shape == (3, 64, 88, 3)
    assert mask.shape == (3, 64, 88) and still.shape == (3,) and win.dtype == np.float16
    net = create_model("tiny")
    src = tmp_path / "tiny.safetensors"
    save_model(net, src)
    dst = tmp_path / "tiny-blotch.safetensors"
    script = str(ROOT / "scripts" / "train_blotch.py")
    run = subprocess.run([sys.executable, script, str(src), str(dst), "--material",
                          str(tmp_path / "mat"), "--clips", "2", "--workers", "1",
                          "--minutes", "0.01", "--held-out", "2"],
                         capture_output=True, text=True, check=True)
    assert "done:" in run.stdout and (tmp_path / "mat" / "blotch_000000.npz").is_file()
    got = load_model(dst)
    assert got.config.blotch and got.blotch_net is not None
    trained = load_file(str(dst.with_suffix(".blotch.safetensors")))
    for k, v in trained.items():
        assert torch.equal(got.blotch_net.state_dict()[k], v)
    for k, v in net.state_dict().items():  # the main network is copied unchanged
        assert torch.equal(got.state_dict()[k], v)
    # trained weights attach as they are, and the input is never overwritten
    again = tmp_path / "again.safetensors"
    subprocess.run([sys.executable, script, str(src), str(again), "--blotch-weights",
                    str(dst.with_suffix(".blotch.safetensors"))], check=True)
    assert torch.equal(load_model(again).blotch_net.head.weight, trained["head.weight"])
    bad = subprocess.run([sys.executable, script, str(src), str(src), "--blotch-weights",
                          str(dst.with_suffix(".blotch.safetensors"))],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "never overwritten" in bad.stderr


def test_blotch_net_config_round_trips(tmp_path: Path) -> None:
    net = create_model("tiny", blotch=True)
    path = tmp_path / "m.safetensors"
    save_model(net, path)
    back = load_model(path)
    assert back.config == replace(net.config)
    x = torch.rand(1, 15, 16, 16)
    assert torch.equal(back.blotch(x), net.eval().blotch(x))


def test_summarise_eval_prints_each_method(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    row = {"psnr": 30.0, "psnr_in": 20.0, "psnr_out": 60.0}
    report.write_text(json.dumps({"overall": {"input": row, "steps1": {**row, "psnr": 31.5}}}))
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "summarise_eval.py"),
                          str(report)], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1].endswith("steps1   whole / inside / outside "
                                                  "31.50 / 20.00 / 60.00")
