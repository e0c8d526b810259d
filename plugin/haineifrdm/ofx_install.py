"""Installing the HaineiFRDM Restore OFX bundle where Resolve and Nuke look for it."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

BUNDLE = "HaineiFRDM.ofx.bundle"
DEFAULT_DEST = Path("/usr/OFX/Plugins")
RESOLVE_CACHES = (
    Path.home() / ".local/share/DaVinciResolve/OFXPluginCacheV2.xml",
    Path.home() / ".local/share/DaVinciResolve/configs/OFXPluginCacheV2.xml",
)


def built_ofx_dir() -> Path:
    """Where the build installed the bundle and the test host (beside haineifrdm._engine)."""
    from . import _engine

    return Path(_engine.__file__).resolve().parent / "ofx"


def built_bundle() -> Path:
    bundle = built_ofx_dir() / BUNDLE
    if not (bundle / "Contents" / "Linux-x86-64" / "HaineiFRDM.ofx").is_file():
        raise ValueError(f"the OFX bundle was not built with this install ({bundle} missing); "
                         "reinstall with `pip install -e .`")
    return bundle


def test_host() -> Path:
    host = built_ofx_dir() / "haineifrdm-ofx-host"
    if not host.is_file():
        raise ValueError(f"the OFX test host was not built ({host} missing)")
    return host


def write_config(bundle: Path, model: str, backend: str, python: str | None = None,
                 socket: str | None = None) -> Path:
    cfg = {"python": python or sys.executable, "model": model, "backend": backend}
    if socket:
        cfg["socket"] = socket
    path = bundle / "Contents" / "Resources" / "haineifrdm.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg, indent=1))
    return path


def clear_resolve_cache(caches: tuple[Path, ...] = RESOLVE_CACHES) -> list[Path]:
    """Resolve never retries a bundle its cache marks failed: drop caches that list ours."""
    removed = []
    for cache in caches:
        try:
            text = cache.read_text(errors="replace")
        except OSError:
            continue
        if "HaineiFRDM" in text:
            shutil.copy2(cache, cache.with_suffix(".xml.bak"))
            cache.unlink()
            removed.append(cache)
    return removed


def install(dest: Path = DEFAULT_DEST, model: str = "default", backend: str = "auto",
            python: str | None = None) -> Path:
    """Copy the bundle into ``dest`` (replacing an older one) and write its config."""
    src = built_bundle()
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".haineifrdm-", dir=dest))
    try:
        staged = tmp / BUNDLE
        shutil.copytree(src, staged)
        write_config(staged, model, backend, python)
        target = dest / BUNDLE
        if target.exists():
            shutil.rmtree(target)
        os.replace(staged, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
