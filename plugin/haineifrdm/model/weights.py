"""Weights on disk: safetensors with the model config in the header metadata.

Never unpickles anything: loading uses ``safetensors`` only.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .network import HaineiFRDM, ModelConfig

CONFIG_KEY = "haineifrdm.config"


def save_model(model: HaineiFRDM, path: str | Path, extra: dict[str, str] | None = None) -> None:
    """Write weights + config atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {CONFIG_KEY: json.dumps(model.config.to_dict())}
    meta.update(extra or {})
    state = {k: v.detach().to("cpu", torch.float32).contiguous()
             for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(state, tmp, metadata=meta)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_metadata(path: str | Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def load_model(path: str | Path, device: str | torch.device = "cpu") -> HaineiFRDM:
    """Rebuild a network from a safetensors file written by :func:`save_model`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model weights not found: {path}")
    try:
        meta = read_metadata(path)
        state = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable safetensors checkpoint: {exc}") from exc
    if CONFIG_KEY not in meta:
        raise ValueError(f"{path} has no '{CONFIG_KEY}' metadata; not a HaineiFRDM checkpoint")
    model = HaineiFRDM(ModelConfig.from_dict(json.loads(meta[CONFIG_KEY])))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path} does not match its config: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    return model.to(device).eval()


def load_grown(model: HaineiFRDM, start: HaineiFRDM) -> None:
    """Copy ``start``'s weights into ``model`` for fine-tuning; where ``model`` has more
    output channels (an added fill candidate: the head's and the detector's last
    convolutions), the extra ones start at zero (an equal share of the selection).
    Raises ValueError for any other difference in shape."""
    src = start.state_dict()
    with torch.no_grad():
        for name, dst in model.state_dict().items():
            if name not in src:
                raise ValueError(f"cannot fine-tune from these weights: no {name}")
            old = src[name]
            if old.shape == dst.shape:
                dst.copy_(old)
            elif old.dim() == dst.dim() and old.shape[1:] == dst.shape[1:] \
                    and old.shape[0] < dst.shape[0]:
                dst.zero_()
                dst[: old.shape[0]].copy_(old)
            else:
                raise ValueError(f"cannot fine-tune from these weights: {name} is "
                                 f"{tuple(old.shape)}, this model needs {tuple(dst.shape)}")
