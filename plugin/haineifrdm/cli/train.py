"""``haineifrdm train --config C --out DIR [--minutes N] [--resume] [--init W] [--make-pack]``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="TOML training config (see configs/)")
    p.add_argument("--out", required=True, help="run folder for checkpoints and metrics")
    p.add_argument("--minutes", type=float, default=None,
                   help="time budget; stops cleanly and saves when it runs out")
    p.add_argument("--resume", action="store_true", help="continue from the run folder")
    p.add_argument("--init", default=None,
                   help="start from these weights (fine-tuning: fresh schedule and optimizer)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--pack-workers", type=int, default=os.cpu_count() or 1,
                   help="processes rendering --make-pack clips (default: all cores)")
    p.add_argument("--photos", help="folder of clean photographs for --make-pack (default: "
                   "the scikit-image training photographs)")
    p.add_argument("--make-pack", type=int, default=0, metavar="CLIPS",
                   help="first build the config's training pack with this many clips")
    p.add_argument("--pack-only", action="store_true",
                   help="build the pack (--make-pack) and stop without training")
    p.add_argument("--damage-templates", default=None,
                   help="template folder for --make-pack (procedural damage without it)")
    p.add_argument("--clean-source", action="append", default=[],
                   help="extra clean footage for --make-pack: a folder of frames or a movie "
                   "(repeatable)")


def run(args: argparse.Namespace) -> int:
    from ..data.pack import PackConfig, build_pack
    from ..data.templates import TemplateLibrary
    from ..training import TrainConfig, train

    try:
        cfg = TrainConfig.from_toml(args.config)
        if args.make_pack:
            lib = TemplateLibrary.scan(args.damage_templates) if args.damage_templates else None
            pcfg = PackConfig(clips=args.make_pack, seed=cfg.seed,
                              clean_sources=tuple(args.clean_source),
                              photos=_photos(args.photos))
            build_pack(cfg.pack, pcfg, lib,
                       progress=lambda i, n: print(f"\rpack {i}/{n}", end="", flush=True),
                       workers=args.pack_workers)
            print()
        if args.pack_only:
            if not args.make_pack:
                raise CLIError("--pack-only needs --make-pack N")
            return 0
        if not Path(cfg.pack, "pack.json").is_file():
            raise CLIError(f"training pack {cfg.pack} not found; build it with --make-pack N")
        result = train(cfg, args.out, args.minutes, args.resume, args.device, args.init)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    print(json.dumps(result))
    return 0


def _photos(folder: str | None) -> tuple[str, ...]:
    if folder is None:
        return ()
    files = tuple(str(f) for f in sorted(Path(folder).glob("*.png")))
    if not files:
        raise CLIError(f"--photos {folder}: no PNG photographs there")
    return files
