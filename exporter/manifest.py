"""``manifest.json``: the single description of an exported model.

It embeds :func:`haineifrdm.contract.contract_spec` (graph names, shapes, dtypes,
ranges), the diffusion schedule and the model's identity, so the engine and the
render service never hard-code the network's interface.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from haineifrdm import __version__
from haineifrdm.contract import CONTRACT_VERSION, contract_spec
from haineifrdm.diffusion import Schedule
from haineifrdm.model import HaineiFRDM

MANIFEST_NAME = "manifest.json"


def model_hash(model: HaineiFRDM) -> str:
    """SHA-256 over the config and every tensor (name, shape, float32 bytes), sorted by name."""
    h = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu", torch.float32).contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def build_manifest(model: HaineiFRDM, schedule: Schedule, patch: int,
                   batch_range: tuple[int, int] = (1, 8), **extra: Any) -> dict[str, Any]:
    """Manifest content for ``model`` exported at square patch size ``patch``."""
    if patch % model.size_multiple:
        raise ValueError(f"patch {patch} must be a multiple of {model.size_multiple}")
    return {
        "format": "haineifrdm-export",
        "contract_version": CONTRACT_VERSION,
        "producer": {"haineifrdm": __version__, "torch": torch.__version__},
        "model": {"preset": model.config.preset, "config": model.config.to_dict(),
                  "hash": model_hash(model)},
        "patch": patch,
        "size_multiple": model.size_multiple,
        "batch_range": list(batch_range),
        "schedule": schedule.to_dict(),
        "contract": contract_spec(model.dims),
        **extra,
    }


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """Load and sanity-check ``DIR/manifest.json``; ValueError with the reason if unusable."""
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        raise ValueError(f"{directory} has no {MANIFEST_NAME}; not an exported HaineiFRDM model")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if data.get("format") != "haineifrdm-export":
        raise ValueError(f"{path} is not a HaineiFRDM manifest")
    if data.get("contract_version") != CONTRACT_VERSION:
        raise ValueError(f"{path} has contract version {data.get('contract_version')}, "
                         f"this build reads {CONTRACT_VERSION}")
    return data
