"""Restoring a whole sequence: windows clamped at the ends, atomic writes, resume.

Never touches the input; refuses an OUTPUT equal to or inside the INPUT folder;
writes every frame atomically (temporary file + rename), so an interrupted run
leaves only whole frames, and ``resume`` skips outputs that read back valid.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from .engine import Restorer
from .io import FrameInfo, write_frame
from .io.movie import is_movie
from .io.sequence import is_pattern, output_path
from .io.sources import MovieSink, SequenceSource, Sink, Source, open_sink, open_source

QUALITY_STEPS = {"preview": 1, "normal": 2, "final": 4}


@dataclass
class JobOptions:
    strength: float = 1.0
    frames: tuple[int, int] | None = None  # inclusive frame-number range
    matte_dir: Path | None = None
    resume: bool = False
    on_error: str = "stop"  # or "skip"
    fmt: str | None = None  # output extension when converting


@dataclass
class JobReport:
    written: list[str] = field(default_factory=list)
    skipped_existing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "name: reason"
    interrupted: bool = False
    seconds: float = 0.0


class JobError(Exception):
    """A frame could not be restored and on_error is 'stop'."""


def check_paths(source: Source, output: str | Path) -> None:
    out = Path(output)
    inputs = {p.resolve() for p in source.paths}
    if out.resolve() in inputs:
        raise ValueError(f"OUTPUT ({output}) is the input; nothing was written")
    if is_movie(out):
        return
    out_dir = (out.parent if is_pattern(str(out)) else out).resolve()
    src = source.folder.resolve()
    if isinstance(source, SequenceSource) and (out_dir == src or src in out_dir.parents):
        raise ValueError(f"OUTPUT ({output}) must not be the INPUT folder or inside it; "
                         "nothing was written")
    if isinstance(source, SequenceSource):
        for i in range(len(source)):
            if output_path(source.seq, i, output, None).resolve() in inputs:
                raise ValueError(f"OUTPUT would overwrite input frame {source.paths[i]}")


class _Interrupt:
    """First Ctrl-C: finish the current frame, then stop. Second: stop now."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    def __enter__(self) -> _Interrupt:
        self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._old)


def restore_sequence(input_spec: str | Path, output: str | Path, restorer: Restorer,
                     opts: JobOptions, on_frame: Callable[[int, int, str], None] | None = None
                     ) -> JobReport:
    source = open_source(input_spec)
    check_paths(source, output)
    sink = open_sink(source, output, opts.fmt)
    try:
        report = _run(source, sink, restorer, opts, on_frame)
    except BaseException:
        sink.abort()
        raise
    if report.interrupted and isinstance(sink, MovieSink):
        sink.abort()  # a partial movie is not kept
    else:
        sink.close()
    return report


def _run(source: Source, sink: Sink, restorer: Restorer, opts: JobOptions,
         on_frame: Callable[[int, int, str], None] | None) -> JobReport:
    r = restorer.radius
    numbers = source.numbers
    todo = [i for i, n in enumerate(numbers)
            if opts.frames is None or opts.frames[0] <= n <= opts.frames[1]]
    if not todo:
        raise ValueError(f"no frames in range {opts.frames} (input has "
                         f"{numbers[0]}-{numbers[-1]})")
    report = JobReport()
    cache: dict[int, tuple[np.ndarray, FrameInfo] | None] = {}
    first_info: FrameInfo | None = None

    def load(i: int) -> tuple[np.ndarray, FrameInfo] | None:
        if i not in cache:
            try:
                cache[i] = source.read(i)
            except ValueError as exc:
                if opts.on_error == "stop":
                    raise JobError(str(exc)) from exc
                cache[i] = None
        return cache[i]

    t0 = time.time()
    if on_frame:
        on_frame(0, len(todo), "")
    with _Interrupt() as stop:
        for done, i in enumerate(todo):
            if stop.requested:
                report.interrupted = True
                break
            if opts.resume and sink.exists_valid(i, first_info):
                report.skipped_existing.append(source.name(i))
                continue
            centre = load(i)
            if centre is None:
                report.failed.append(f"{source.name(i)}: unreadable")
                continue
            rgb, info = centre
            if first_info is None:
                first_info = info
            frames = []
            for k in range(i - r, i + r + 1):
                j = min(max(k, 0), len(source) - 1)  # clamp at the sequence ends
                got = load(j)
                if got is None or got[0].shape != rgb.shape:
                    got = centre  # unreadable or mismatched neighbour: use the centre frame
                frames.append(got[0])
            for k in list(cache):  # keep only what later windows still need
                if k < i - r:
                    del cache[k]
            try:
                result = restorer.run(np.stack(frames), frame_index=numbers[i],
                                      strength=opts.strength)
                name = sink.write(i, result.image, info)
                if opts.matte_dir is not None:
                    matte = np.clip(np.abs(result.restored - rgb).max(axis=-1) / 0.08, 0, 1)
                    write_frame(opts.matte_dir / f"matte.{numbers[i]:06d}.png",
                                np.repeat(matte[..., None], 3, axis=-1),
                                FrameInfo(Path("matte.png"), info.height, info.width, "uint8", 1,
                                          8))
            except ValueError as exc:
                if opts.on_error == "stop":
                    raise JobError(f"{source.name(i)}: {exc}") from exc
                report.failed.append(f"{source.name(i)}: {exc}")
                continue
            report.written.append(name)
            if on_frame:
                on_frame(done + 1, len(todo), name)
    report.seconds = time.time() - t0
    return report
