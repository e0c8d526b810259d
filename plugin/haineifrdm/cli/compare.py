"""``haineifrdm compare A B --out sheet.png``: side-by-side strips of two sequences for QC."""

from __future__ import annotations

import argparse

import numpy as np

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", help="first sequence (folder, pattern or movie), e.g. the scans")
    p.add_argument("b", help="second sequence, e.g. the restoration")
    p.add_argument("--out", required=True, help="PNG contact sheet to write")
    p.add_argument("--count", type=int, default=4, help="frames to show (evenly spread)")
    p.add_argument("--labels", default="A,B", help="column titles, comma separated")


def run(args: argparse.Namespace) -> int:
    from ..io.sources import open_source
    from ..sheets import amplify, contact_sheet

    try:
        a, b = open_source(args.a), open_source(args.b)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    common = sorted(set(a.numbers) & set(b.numbers))
    if not common:
        raise CLIError(f"{args.a} and {args.b} share no frame numbers")
    picks = [common[int(i)] for i in np.linspace(0, len(common) - 1, min(args.count, len(common)))]
    la, lb = ([*args.labels.split(","), "A", "B"])[:2]
    rows, names = [], []
    for n in picks:
        try:
            fa, _ = a.read(a.numbers.index(n))
            fb, _ = b.read(b.numbers.index(n))
        except ValueError as exc:
            raise CLIError(str(exc)) from exc
        if fa.shape != fb.shape:
            raise CLIError(f"frame {n}: sizes differ ({fa.shape[1]}x{fa.shape[0]} vs "
                           f"{fb.shape[1]}x{fb.shape[0]})")
        rows.append([fa, fb, amplify(fb - fa)])
        names.append(f"frame {n}")
    sheet = contact_sheet(rows, [la, lb, f"{lb} - {la} (x4)"], names, args.out)
    print(f"wrote {sheet} ({len(rows)} frames)")
    return 0
