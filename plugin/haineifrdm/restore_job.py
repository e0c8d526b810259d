"""Restoring a whole sequence: windows clamped at the ends, atomic writes, resume.

Never touches the input; refuses an OUTPUT equal to or inside the INPUT folder;
writes every frame atomically (temporary file + rename), so an interrupted run
leaves only whole frames, and ``resume`` skips outputs that read back valid.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from .engine import Restorer, defect_matte
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
    """The frame loop. One reader thread decodes ahead (frames the next windows need)
    and one writer thread encodes behind (frame i is written while i + 1 is restored);
    each owns its side alone, so movie containers see one caller in frame order."""
    r = restorer.radius
    numbers = source.numbers
    todo = [i for i, n in enumerate(numbers)
            if opts.frames is None or opts.frames[0] <= n <= opts.frames[1]]
    if not todo:
        raise ValueError(f"no frames in range {opts.frames} (input has "
                         f"{numbers[0]}-{numbers[-1]})")
    report = JobReport()
    with ThreadPoolExecutor(1, thread_name_prefix="haineifrdm-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix="haineifrdm-write") as writer:
        frames = _Prefetcher(source, reader)
        pending: tuple[str, Future[str]] | None = None

        def finish_write() -> None:
            nonlocal pending
            if pending is None:
                return
            name, fut = pending
            pending = None
            try:
                report.written.append(fut.result())
            except ValueError as exc:
                if opts.on_error == "stop":
                    raise JobError(f"{name}: {exc}") from exc
                report.failed.append(f"{name}: {exc}")
                return
            if on_frame:
                done = len(report.written) + len(report.failed) + len(report.skipped_existing)
                on_frame(done, len(todo), report.written[-1])

        t0 = time.time()
        if on_frame:
            on_frame(0, len(todo), "")
        first_info: FrameInfo | None = None
        with _Interrupt() as stop:
            for pos, i in enumerate(todo):
                if stop.requested:
                    report.interrupted = True
                    break
                if opts.resume and sink.exists_valid(i, first_info):
                    report.skipped_existing.append(source.name(i))
                    continue
                frames.want(i, r, len(source))
                if pos + 1 < len(todo):  # decode the next window's new frames ahead
                    frames.want(todo[pos + 1], r, len(source))
                centre = frames.get(i, opts.on_error)
                if centre is None:
                    report.failed.append(f"{source.name(i)}: unreadable")
                    continue
                rgb, info = centre
                first_info = first_info or info
                window = []
                for k in range(i - r, i + r + 1):
                    j = min(max(k, 0), len(source) - 1)  # clamp at the sequence ends
                    got = frames.get(j, opts.on_error)
                    if got is None or got[0].shape != rgb.shape:
                        got = centre  # unreadable or mismatched neighbour: use the centre
                    window.append(got[0])
                frames.forget_before(i - r)
                try:
                    result = restorer.run(np.stack(window), frame_index=numbers[i],
                                          strength=opts.strength)
                except ValueError as exc:
                    if opts.on_error == "stop":
                        raise JobError(f"{source.name(i)}: {exc}") from exc
                    report.failed.append(f"{source.name(i)}: {exc}")
                    continue
                finish_write()  # at most one frame in flight
                pending = (source.name(i), writer.submit(
                    _write_outputs, sink, i, result.image, result.restored, rgb, info,
                    opts.matte_dir, numbers[i], result.timings.get("exposure_gain", 1.0)))
            finish_write()
    report.seconds = time.time() - t0
    return report


def _write_outputs(sink: Sink, i: int, image: np.ndarray, restored: np.ndarray,
                   rgb: np.ndarray, info: FrameInfo, matte_dir: Path | None, number: int,
                   exposure_gain: float) -> str:
    name = sink.write(i, image, info)
    if matte_dir is not None:
        matte = defect_matte(restored, rgb, exposure_gain)
        write_frame(matte_dir / f"matte.{number:06d}.png",
                    np.repeat(matte[..., None], 3, axis=-1),
                    FrameInfo(Path("matte.png"), info.height, info.width, "uint8", 1, 8))
    return name


class _Prefetcher:
    """Decoded frames by index, read in order on one background thread."""

    def __init__(self, source: Source, reader: ThreadPoolExecutor) -> None:
        self.source, self.reader = source, reader
        self.futures: dict[int, Future[tuple[np.ndarray, FrameInfo]]] = {}

    def _submit(self, j: int) -> None:
        if j not in self.futures:
            self.futures[j] = self.reader.submit(self.source.read, j)

    def want(self, centre: int, r: int, n: int) -> None:
        """Queue the frames of the window around ``centre`` (clamped to 0..n-1)."""
        for k in range(centre - r, centre + r + 1):
            self._submit(min(max(k, 0), n - 1))

    def get(self, j: int, on_error: str) -> tuple[np.ndarray, FrameInfo] | None:
        self._submit(j)
        try:
            return self.futures[j].result()
        except ValueError as exc:
            if on_error == "stop":
                raise JobError(str(exc)) from exc
            return None

    def forget_before(self, j: int) -> None:
        for k in [k for k in self.futures if k < j]:
            del self.futures[k]
