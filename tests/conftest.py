"""Shared fixtures: small deterministic inputs for the network contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from haineifrdm.diffusion import embed_timestep
from haineifrdm.model import HaineiFRDM, create_model, save_model


@pytest.fixture(autouse=True)
def _threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny_model() -> HaineiFRDM:
    torch.manual_seed(0)
    return create_model("tiny").eval()


def make_inputs(model: HaineiFRDM, batch: int = 2, size: int = 32,
                seed: int = 0) -> dict[str, torch.Tensor]:
    """Random denoiser inputs that satisfy the contract, plus a thumbnail."""
    g = torch.Generator().manual_seed(seed)
    d = model.dims
    guide = torch.rand(batch, 3, size, size, generator=g)
    return {
        "x_t": guide + 0.05 * torch.randn(batch, 3, size, size, generator=g),
        "window": torch.rand(batch, d.window_channels, size, size, generator=g),
        "guide": guide,
        "thumb": torch.rand(batch, d.window_channels, d.thumb, d.thumb, generator=g),
        "box": torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.25, 0.5, 0.75, 1.0]] * batch)[:batch],
        "t_emb": embed_timestep(torch.linspace(0.1, 0.9, batch), stage=2),
    }


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained `tiny` network saved as safetensors (seed 0)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "tiny.safetensors"
    save_model(create_model("tiny"), path)
    return path


def write_movie(path: Path, frames: np.ndarray, codec: str, pix_fmt: str) -> Path:
    """Encode float RGB frames [T, H, W, 3] with PyAV (16-bit RGB source when pix_fmt is deep)."""
    import av

    deep = any(tag in pix_fmt for tag in ("10", "12", "16"))
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=24)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        for i, frame in enumerate(frames):
            data = (frame * (65535 if deep else 255)).astype(np.uint16 if deep else np.uint8)
            f = av.VideoFrame.from_ndarray(data, format="rgb48le" if deep else "rgb24")
            f = f.reformat(format=pix_fmt)
            f.pts = i
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path
