"""Uniform access to what `restore` reads and writes: frame sequences and movies.

A source gives frame numbers, names and ``read(i) -> (rgb, FrameInfo)``; reads
are expected in roughly increasing order (movies decode forward). A sink takes
restored frames in order and commits them atomically.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from .frames import FrameInfo, read_frame, write_frame
from .movie import MovieInfo, MovieWriter, is_movie, iter_frames, probe
from .sequence import FrameSequence, is_pattern, open_sequence, output_path


class SequenceSource:
    def __init__(self, seq: FrameSequence) -> None:
        self.seq = seq
        self.numbers = list(seq.numbers)
        self.folder = seq.folder
        self.paths = list(seq.files)

    def __len__(self) -> int:
        return len(self.numbers)

    def name(self, i: int) -> str:
        return self.seq.files[i].name

    def read(self, i: int) -> tuple[np.ndarray, FrameInfo]:
        return read_frame(self.seq.files[i])


class MovieSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.info, count = probe(path)
        self.numbers = list(range(count))
        self.folder = path.parent
        self.paths = [path]
        self._it: Iterator[np.ndarray] | None = None
        self._next = 0
        dtype = "uint16" if self.info.deep else "uint8"
        spec = oiio.ImageSpec(self.info.width, self.info.height, 3,
                              oiio.UINT16 if self.info.deep else oiio.UINT8)
        self.frame_info = FrameInfo(path, self.info.height, self.info.width, dtype, 3,
                                    16 if self.info.deep else 8, spec)

    def __len__(self) -> int:
        return len(self.numbers)

    def name(self, i: int) -> str:
        return f"{self.path.name}[{i}]"

    def read(self, i: int) -> tuple[np.ndarray, FrameInfo]:
        if self._it is None or i < self._next:
            self._it, self._next = iter_frames(self.path), 0
        for frame in self._it:
            self._next += 1
            if self._next - 1 == i:
                return frame, self.frame_info
        raise ValueError(f"{self.path}: frame {i} could not be decoded (movie ends early)")


Source = SequenceSource | MovieSource


def open_source(spec: str | Path) -> Source:
    p = Path(spec)
    if is_movie(p):
        if not p.is_file():
            raise ValueError(f"input movie not found: {p}")
        return MovieSource(p)
    return SequenceSource(open_sequence(spec))


class SequenceSink:
    """One file per frame: OUTPUT/<same name> or OUTPUT pattern; atomic per frame."""

    def __init__(self, source: Source, output: str | Path, fmt: str | None) -> None:
        self.source, self.output, self.fmt = source, output, fmt
        self.movie_source = isinstance(source, MovieSource)
        if self.movie_source and not is_pattern(str(output)) and fmt is None:
            self.fmt = "tif"
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """Temporary files a killed run left behind: ``.<output stem>.<random><suffix>``."""
        if not len(self.source):
            return
        folder = self.path(0).parent
        if not folder.is_dir():
            return
        outputs = [self.path(i) for i in range(len(self.source))]
        prefixes = tuple(f".{p.stem}." for p in outputs)
        suffixes = {p.suffix for p in outputs}
        for p in folder.iterdir():
            if p.is_file() and p.name.startswith(prefixes) and p.suffix in suffixes:
                p.unlink()

    def path(self, i: int) -> Path:
        if isinstance(self.source, SequenceSource):
            return output_path(self.source.seq, i, self.output, self.fmt)
        if is_pattern(str(self.output)):
            fake = FrameSequence((Path("x"),), (self.source.numbers[i],), Path("."))
            return output_path(fake, 0, self.output, None)
        return Path(self.output) / f"{self.source.path.stem}.{i:06d}.{self.fmt}"

    def exists_valid(self, i: int, like: FrameInfo | None) -> bool:
        p = self.path(i)
        if not p.exists():
            return False
        try:
            _, info = read_frame(p)
        except ValueError:
            return False
        return like is None or (info.height, info.width) == (like.height, like.width)

    def write(self, i: int, rgb: np.ndarray, info: FrameInfo) -> str:
        p = self.path(i)
        write_frame(p, rgb, info)
        return p.name

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class MovieSink:
    """All frames into one movie, in order; nothing appears until close()."""

    def __init__(self, output: Path, like: MovieInfo) -> None:
        self.writer = MovieWriter(output, like)
        self.output = output

    def exists_valid(self, i: int, like: FrameInfo | None) -> bool:
        return False

    def write(self, i: int, rgb: np.ndarray, info: FrameInfo) -> str:
        self.writer.write(rgb)
        return f"{self.output.name}[{i}]"

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


Sink = SequenceSink | MovieSink


def open_sink(source: Source, output: str | Path, fmt: str | None) -> Sink:
    out = Path(output)
    if is_movie(out):
        if not isinstance(source, MovieSource):
            raise ValueError("a frame sequence cannot be written into a movie; give an output "
                             "folder or pattern")
        return MovieSink(out, source.info)
    return SequenceSink(source, output, fmt)
