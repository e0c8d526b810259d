"""`haineifrdm restore`: formats round-trip, strength 0 is bit-exact, movies, safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from haineifrdm.cli.main import main
from haineifrdm.io import read_frame
from haineifrdm.io.movie import probe

from .conftest import write_movie

FORMATS = [  # (extension, oiio type, bits, channels)
    ("dpx", oiio.UINT16, 10, 3),
    ("exr", oiio.HALF, 16, 3),
    ("exr", oiio.FLOAT, 32, 4),
    ("tif", oiio.UINT8, 8, 3),
    ("tif", oiio.UINT16, 16, 4),
    ("tif", oiio.FLOAT, 32, 3),
    ("png", oiio.UINT8, 8, 4),
    ("png", oiio.UINT16, 16, 3),
]


@pytest.fixture(scope="module")
def model_path(tiny_checkpoint: Path) -> Path:
    return tiny_checkpoint


def write_seq(folder: Path, ext: str, td: object, bits: int, ch: int, n: int = 4,
              size: tuple[int, int] = (40, 56), start: int = 1001) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n):
        data = rng.random((size[0], size[1], ch), dtype=np.float32)
        if td in (oiio.HALF, oiio.FLOAT):
            data = data * 1.6 - 0.2  # out-of-range values must survive
        p = folder / f"shot.{start + k:04d}.{ext}"
        spec = oiio.ImageSpec(size[1], size[0], ch, td)
        if bits == 10:
            spec.attribute("oiio:BitsPerSample", 10)
        out = oiio.ImageOutput.create(str(p))
        assert out.open(str(p), spec) and out.write_image(data)
        out.close()
        paths.append(p)
    return paths


def raw(path: Path) -> np.ndarray:
    inp = oiio.ImageInput.open(str(path))
    spec = inp.spec()
    data = inp.read_image(0, 0, 0, spec.nchannels, spec.format)
    inp.close()
    return np.asarray(data)


def run_restore(*args: str | Path) -> int:
    return main(["restore", *map(str, args)])


@pytest.mark.parametrize("ext,td,bits,ch", FORMATS)
def test_round_trip_keeps_format_and_strength0_is_bit_exact(tmp_path: Path, model_path: Path,
                                                           ext: str, td: object, bits: int,
                                                           ch: int) -> None:
    src = write_seq(tmp_path / "in", ext, td, bits, ch)
    before = [p.read_bytes() for p in src]
    common = ["--model", model_path, "--quality", "preview", "--patch", "32", "--overlap", "8"]
    assert run_restore(tmp_path / "in", tmp_path / "out", *common) == 0
    assert run_restore(tmp_path / "in", tmp_path / "same", *common, "--strength", "0") == 0
    for p in src:
        _, info = read_frame(tmp_path / "out" / p.name)
        _, src_info = read_frame(p)
        assert (info.height, info.width, info.channels, info.dtype, info.bits) == \
            (src_info.height, src_info.width, src_info.channels, src_info.dtype, src_info.bits)
        if ch == 4:  # alpha passed through untouched
            np.testing.assert_array_equal(read_frame(tmp_path / "out" / p.name)[1].alpha,
                                          src_info.alpha)
        np.testing.assert_array_equal(raw(tmp_path / "same" / p.name), raw(p))
    assert [p.read_bytes() for p in src] == before


def test_movie_in_movie_out_same_frame_count(tmp_path: Path, model_path: Path) -> None:
    frames = np.random.default_rng(0).random((6, 48, 64, 3), dtype=np.float32)
    src = write_movie(tmp_path / "clip.mov", frames, "prores_ks", "yuv422p10le")
    out = tmp_path / "out" / "clip.mov"
    assert run_restore(src, out, "--model", model_path, "--quality", "preview",
                       "--patch", "32") == 0
    info, n = probe(out)
    assert n == 6 and info.codec == "prores" and info.pix_fmt == "yuv422p10le"
    assert (info.width, info.height) == (64, 48)


def test_in_place_refused_and_inputs_untouched(tmp_path: Path, model_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src = write_seq(tmp_path / "in", "png", oiio.UINT8, 8, 3)
    before = {p: p.read_bytes() for p in src}
    for target in (tmp_path / "in", tmp_path / "in" / "sub", tmp_path / "in" / "shot.%04d.png"):
        assert run_restore(tmp_path / "in", target, "--model", model_path) == 2
        assert "nothing was written" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in src} == before
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == sorted(p.name for p in src)


def test_corrupt_frame_is_named_and_skip_lists_it(tmp_path: Path, model_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    src = write_seq(tmp_path / "in", "png", oiio.UINT8, 8, 3)
    src[2].write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    common = ["--model", model_path, "--quality", "preview", "--patch", "32"]
    assert run_restore(tmp_path / "in", tmp_path / "o1", *common) == 1
    assert "shot.1003.png" in capsys.readouterr().err
    assert run_restore(tmp_path / "in", tmp_path / "o2", *common, "--on-error", "skip") == 1
    out = capsys.readouterr().out
    assert "shot.1003.png" in out and len(list((tmp_path / "o2").glob("*.png"))) == 3


def test_frames_range_and_patterns(tmp_path: Path, model_path: Path) -> None:
    write_seq(tmp_path / "in", "tif", oiio.UINT16, 16, 3, n=5)
    common = ["--model", model_path, "--quality", "preview", "--patch", "32"]
    assert run_restore(tmp_path / "in" / "shot.####.tif", tmp_path / "o" / "r.%05d.tif",
                       *common, "--frames", "1002-1003") == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["r.01002.tif", "r.01003.tif"]
    # a chunk equals the same frames of a full run (windows reach outside the chunk)
    assert run_restore(tmp_path / "in", tmp_path / "full", *common) == 0
    np.testing.assert_array_equal(raw(tmp_path / "o" / "r.01002.tif"),
                                  raw(tmp_path / "full" / "shot.1002.tif"))


def test_sigkill_then_resume_completes_without_partial_files(tmp_path: Path,
                                                            model_path: Path) -> None:
    src = write_seq(tmp_path / "in", "png", oiio.UINT16, 16, 3, n=30, size=(48, 64))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "haineifrdm.cli.main", "restore", str(tmp_path / "in"),
           str(out), "--model", str(model_path), "--quality", "normal", "--patch", "32"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.is_dir() and list(out.glob("shot.*.png"))):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(out.glob("shot.*.png")))
    assert 0 < done_before < len(src)
    assert subprocess.run([*cmd, "--resume"], capture_output=True).returncode == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in src)  # every frame, and no temporary leftovers
    for p in out.iterdir():
        read_frame(p)  # each one reads back whole


def test_compare_writes_side_by_side_sheet(tmp_path: Path, model_path: Path) -> None:
    write_seq(tmp_path / "a", "png", oiio.UINT8, 8, 3, n=3)
    write_seq(tmp_path / "b", "png", oiio.UINT8, 8, 3, n=3)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out",
                 str(tmp_path / "s.png"), "--labels", "scan,restored"]) == 0
    _, info = read_frame(tmp_path / "s.png")
    assert info.width > 3 * 56 and info.height > 3 * 40
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "nope"), "--out",
                 str(tmp_path / "t.png")]) == 2


def centre_with_and_without(tmp_path: Path, window: np.ndarray, flag: str | tuple[str, ...],
                            *default_only: str) -> tuple[np.ndarray, np.ndarray]:
    """The centre frame of ``window`` [5, H, W, 3] restored by the CLI (default model,
    preview) from FLOAT EXRs: (by default, with ``flag``, one or several); ``default_only``:
    more arguments for the first run."""
    src = tmp_path / "in"
    src.mkdir()
    for k, frame in enumerate(window):
        p = src / f"shot.{1001 + k:04d}.exr"
        out = oiio.ImageOutput.create(str(p))
        assert out.open(str(p), oiio.ImageSpec(frame.shape[1], frame.shape[0], 3, oiio.FLOAT))
        assert out.write_image(frame)
        out.close()
    common = ["--quality", "preview", "--patch", "128", "--frames", "1003-1003"]
    assert run_restore(src, tmp_path / "on", *common, *default_only) == 0
    flags = (flag,) if isinstance(flag, str) else flag
    assert run_restore(src, tmp_path / "off", *common, *flags) == 0
    return (read_frame(tmp_path / "on" / "shot.1003.exr")[0],
            read_frame(tmp_path / "off" / "shot.1003.exr")[0])


def test_no_motion_veto_and_no_fill_keep_the_changes_on_a_fast_object(tmp_path: Path) -> None:
    from .test_motion_veto import _scene

    # both give the network's changes on a fast object back (the fill where two other
    # frames show the object as the centre has it)
    window, _, sprite = _scene(sprite_step=(4, 30), grain=0.02)
    on, off = centre_with_and_without(tmp_path, window,
                                      ("--no-motion-veto", "--no-temporal-fill"))
    moved_on = np.abs(on - window[2]).max(-1)[sprite] > 1e-5
    moved_off = np.abs(off - window[2]).max(-1)[sprite] > 1e-5
    assert moved_off.sum() > 1000 and moved_on.sum() < 0.2 * moved_off.sum()


def test_no_deflicker_keeps_each_frames_exposure(tmp_path: Path) -> None:
    from .test_deflicker import GAINS, _flickered

    window = _flickered(GAINS)
    on, off = centre_with_and_without(tmp_path, window, "--no-deflicker",
                                      "--matte", str(tmp_path / "mattes"))
    # the dark centre frame is brought to its window's exposure only by default
    assert abs(on.mean() / off.mean() - GAINS.mean() / GAINS[2]) < 0.004
    # and the matte written beside it shows what the network changed, not the exposure
    matte, _ = read_frame(tmp_path / "mattes" / "matte.001003.png")
    wash = np.abs(on - window[2]).max(-1) / 0.08
    assert (wash > 0.2).mean() > 0.9 and (matte[..., 0] > 0.2).mean() < 0.5
