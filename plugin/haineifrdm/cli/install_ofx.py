"""``haineifrdm install-ofx [--dest DIR]``: put HaineiFRDM.ofx.bundle where hosts look."""

from __future__ import annotations

import argparse
from pathlib import Path

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dest", default="/usr/OFX/Plugins",
                   help="plugin folder (default /usr/OFX/Plugins; any folder on OFX_PLUGIN_PATH)")
    p.add_argument("--model", default="default", help="model the render service loads")
    p.add_argument("--backend", default="auto")
    p.add_argument("--python", help="interpreter that runs `haineifrdm serve` (default: this one)")


def run(args: argparse.Namespace) -> int:
    from ..ofx_install import clear_resolve_cache, install

    try:
        target = install(Path(args.dest), args.model, args.backend, args.python)
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc)) from exc
    print(f"installed {target}")
    print(f"config {target / 'Contents/Resources/haineifrdm.json'} "
          "(override with HAINEIFRDM_CONFIG)")
    for cache in clear_resolve_cache():
        print(f"removed stale Resolve plugin cache {cache} (backup beside it)")
    print("restart Resolve or Nuke; the node is HaineiFRDM > HaineiFRDM Restore")
    return 0
