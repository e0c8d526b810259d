"""``haineifrdm`` entry point: one sub-command per job.

Each sub-command lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; commands that are not built yet say so and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .. import __version__


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 2 (or ``code``)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    module: str | None  # haineifrdm.cli.<module>; None = not built yet


COMMANDS: tuple[Command, ...] = (
    Command("restore", "restore a frame sequence or movie (DPX/EXR/TIFF/PNG, MOV/MP4/MKV)",
            "restore"),
    Command("demo", "build a fast-motion clip, damage it, restore it with the default model",
            "demo"),
    Command("compare", "side-by-side QC strips of two sequences (e.g. before/after)",
            "compare"),
    Command("degrade", "add synthetic film damage to clean frames (makes test material)",
            "degrade"),
    Command("train", "train a restoration model from a TOML config", "train"),
    Command("eval", "evaluate a model on a held-out synthetic set", "evaluate"),
    Command("export", "export a checkpoint to ONNX (FP32/FP16) and TensorRT", "export"),
    Command("bench", "measure latency and memory of a model on a backend", "bench"),
    Command("serve", "run the local render service used by the OFX plugin", "serve"),
    Command("install-ofx", "install the HaineiFRDM Restore OFX bundle", "install_ofx"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="haineifrdm",
        description="HaineiFRDM: diffusion-based film restoration that keeps grain.",
    )
    parser.add_argument("--version", action="version", version=f"haineifrdm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if cmd.module is not None:
            importlib.import_module(f"haineifrdm.cli.{cmd.module}").add_arguments(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cmd: Command | None = getattr(args, "_command", None)
    if cmd is None:
        parser.print_help()
        return 0
    if cmd.module is None:
        print(f"haineifrdm {cmd.name}: not available in this version yet", file=sys.stderr)
        return 2
    try:
        code: int = importlib.import_module(f"haineifrdm.cli.{cmd.module}").run(args)
        return code
    except CLIError as exc:
        print(f"haineifrdm {cmd.name}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"haineifrdm {cmd.name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
