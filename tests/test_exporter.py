"""Export to ONNX FP32/FP16 with validation; ORT backend matches PyTorch; bad input."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from haineifrdm.exporter import read_manifest
from haineifrdm.exporter.trt_ops import check_graph
from onnx import TensorProto, helper

from haineifrdm.cli.main import main
from haineifrdm.engine import Restorer
from haineifrdm.model import HaineiFRDM, create_model, save_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = create_model("tiny")
    with torch.no_grad():
        net.denoiser_net.head.weight.mul_(200.0)  # a residual that matters
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_model(net, path)
    return path


@pytest.fixture(scope="module")
def exported(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exp") / "tiny-export"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out),
                 "--patch", "32", "--batch", "1-4"]) == 0
    return out


def test_export_writes_validated_graphs_and_manifest(exported: Path) -> None:
    names = {p.name for p in exported.iterdir()}
    assert {"manifest.json", "context.onnx", "denoiser.onnx", "denoiser.fp16.onnx",
            "model.safetensors"} <= names
    m = read_manifest(exported)
    assert m["patch"] == 32 and m["batch_range"] == [1, 4] and m["opset"] == 17
    assert m["schedule"]["steps"] == 4 and len(m["schedule"]["etas"]) == 4
    assert [t["name"] for t in m["contract"]["graphs"]["denoiser"]["inputs"]] == \
        ["x_t", "window", "guide", "tokens", "box", "t_emb"]
    # how the engine must read the window is part of the contract, from the model config
    assert m["contract"]["register_frames"] is False
    assert m["model"]["config"]["register_frames"] is False
    assert all(c["ok"] for c in m["validation"])
    assert {c["precision"] for c in m["validation"]} == {"fp32", "fp16"}
    assert m["tensorrt_static_check"] == {"context": "ok", "denoiser": "ok",
                                          "denoiser_fp16": "ok"}
    for name in ("denoiser.onnx", "denoiser.fp16.onnx"):
        ops = {n.op_type for n in onnx.load(str(exported / name)).graph.node}
        assert "MatMul" in ops and not ops & {"DFT", "STFT"}
    fp16 = onnx.load(str(exported / "denoiser.fp16.onnx"))
    assert fp16.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT  # FP32 I/O
    assert any(i.data_type == TensorProto.FLOAT16 for i in fp16.graph.initializer)


def test_onnxruntime_backend_matches_torch(exported: Path) -> None:
    win = np.random.default_rng(0).random((5, 45, 70, 3), dtype=np.float32)
    kw = {"patch": 32, "overlap": 8, "steps": 2, "seed": 2}
    ort_out = Restorer(model=exported, backend="onnxruntime", **kw).restore(win)
    torch_out = Restorer(model=exported, backend="torch", **kw).restore(win)
    assert np.abs(torch_out - win[2]).max() > 0.05
    np.testing.assert_allclose(ort_out, torch_out, atol=1e-4, rtol=0)
    fp16 = Restorer(model=exported, backend="onnxruntime", precision="fp16", **kw).restore(win)
    np.testing.assert_allclose(fp16, torch_out, atol=2e-2, rtol=0)


def test_keep_clean_model_returns_clean_pixels_bit_for_bit(tmp_path: Path) -> None:
    torch.manual_seed(1)
    plain = create_model("tiny", keep_clean=True)
    net = HaineiFRDM(replace(plain.config, fill="gated"))  # the shipped model's form
    net.load_state_dict(plain.state_dict())
    with torch.no_grad():
        net.denoiser_net.head.weight.mul_(200.0)  # a residual and a matte that matter,
        net.denoiser_net.head.bias[3] = -4.0  # the matte on about a third of the frame
    ckpt = tmp_path / "keep.safetensors"
    save_model(net, ckpt)
    out = tmp_path / "keep-export"
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(out), "--patch", "32",
                 "--batch", "1-4"]) == 0
    config = read_manifest(out)["model"]["config"]
    assert config["keep_clean"] is True and config["fill"] == "gated"
    win = np.random.default_rng(0).random((5, 45, 70, 3), dtype=np.float32)
    kw = {"patch": 32, "overlap": 8, "steps": 2, "seed": 2}
    ort_out = Restorer(model=out, backend="onnxruntime", **kw).restore(win)
    torch_out = Restorer(model=out, backend="torch", **kw).restore(win)
    np.testing.assert_allclose(ort_out, torch_out, atol=1e-4, rtol=0)
    change = np.abs(torch_out - win[2]).max(axis=-1)
    assert change.max() > 0.05  # the matte fired somewhere...
    assert (change <= 1e-6).mean() > 0.4  # ...and the rest came back as it went in


def _fails(args: list[str], capsys: pytest.CaptureFixture[str], needle: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err


def test_bad_input(tmp_path: Path, checkpoint: Path, exported: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    _fails(["export", "--checkpoint", str(tmp_path / "nope.safetensors"), "--out", str(out)],
           capsys, "model not found")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 100)
    _fails(["export", "--checkpoint", str(corrupt), "--out", str(out)], capsys, "cannot load")
    _fails(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--precision", "int4"],
           capsys, "unsupported precision")
    _fails(["export", "--checkpoint", str(checkpoint), "--out", str(exported)], capsys,
           "not empty")
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        _fails(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--tensorrt",
                "--patch", "32"], capsys, "TensorRT is not installed")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]


def test_tampered_exports_are_refused(tmp_path: Path, exported: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(exported, bad)
    (bad / "denoiser.onnx").write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="ONNX Runtime cannot load"):
        Restorer(model=bad, backend="onnxruntime", patch=32, overlap=8)
    m = json.loads((exported / "manifest.json").read_text())
    m["model"]["hash"] = "0" * 64
    bad2 = tmp_path / "bad2"
    shutil.copytree(exported, bad2)
    (bad2 / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match="does not match the model hash"):
        Restorer(model=bad2, patch=32, overlap=8)
    with pytest.raises(ValueError, match="built for patch 32"):
        Restorer(model=exported, backend="onnxruntime", patch=64)


def test_static_tensorrt_check_flags_dft() -> None:
    node = helper.make_node("DFT", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [4, 2])],
                              [helper.make_tensor_value_info("y", 1, [4, 2])])
    problems = check_graph(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert problems and "MatMul" in problems[0]
