"""Finding a model: ``"default"``, a checkpoint, a loaded network or an export directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .contract import ModelDims
from .diffusion import Schedule, ScheduleConfig
from .model import HaineiFRDM, ModelConfig, load_model

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "default.safetensors"
MANIFEST = "manifest.json"


def default_model_path() -> Path:
    if not DEFAULT_WEIGHTS.is_file():
        raise ValueError(f"the default model is not installed ({DEFAULT_WEIGHTS} is missing)")
    return DEFAULT_WEIGHTS


@dataclass
class ResolvedModel:
    """Everything the engine needs to know about a model, whatever form it came in."""

    dims: ModelDims
    size_multiple: int
    schedule: Schedule
    network: HaineiFRDM | None = None  # for the torch backend
    export_dir: Path | None = None  # for onnxruntime/tensorrt backends
    manifest: dict[str, Any] | None = None
    source: str = ""


def resolve_model(spec: str | Path | HaineiFRDM, device: str = "cpu") -> ResolvedModel:
    """``"default"`` | path to .safetensors | export dir with manifest.json | a network."""
    if isinstance(spec, HaineiFRDM):
        return ResolvedModel(spec.dims, spec.size_multiple, Schedule.from_config(), network=spec,
                             source=f"<in-memory {spec.config.preset}>")
    path = default_model_path() if str(spec) == "default" else Path(spec)
    if path.is_dir():
        from .exporter import read_manifest

        manifest = read_manifest(path)
        cfg = ModelConfig.from_dict(manifest["model"]["config"])
        sched_cfg = {k: v for k, v in manifest["schedule"].items() if k != "etas"}
        schedule = Schedule.from_config(ScheduleConfig(**sched_cfg))
        network = None
        weights = path / manifest["files"].get("weights", "")
        if weights.is_file():
            from .exporter import model_hash

            network = load_model(weights, device)
            if model_hash(network) != manifest["model"]["hash"]:
                raise ValueError(f"{weights} does not match the model hash in "
                                 f"{path / MANIFEST}; the export folder was modified")
        return ResolvedModel(cfg.dims, int(manifest["size_multiple"]), schedule, network, path,
                             manifest, str(path))
    if not path.exists():
        raise ValueError(f"model not found: {path}")
    try:
        net = load_model(path, device)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot load model {path}: {exc}") from exc
    return ResolvedModel(net.dims, net.size_multiple, Schedule.from_config(), network=net,
                         source=str(path))
