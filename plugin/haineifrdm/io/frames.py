"""Still-frame files through OpenImageIO: DPX, OpenEXR, TIFF, PNG (and more).

Frames are returned as float32 RGB [H, W, 3] with values as encoded in the file
(integer formats scaled to [0, 1]; float EXR values outside [0, 1] kept; log
DPX stays log) plus a :class:`FrameInfo` holding the file's own spec, so a
frame is written back with the same bit depth, channel count, alpha and
metadata. Writes are atomic: a temporary file in the destination folder, then
``os.replace``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import OpenImageIO as oiio

FRAME_EXTENSIONS = (".dpx", ".exr", ".tif", ".tiff", ".png", ".cin")


@dataclass(frozen=True)
class FrameInfo:
    path: Path
    height: int
    width: int
    dtype: str  # numpy name of the stored sample type: uint8, uint16, float16, float32
    channels: int  # as stored: 1, 2, 3 or 4
    bits: int  # bits per sample (10 for 10-bit DPX)
    spec: Any = None  # the oiio.ImageSpec read from the file (metadata travels with it)
    alpha: np.ndarray | None = None  # [H, W] float32 when the file has alpha


def list_frames(folder: str | Path) -> list[Path]:
    """Sorted frame files in ``folder``; ValueError if it is missing or holds none."""
    from .sequence import open_sequence

    return list(open_sequence(folder).files)


def _sample_type(spec: Any) -> tuple[str, Any]:
    """(numpy dtype name, oiio TypeDesc) to read the file's samples losslessly."""
    fmt = str(spec.format)
    if fmt == "uint8":
        return "uint8", oiio.UINT8
    if fmt in ("uint16", "uint10", "uint12"):
        return "uint16", oiio.UINT16
    if fmt == "half":
        return "float16", oiio.HALF
    return "float32", oiio.FLOAT


def read_frame(path: str | Path) -> tuple[np.ndarray, FrameInfo]:
    """Read one frame as float32 RGB [H, W, 3]; ValueError naming the file if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"cannot read frame {path}: no such file")
    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise ValueError(f"cannot read frame {path}: {oiio.geterror() or 'unknown format'}")
    try:
        spec = inp.spec()
        dtype, _ = _sample_type(spec)
        raw = inp.read_image(0, 0, 0, spec.nchannels, oiio.FLOAT)  # converted in C++
        err = inp.geterror()
    finally:
        inp.close()
    if raw is None or err:
        raise ValueError(f"cannot read frame {path}: {err or 'decode failed'}")
    f = np.asarray(raw)
    if f.ndim == 2:
        f = f[..., None]
    if f.ndim != 3 or f.shape[-1] < 1:
        raise ValueError(f"cannot read frame {path}: unsupported layout {f.shape}")
    channels = f.shape[-1]
    alpha_idx = spec.alpha_channel
    alpha = f[..., alpha_idx].copy() if 0 <= alpha_idx < channels else None
    colour = [i for i in range(channels) if i != alpha_idx][:3]
    # the usual layouts (RGB, RGBA) slice without a gather copy
    rgb = f[..., : len(colour)] if colour == list(range(len(colour))) else f[..., colour]
    if rgb.shape[-1] == 1:
        rgb = np.repeat(rgb, 3, axis=-1)
    elif rgb.shape[-1] == 2:
        rgb = np.concatenate([rgb, rgb[..., :1]], axis=-1)
    bits = int(spec.get_int_attribute("oiio:BitsPerSample", 0)) or \
        {"uint8": 8, "uint16": 16, "float16": 16}.get(dtype, 32)
    info = FrameInfo(path, spec.height, spec.width, dtype, channels, bits, spec, alpha)
    return np.ascontiguousarray(rgb, dtype=np.float32), info


def read_sequence(files: list[Path]) -> tuple[np.ndarray, list[FrameInfo]]:
    """All frames as [T, H, W, 3]; ValueError if sizes differ (naming both files)."""
    frames: list[np.ndarray] = []
    infos: list[FrameInfo] = []
    for p in files:
        rgb, info = read_frame(p)
        if infos and (info.height, info.width) != (infos[0].height, infos[0].width):
            raise ValueError(f"frame sizes differ: {infos[0].path.name} is "
                             f"{infos[0].width}x{infos[0].height}, {p.name} is "
                             f"{info.width}x{info.height}")
        frames.append(rgb)
        infos.append(info)
    return np.stack(frames), infos


def encode(rgb: np.ndarray, info: FrameInfo) -> np.ndarray:
    """float RGB [H, W, 3] -> float32 samples with the stored channel count and alpha.

    Quantisation to the file's depth happens in OpenImageIO when writing (round to
    nearest, clamped), the exact inverse of its conversion when reading, so an
    unchanged frame is written back bit for bit.
    """
    spec = info.spec
    alpha_idx = spec.alpha_channel if spec is not None else -1
    colour_ch = info.channels - (1 if info.alpha is not None else 0)
    data = rgb.mean(axis=-1, keepdims=True) if colour_ch == 1 else rgb[..., :colour_ch]
    if info.alpha is not None:
        idx = alpha_idx if 0 <= alpha_idx < info.channels else info.channels - 1
        data = np.insert(data, idx, info.alpha, axis=-1)
    return np.ascontiguousarray(data, dtype=np.float32)


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` with the process umask applied (what a plain open() would give)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename over it only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_frame(path: str | Path, rgb: np.ndarray, info: FrameInfo) -> None:
    """Write ``rgb`` the way ``info`` describes (depth, channels, alpha, metadata), atomically.

    The output format follows ``path``'s extension; when it differs from the
    source, sample types it cannot hold are converted (e.g. float -> 16-bit PNG).
    """
    path = Path(path)
    data = encode(rgb, info)
    spec = oiio.ImageSpec(info.spec) if info.spec is not None else oiio.ImageSpec(
        info.width, info.height, info.channels, oiio.UINT8)
    spec.width, spec.height, spec.nchannels = info.width, info.height, data.shape[-1]
    spec.full_width, spec.full_height = info.width, info.height
    td = {"uint8": oiio.UINT8, "uint16": oiio.UINT16, "float16": oiio.HALF,
          "float32": oiio.FLOAT}[info.dtype]
    with atomic_write(path) as tmp:
        out = oiio.ImageOutput.create(str(path))  # format chosen by the real name
        if out is None:
            raise ValueError(f"cannot write {path}: {oiio.geterror()}")
        fmt = td
        if path.suffix.lower() == ".png" and td in (oiio.HALF, oiio.FLOAT):
            fmt = oiio.UINT16  # PNG holds no float: 16-bit instead
        elif path.suffix.lower() == ".exr" and td in (oiio.UINT8, oiio.UINT16):
            fmt = oiio.HALF  # EXR holds no 8/16-bit integers: half instead
        spec.set_format(fmt)
        if info.bits in (10, 12) and path.suffix.lower() == ".dpx":
            spec.attribute("oiio:BitsPerSample", info.bits)
        ok = out.open(str(tmp), spec) and out.write_image(data)
        err = out.geterror()
        out.close()
        if not ok:
            raise ValueError(f"cannot write {path}: {err}")
