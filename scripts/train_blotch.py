"""Train the blotch network and attach it to a model (ModelConfig.blotch, graph ``blotch``).

The main network's weights are copied unchanged; the blotch network is trained on its own
material (made once, see haineifrdm.blotch_training). Writes atomically; never overwrites
its input.

Usage: python scripts/train_blotch.py IN.safetensors OUT.safetensors --material DIR
       [--clips 1200] [--minutes 50] [--workers 2] [--damage-templates DIR]
       [--init B.safetensors] [--lr 2e-3] [--still-share 0.75]
       [--blotch-weights B.safetensors  (attach trained blotch weights, no training)]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import load_file

from haineifrdm.blotch_training import make_material, save_weights, train_blotch
from haineifrdm.data.templates import TemplateLibrary
from haineifrdm.model import HaineiFRDM, load_model, save_model

#: clips per material file (one file per worker batch keeps memory flat while making it)
CLIPS_PER_FILE = 600


def attach(model: HaineiFRDM, blotch: dict[str, torch.Tensor]) -> HaineiFRDM:
    """A copy of ``model`` with ``config.blotch`` on and these blotch-network weights."""
    out = HaineiFRDM(replace(model.config, blotch=True))
    state = model.state_dict()
    state.update({f"blotch_net.{k}": v for k, v in blotch.items()})
    out.load_state_dict(state, strict=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--material", type=Path, help="folder of material files (made if empty)")
    ap.add_argument("--clips", type=int, default=1200)
    ap.add_argument("--minutes", type=float, default=50.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--damage-templates", type=Path, default=None,
                    help="film-damage overlays for the specks (as for the main network)")
    ap.add_argument("--init", type=Path, default=None,
                    help="blotch weights to go on training from (.safetensors)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--held-out", type=int, default=150,
                    help="windows of the material never trained on (their error is logged)")
    ap.add_argument("--still-share", type=float, default=None,
                    help="share of each batch from locked-off shots (default: as made)")
    ap.add_argument("--photos", type=Path, default=None,
                    help="folder of PNG photographs in place of skimage's (see "
                    "scripts/make_training_material.py)")
    ap.add_argument("--blotch-weights", type=Path, default=None,
                    help="attach these trained blotch weights instead of training")
    args = ap.parse_args()
    if args.src.resolve() == args.dst.resolve():
        ap.error("OUT must differ from IN (the input is never overwritten)")
    model = load_model(args.src)
    if args.blotch_weights is not None:
        blotch = load_file(str(args.blotch_weights))
    else:
        if args.material is None:
            ap.error("--material is needed to train")
        templates = TemplateLibrary.scan(args.damage_templates) if args.damage_templates else None
        photos = tuple(sorted(map(str, args.photos.glob("*.png")))) if args.photos else ()
        if args.photos and not photos:
            ap.error(f"--photos {args.photos}: no PNG photographs there")
        args.material.mkdir(parents=True, exist_ok=True)
        files = sorted(args.material.glob("blotch_*.npz"))
        if not files:
            for start in range(0, args.clips, CLIPS_PER_FILE):
                n = min(CLIPS_PER_FILE, args.clips - start)
                path = args.material / f"blotch_{start:06d}.npz"
                print(f"making {path} ({n} clips)", flush=True)
                files.append(make_material(path, n, templates, args.workers, start, photos))
        init = load_file(str(args.init)) if args.init else None
        blotch = train_blotch(files, args.minutes, lr=args.lr, init=init, held_out=args.held_out,
                              still_share=args.still_share,
                              checkpoint=args.dst.with_suffix(".blotch.safetensors"),
                              log=lambda s: print(s, flush=True))
        save_weights(blotch, args.dst.with_suffix(".blotch.safetensors"))
    save_model(attach(model, blotch), args.dst)
    print(f"wrote {args.dst}")


if __name__ == "__main__":
    main()
