"""``haineifrdm export --checkpoint CKPT|default --out DIR [...]``."""

from __future__ import annotations

import argparse

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a .safetensors checkpoint or 'default'")
    p.add_argument("--out", required=True, help="new folder for the export")
    p.add_argument("--patch", type=int, default=256, help="patch side the graphs are built for")
    p.add_argument("--batch", default="1-8", help="batch range MIN-MAX (TensorRT profile)")
    p.add_argument("--precision", default="fp32,fp16", help="comma list of fp32, fp16")
    p.add_argument("--tensorrt", action="store_true",
                   help="also build TensorRT engines (needs tensorrt and a CUDA GPU)")


def run(args: argparse.Namespace) -> int:
    from haineifrdm.exporter.export import ExportError, export_model

    try:
        lo, _, hi = args.batch.partition("-")
        batch = (int(lo), int(hi or lo))
    except ValueError as exc:
        raise CLIError(f"--batch must look like 1-8, got {args.batch!r}") from exc
    precisions = tuple(p.strip() for p in args.precision.split(",") if p.strip())
    try:
        manifest = export_model(args.checkpoint, args.out, args.patch, batch, precisions,
                                args.tensorrt)
    except ExportError as exc:
        raise CLIError(str(exc)) from exc
    print(f"exported {manifest['model']['preset']} (hash {manifest['model']['hash'][:12]}) "
          f"to {args.out}")
    for c in manifest["validation"]:
        print(f"  {c['graph']:<14} {c['precision']} {c['inputs']:<6} max abs {c['max_abs']:.2e} "
              f"rel {c['max_rel']:.2e} (tol {c['tolerance']:.0e}) {'ok' if c['ok'] else 'FAIL'}")
    print(f"  TensorRT static op check: {manifest['tensorrt_static_check']}")
    return 0
