"""``haineifrdm train --config C --out DIR [--minutes N] [--resume] [--make-pack]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="TOML training config (see configs/)")
    p.add_argument("--out", required=True, help="run folder for checkpoints and metrics")
    p.add_argument("--minutes", type=float, default=None,
                   help="time budget; stops cleanly and saves when it runs out")
    p.add_argument("--resume", action="store_true", help="continue from the run folder")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--make-pack", type=int, default=0, metavar="CLIPS",
                   help="first build the config's training pack with this many clips")
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
                              clean_sources=tuple(args.clean_source))
            build_pack(cfg.pack, pcfg, lib,
                       progress=lambda i, n: print(f"\rpack {i}/{n}", end="", flush=True))
            print()
        if not Path(cfg.pack, "pack.json").is_file():
            raise CLIError(f"training pack {cfg.pack} not found; build it with --make-pack N")
        result = train(cfg, args.out, args.minutes, args.resume, args.device)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    print(json.dumps(result))
    return 0
