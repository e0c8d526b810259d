"""Movie files through PyAV (FFmpeg): MOV/MP4/MKV with ProRes, DNxHR, FFV1, H.264/H.265.

Frames are float32 RGB [H, W, 3] in [0, 1] (decoded through RGB48 for sources
deeper than 8 bits, RGB24 otherwise). Writing re-encodes with the source's
codec and pixel format (or the closest the encoder offers) into a temporary
file that is renamed into place when complete. Alpha in movies is not carried.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

MOVIE_EXTENSIONS = (".mov", ".mp4", ".mkv", ".mxf", ".avi")
ENCODERS = {"prores": "prores_ks", "h264": "libx264", "hevc": "libx265", "dnxhd": "dnxhd",
            "ffv1": "ffv1"}


def is_movie(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MOVIE_EXTENSIONS


def _av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a dependency
        raise ValueError("movie files need PyAV (pip install av)") from exc
    return av


class MovieInfo:
    def __init__(self, stream: Any) -> None:
        cc = stream.codec_context
        self.codec = cc.name
        self.pix_fmt = cc.pix_fmt or "yuv420p"
        self.width, self.height = cc.width, cc.height
        self.rate = stream.average_rate or stream.guessed_rate or Fraction(24, 1)
        self.profile = getattr(cc, "profile", None)
        fmt = _av().VideoFormat(self.pix_fmt)
        self.bits = max((c.bits for c in fmt.components), default=8)

    @property
    def deep(self) -> bool:
        return self.bits > 8


def probe(path: str | Path) -> tuple[MovieInfo, int]:
    """(info, frame count) of the first video stream; ValueError if unreadable."""
    av = _av()
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise ValueError(f"{path} has no video stream")
            s = c.streams.video[0]
            info = MovieInfo(s)
            count = s.frames or sum(1 for _ in c.decode(video=0))
    except av.error.FFmpegError as exc:
        raise ValueError(f"cannot read movie {path}: {exc}") from exc
    return info, count


def iter_frames(path: str | Path) -> Iterator[np.ndarray]:
    av = _av()
    try:
        with av.open(str(path)) as c:
            info = MovieInfo(c.streams.video[0])
            fmt, scale = ("rgb48le", 65535.0) if info.deep else ("rgb24", 255.0)
            for frame in c.decode(video=0):
                yield frame.to_ndarray(format=fmt).astype(np.float32) / scale
    except av.error.FFmpegError as exc:
        raise ValueError(f"cannot decode movie {path}: {exc}") from exc


class MovieWriter:
    """Encode frames in order into ``path`` (atomically: temp file, then rename)."""

    def __init__(self, path: str | Path, like: MovieInfo) -> None:
        av = _av()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix,
                                   dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.container = av.open(str(self.tmp), "w")
        codec = ENCODERS.get(like.codec, like.codec)
        self.stream = self.container.add_stream(codec, rate=like.rate)
        self.stream.width, self.stream.height = like.width, like.height
        supported = [f.name for f in (av.Codec(codec, "w").video_formats or [])]
        self.stream.pix_fmt = like.pix_fmt if like.pix_fmt in supported or not supported \
            else supported[0]
        if codec == "dnxhd":
            self.stream.options = {"profile": "dnxhr_hqx" if like.deep else "dnxhr_hq"}
        elif codec == "prores_ks":
            self.stream.options = {"profile": "4" if "444" in self.stream.pix_fmt else "3"}
        elif codec in ("libx264", "libx265"):
            self.stream.options = {"crf": "12", "preset": "medium"}
        self.deep = like.deep
        self.count = 0

    def write(self, rgb: np.ndarray) -> None:
        av = _av()
        if self.deep:
            arr = np.clip(np.round(rgb * 65535.0), 0, 65535).astype(np.uint16)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb48le")
        else:
            arr = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
        frame = frame.reformat(format=self.stream.pix_fmt)
        frame.pts = self.count
        self.count += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        from .frames import umask_mode

        os.chmod(self.tmp, umask_mode())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.container.close()
        finally:
            self.tmp.unlink(missing_ok=True)
