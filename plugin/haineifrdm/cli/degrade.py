"""``haineifrdm degrade IN OUT`` and ``haineifrdm degrade --gallery OUT.png``."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", nargs="?", help="folder of clean frames (PNG/TIFF/DPX/EXR)")
    p.add_argument("output", nargs="?", help="folder for degraded frames, masks/ and "
                   "degradation.json (must not exist or be empty)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--damage-templates", metavar="DIR",
                   help="folders of RGBA damage overlays, one per category "
                   "(procedural damage without it)")
    p.add_argument("--scale", type=float, default=None,
                   help="pixels per 2K-scan pixel for defect sizes (default: width / 2048)")
    p.add_argument("--density", type=float, default=1.0, help="multiplier on speck counts")
    p.add_argument("--weave", action="store_true",
                   help="add gate weave/splice jumps (also writes the moved clean frames "
                   "to OUT/clean/)")
    p.add_argument("--grain", type=float, default=0.0,
                   help="add synthetic grain of this std (content: also written to OUT/clean/)")
    p.add_argument("--gallery", metavar="OUT.png",
                   help="write a labelled contact sheet of every defect type instead")


def run(args: argparse.Namespace) -> int:
    from ..data.gallery import make_gallery
    from ..data.templates import TemplateLibrary

    try:
        lib = TemplateLibrary.scan(args.damage_templates) if args.damage_templates else None
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    if args.gallery:
        print(make_gallery(args.gallery, args.seed, lib))
        return 0
    if not args.input or not args.output:
        raise CLIError("give IN and OUT folders, or --gallery OUT.png")
    degrade_folder(Path(args.input), Path(args.output), args, lib)
    return 0


def degrade_folder(src: Path, dst: Path, args: argparse.Namespace, lib: object) -> None:
    from ..data.degrade import DegradationConfig, synthesize
    from ..io import list_frames, read_sequence, write_frame
    from ..io.frames import umask_mode
    from ..io.movie import is_movie

    if is_movie(src):
        degrade_movie(src, dst, args, lib)
        return
    try:
        files = list_frames(src)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    src_r, dst_r = src.resolve(), dst.resolve()
    if dst_r == src_r or src_r in dst_r.parents:
        raise CLIError(f"OUT ({dst}) must not be IN or inside it")
    if dst.exists() and any(dst.iterdir()):
        raise CLIError(f"OUT ({dst}) exists and is not empty; nothing was written")
    try:
        clip, infos = read_sequence(files)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    cfg = DegradationConfig(seed=args.seed, scale=args.scale, specks=args.density,
                            weave=args.weave, grain=args.grain)
    res = synthesize(clip, cfg, lib)  # type: ignore[arg-type]
    content_changed = args.weave or args.grain > 0
    # write everything into a sibling temp folder, then move it into place
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    try:
        for k, info in enumerate(infos):
            write_frame(tmp / info.path.name, res.degraded[k], info)
            mask_rgb = np.repeat(res.mask[k][..., None], 3, axis=-1)
            from ..io.frames import FrameInfo

            mask_info = FrameInfo(Path(info.path.stem + ".png"), info.height, info.width,
                                  "uint8", 1, 8)
            write_frame(tmp / "masks" / f"{info.path.stem}.png", mask_rgb, mask_info)
            if content_changed:
                write_frame(tmp / "clean" / info.path.name, res.clean[k], info)
        params = {**res.params, "input": str(src), "files": [p.name for p in files],
                  "clean_written": content_changed}
        (tmp / "degradation.json").write_text(json.dumps(params, indent=1))
        if dst.exists():
            dst.rmdir()
        tmp.chmod(umask_mode(0o777))
        tmp.rename(dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    print(f"wrote {len(files)} degraded frames, masks and degradation.json to {dst}")


def degrade_movie(src: Path, dst: Path, args: argparse.Namespace, lib: object) -> None:
    """A movie in: OUT/<name> (same codec) with the damage, OUT/masks/, degradation.json."""
    from ..data.degrade import DegradationConfig, synthesize
    from ..io import write_frame
    from ..io.frames import FrameInfo
    from ..io.movie import MovieWriter, iter_frames, probe

    if dst.exists() and any(dst.iterdir()):
        raise CLIError(f"OUT ({dst}) exists and is not empty; nothing was written")
    try:
        info, _ = probe(src)
        clip = np.stack(list(iter_frames(src)))
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    cfg = DegradationConfig(seed=args.seed, scale=args.scale, specks=args.density,
                            weave=args.weave, grain=args.grain)
    res = synthesize(clip, cfg, lib)  # type: ignore[arg-type]
    dst.mkdir(parents=True, exist_ok=True)
    writer = MovieWriter(dst / src.name, info)
    try:
        for frame in res.degraded:
            writer.write(frame)
        writer.close()
    except Exception:
        writer.abort()
        raise
    h, w = clip.shape[1:3]
    for k, m in enumerate(res.mask):
        write_frame(dst / "masks" / f"{src.stem}.{k:06d}.png", np.repeat(m[..., None], 3, -1),
                    FrameInfo(Path("m.png"), h, w, "uint8", 1, 8))
    (dst / "degradation.json").write_text(json.dumps({**res.params, "input": str(src)},
                                                     indent=1))
    print(f"wrote {len(clip)} degraded frames ({src.name}), masks and degradation.json to {dst}")
