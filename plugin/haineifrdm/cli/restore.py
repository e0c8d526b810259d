"""``haineifrdm restore INPUT OUTPUT [options]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .main import CLIError


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that restores frames."""
    p.add_argument("--model", default="default", help="'default', a .safetensors or an export dir")
    p.add_argument("--backend", default="auto",
                   help="auto | torch | onnxruntime | onnxruntime-cuda | tensorrt")
    p.add_argument("--quality", choices=("preview", "normal", "final"), default="final",
                   help="1, 2 or 4 diffusion steps")
    p.add_argument("--strength", type=float, default=1.0, help="0 = input, 1 = full restoration")
    p.add_argument("--radius", type=int, default=None, help="temporal radius (default: model's)")
    p.add_argument("--patch", type=int, default=256)
    p.add_argument("--overlap", type=int, default=None,
                   help="patch overlap in pixels (default: min(32, patch / 4))")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu | cuda (torch backend)")
    p.add_argument("--no-motion-veto", dest="motion_veto", action="store_false",
                   help="keep changes on content that an adjacent frame shows displaced "
                   "(by default they are given back: moving objects and edges that weave in the "
                   "gate are not defects)")
    p.add_argument("--no-temporal-fill", dest="temporal_fill", action="store_false",
                   help="keep the network's own fill under each defect and leave what it "
                   "missed (by default each defect is refilled from the other frames that "
                   "show its place, found by motion, and specks no other frame shows are "
                   "filled too: see ARCHITECTURE.md)")
    p.add_argument("--no-line-scratch", dest="line_scratch", action="store_false",
                   help="leave persistent vertical scratches to the network (by default "
                   "they are solved out of the frame: see ARCHITECTURE.md)")
    p.add_argument("--no-blotch", dest="blotch", action="store_false",
                   help="leave blotches (by default the model's blotch network's offset is "
                   "subtracted where the earlier passes left the frame as it came)")
    p.add_argument("--no-deflicker", dest="deflicker", action="store_false",
                   help="leave each frame's exposure as it is (by default it is brought to "
                   "the mean of its temporal window)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="folder of frames, a pattern (shot.%%04d.dpx, shot.####.exr) "
                   "or a movie (.mov/.mp4/.mkv)")
    p.add_argument("output", help="output folder or pattern")
    add_engine_arguments(p)
    p.add_argument("--frames", help="frame-number range A-B (inclusive), for render farms")
    p.add_argument("--matte", metavar="DIR", help="also write defect mattes (PNG) here")
    p.add_argument("--resume", action="store_true", help="skip outputs that already exist")
    p.add_argument("--on-error", choices=("stop", "skip"), default="stop")
    p.add_argument("--format", help="output file type (dpx, exr, tif, png) when converting")


def make_restorer(args: argparse.Namespace) -> object:
    from ..engine import Restorer
    from ..restore_job import QUALITY_STEPS

    try:
        return Restorer(model=args.model, backend=args.backend, patch=args.patch,
                        overlap=args.overlap, steps=QUALITY_STEPS[args.quality], seed=args.seed,
                        radius=args.radius, device=args.device, motion_veto=args.motion_veto,
                        temporal_fill=args.temporal_fill, line_scratch=args.line_scratch,
                        blotch=args.blotch, deflicker=args.deflicker)
    except (ValueError, FileNotFoundError) as exc:
        raise CLIError(str(exc)) from exc


def parse_range(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    a, sep, b = text.partition("-")
    try:
        lo, hi = int(a), int(b) if sep else int(a)
    except ValueError as exc:
        raise CLIError(f"--frames must look like 1001-1100, got {text!r}") from exc
    if lo > hi:
        raise CLIError(f"--frames range is empty: {text}")
    return lo, hi


def run(args: argparse.Namespace) -> int:
    from ..io.sources import open_source
    from ..progress import ProgressBar
    from ..restore_job import JobError, JobOptions, check_paths, restore_sequence

    if not 0.0 <= args.strength <= 1.0:
        raise CLIError("--strength must be in [0, 1]")
    try:  # check the paths before loading any model
        check_paths(open_source(args.input), args.output)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    restorer = make_restorer(args)
    opts = JobOptions(strength=args.strength, frames=parse_range(args.frames),
                      matte_dir=Path(args.matte) if args.matte else None, resume=args.resume,
                      on_error=args.on_error, fmt=args.format)
    bar: ProgressBar | None = None

    def on_frame(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = ProgressBar(total, "frames")
        bar.update(done, name)

    try:
        report = restore_sequence(args.input, args.output, restorer, opts, on_frame)  # type: ignore[arg-type]
    except (ValueError, JobError) as exc:
        if bar:
            bar.close()
        raise CLIError(str(exc), code=1) from exc
    if bar:
        bar.close()
    print(f"restored {len(report.written)} frames in {report.seconds:.1f} s"
          + (f", {len(report.skipped_existing)} already done" if report.skipped_existing else ""))
    if report.failed:
        print(f"skipped {len(report.failed)} frames:", *report.failed, sep="\n  ")
    if report.interrupted:
        print("interrupted: run the same command with --resume to finish", file=sys.stderr)
        return 130
    return 1 if report.failed else 0
