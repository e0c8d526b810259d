"""`haineifrdm degrade`: real files in, degraded frames + masks + JSON out; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from haineifrdm.cli.main import main
from haineifrdm.data.sources import SceneConfig, render_scene
from haineifrdm.io import read_frame


def write_clip(folder: Path, n: int = 4, fmt: str = "png", dtype: object = oiio.UINT8,
               size: tuple[int, int] = (48, 64)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    clip = render_scene(np.random.default_rng(1), SceneConfig(frames=n, height=size[0],
                                                              width=size[1]))
    paths = []
    for k in range(n):
        p = folder / f"f.{k + 1:04d}.{fmt}"
        out = oiio.ImageOutput.create(str(p))
        out.open(str(p), oiio.ImageSpec(size[1], size[0], 3, dtype))
        out.write_image(clip[k])
        out.close()
        paths.append(p)
    return paths


@pytest.mark.parametrize("fmt,dtype,expect", [("png", oiio.UINT8, "uint8"),
                                              ("tif", oiio.UINT16, "uint16"),
                                              ("png", oiio.UINT16, "uint16")])
def test_degrade_folder_keeps_names_format_and_writes_masks(tmp_path: Path, fmt: str,
                                                            dtype: object, expect: str) -> None:
    src = tmp_path / "clean"
    paths = write_clip(src, fmt=fmt, dtype=dtype)
    before = [p.read_bytes() for p in paths]
    dst = tmp_path / "out"
    assert main(["degrade", str(src), str(dst), "--seed", "2", "--density", "50"]) == 0
    assert sorted(p.name for p in dst.glob(f"*.{fmt}")) == [p.name for p in paths]
    for p in paths:
        rgb, info = read_frame(dst / p.name)
        assert info.dtype == expect and rgb.shape == (48, 64, 3)
        mask, _ = read_frame(dst / "masks" / f"{p.stem}.png")
        assert mask.shape == (48, 64, 3)
    meta = json.loads((dst / "degradation.json").read_text())
    assert meta["config"]["seed"] == 2 and meta["files"] == [p.name for p in paths]
    assert not (dst / "clean").exists()  # geometry kept: the input stays the ground truth
    assert [p.read_bytes() for p in paths] == before  # inputs untouched


def test_weave_writes_moved_clean_frames(tmp_path: Path) -> None:
    src = tmp_path / "clean"
    write_clip(src)
    assert main(["degrade", str(src), str(tmp_path / "o"), "--weave"]) == 0
    assert len(list((tmp_path / "o" / "clean").glob("*.png"))) == 4


def test_gallery(tmp_path: Path) -> None:
    out = tmp_path / "g.png"
    assert main(["degrade", "--gallery", str(out)]) == 0
    _rgb, info = read_frame(out)
    assert info.width > 3 * 256 and info.height > 10 * 192


def _fails(args: list[str], capsys: pytest.CaptureFixture[str], needle: str) -> None:
    assert main(args) == 2
    assert needle in capsys.readouterr().err


def test_bad_input_clear_error_and_nothing_written(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    _fails(["degrade", str(tmp_path / "missing"), str(out)], capsys, "not found")
    (tmp_path / "empty").mkdir()
    _fails(["degrade", str(tmp_path / "empty"), str(out)], capsys, "no frames")
    mixed = tmp_path / "mixed"
    write_clip(mixed, n=2)
    write_clip(mixed / "x", n=1, size=(40, 40))
    (mixed / "x" / "f.0001.png").rename(mixed / "f.0003.png")
    _fails(["degrade", str(mixed), str(out)], capsys, "frame sizes differ")
    broken = tmp_path / "broken"
    write_clip(broken, n=2)
    (broken / "f.0002.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    _fails(["degrade", str(broken), str(out)], capsys, "f.0002.png")
    _fails(["degrade", str(broken), str(broken / "inside")], capsys, "must not be IN")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_degrade_movie(tmp_path: Path) -> None:
    from .conftest import write_movie

    clip = render_scene(np.random.default_rng(0), SceneConfig(frames=4, height=48, width=64))
    src = write_movie(tmp_path / "clip.mkv", clip, "ffv1", "yuv444p")
    assert main(["degrade", str(src), str(tmp_path / "out"), "--density", "50"]) == 0
    from haineifrdm.io.movie import probe

    info, n = probe(tmp_path / "out" / "clip.mkv")
    assert n == 4 and info.codec == "ffv1"
    assert len(list((tmp_path / "out" / "masks").glob("*.png"))) == 4
