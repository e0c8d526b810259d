"""Frame sequences on disk: a folder, a printf pattern (``%04d``) or a ``#`` pattern.

A :class:`FrameSequence` maps frame numbers to files. Frame numbers come from
the last run of digits in a file name (``shot.0101.dpx`` -> 101); files
without digits are numbered by their sorted position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .frames import FRAME_EXTENSIONS

_PRINTF = re.compile(r"%0?(\d*)d")
_HASHES = re.compile(r"#+")
_DIGITS = re.compile(r"(\d+)(?!.*\d)")


@dataclass(frozen=True)
class FrameSequence:
    files: tuple[Path, ...]
    numbers: tuple[int, ...]
    folder: Path

    def __len__(self) -> int:
        return len(self.files)

    def index_of(self, number: int) -> int:
        return self.numbers.index(number)


def is_pattern(spec: str) -> bool:
    name = Path(spec).name
    return bool(_PRINTF.search(name) or _HASHES.search(name))


def _pattern_regex(name: str) -> re.Pattern[str]:
    parts = []
    pos = 0
    for m in re.finditer(r"%0?\d*d|#+", name):
        parts.append(re.escape(name[pos : m.start()]))
        token = m.group(0)
        width = len(token) if token.startswith("#") else int(_PRINTF.match(token).group(1) or 0)  # type: ignore[union-attr]
        parts.append(rf"(\d{{{width},}})" if width else r"(\d+)")
        pos = m.end()
    parts.append(re.escape(name[pos:]))
    return re.compile("^" + "".join(parts) + "$")


def open_sequence(spec: str | Path) -> FrameSequence:
    """Resolve a folder or pattern into a sequence; ValueError with the reason if empty."""
    spec = str(spec)
    if is_pattern(spec):
        folder = Path(spec).parent
        if not folder.is_dir():
            raise ValueError(f"input folder not found: {folder}")
        rx = _pattern_regex(Path(spec).name)
        found = sorted((int(m.group(1)), p) for p in folder.iterdir()
                       if p.is_file() and (m := rx.match(p.name)))
        if not found:
            raise ValueError(f"no frames match {spec}")
        return FrameSequence(tuple(p for _, p in found), tuple(n for n, _ in found), folder)
    folder = Path(spec)
    if not folder.exists():
        raise ValueError(f"input not found: {folder}")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder, a frame pattern or a supported movie")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in FRAME_EXTENSIONS)
    if not files:
        raise ValueError(f"no frames ({', '.join(FRAME_EXTENSIONS)}) in {folder}")
    numbers = []
    for i, p in enumerate(files):
        m = _DIGITS.search(p.stem)
        numbers.append(int(m.group(1)) if m else i)
    if len(set(numbers)) != len(numbers):
        numbers = list(range(len(files)))
    return FrameSequence(tuple(files), tuple(numbers), folder)


def output_path(seq: FrameSequence, index: int, output: str | Path, fmt: str | None) -> Path:
    """Where frame ``index`` of ``seq`` goes: OUTPUT/<same name> or OUTPUT pattern filled in."""
    out = str(output)
    if is_pattern(out):
        number = seq.numbers[index]
        name = Path(out).name
        name = _PRINTF.sub(lambda m: f"{number:0{int(m.group(1) or 0)}d}", name)
        name = _HASHES.sub(lambda m: f"{number:0{len(m.group(0))}d}", name)
        return Path(out).parent / name
    src = seq.files[index]
    name = src.name if fmt is None else src.stem + "." + fmt.lstrip(".")
    return Path(out) / name
