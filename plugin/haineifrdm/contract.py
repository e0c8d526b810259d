"""The network's input/output contract: the one machine-readable source of truth.

The exporter writes :func:`contract_spec` into ``manifest.json``; the engine and
the render service read it back from there (or from this module for in-process
PyTorch models). Every tensor is NCHW float32 unless stated; images are
linear-light RGB, nominally in [0, 1], with values outside that range allowed
(super-whites in float EXR must survive).

Graph ``context``  (run once per frame window)
    thumb   [B, 3*(2r+1), THUMB, THUMB]   degraded window, each frame resized to
                                          THUMB x THUMB (area filter), frames
                                          stacked on channels, oldest first
    ->
    tokens  [B, N_TOKENS, TOKEN_DIM]      position-aware global prompt

Graph ``denoiser``  (run per patch and per step)
    x_t     [B, 3, P, P]                  current chain state of the patch
    window  [B, 3*(2r+1), P, P]           degraded frames of the patch, oldest first;
                                          with ``register_frames`` each frame is read
                                          through its per-patch motion-compensating
                                          whole-pixel shift (engine registration.hpp,
                                          ``_engine.patch_shifts``), else in place
    guide   [B, 3, P, P]                  global-residual base (stage 1: degraded
                                          centre frame; stage 2: upsampled stage-1
                                          restoration)
    tokens  [B, N_TOKENS, TOKEN_DIM]      from ``context``
    box     [B, 4]                        patch rectangle (x0, y0, x1, y1) in
                                          normalised full-frame coordinates, [0, 1]
                                          inside the frame (may exceed it at padding)
    t_emb   [B, T_EMB_DIM]                noise-level + stage embedding, computed
                                          outside the graph in FP32
                                          (:func:`haineifrdm.diffusion.embed_timestep`)
    ->
    x0      [B, 3, P, P]                  clean-patch estimate: centre frame +
                                          lowpass(guide - centre), defects under
                                          the network's own matte replaced from
                                          the other frames, their surroundings or
                                          the guide, + residual

Graph ``blotch``  (optional: models with ``blotch``; run once per frame window)
    window_q [B, 3*(2r+1), h, w]          the degraded window, each frame area-
                                          downscaled by BLOTCH_SCALE (4), edge-padded
                                          to multiples of 8, frames on channels
    ->
    offset   [B, 3, h, w]                 the centre frame's additive blotch offset
                                          (degraded - clean), confidence-weighted; the
                                          engine upscales it and subtracts it
                                          (blotch.hpp)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CONTRACT_VERSION = 1

#: Side of the square thumbnail fed to ``context`` (pixels).
THUMB_SIZE = 128
#: Dimension of the noise-level/stage embedding computed outside the graphs.
T_EMB_DIM = 64
#: Default temporal radius r (window = 2r + 1 frames).
DEFAULT_RADIUS = 2

#: The ``blotch`` graph sees the window area-downscaled by this factor, edge-padded so
#: each side is a multiple of BLOTCH_MULTIPLE (the engine's blotch.hpp keeps the same two).
BLOTCH_SCALE = 4
BLOTCH_MULTIPLE = 8

IMAGE_RANGE = (0.0, 1.0)  # nominal; values outside are allowed and preserved


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: name, symbolic shape, dtype, nominal range."""

    name: str
    shape: tuple[str | int, ...]
    dtype: str = "float32"
    value_range: tuple[float, float] | None = None
    doc: str = ""


@dataclass(frozen=True)
class GraphSpec:
    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]


@dataclass(frozen=True)
class ModelDims:
    """The sizes that fill the symbolic shapes of a concrete network."""

    radius: int = DEFAULT_RADIUS
    n_tokens: int = 16
    token_dim: int = 64
    thumb: int = THUMB_SIZE
    t_emb_dim: int = T_EMB_DIM
    register_frames: bool = False
    blotch: bool = False  # the optional ``blotch`` graph is present
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def window_frames(self) -> int:
        return 2 * self.radius + 1

    @property
    def window_channels(self) -> int:
        return 3 * self.window_frames


def context_graph(d: ModelDims) -> GraphSpec:
    return GraphSpec(
        name="context",
        inputs=(
            TensorSpec("thumb", ("B", d.window_channels, d.thumb, d.thumb), value_range=IMAGE_RANGE,
                       doc="degraded window resized to thumb x thumb, frames on channels"),
        ),
        outputs=(
            TensorSpec("tokens", ("B", d.n_tokens, d.token_dim), doc="global prompt tokens"),
        ),
    )


def denoiser_graph(d: ModelDims) -> GraphSpec:
    img = IMAGE_RANGE
    return GraphSpec(
        name="denoiser",
        inputs=(
            TensorSpec("x_t", ("B", 3, "P", "P"), value_range=None, doc="chain state"),
            TensorSpec("window", ("B", d.window_channels, "P", "P"), value_range=img,
                       doc="degraded frames of the patch, oldest first"
                           + (", motion-compensated per patch" if d.register_frames else "")),
            TensorSpec("guide", ("B", 3, "P", "P"), value_range=img, doc="global-residual base"),
            TensorSpec("tokens", ("B", d.n_tokens, d.token_dim), doc="from context"),
            TensorSpec("box", ("B", 4), value_range=(0.0, 1.0),
                       doc="x0, y0, x1, y1 in normalised frame coordinates"),
            TensorSpec("t_emb", ("B", d.t_emb_dim), doc="FP32 noise-level/stage embedding"),
        ),
        outputs=(TensorSpec("x0", ("B", 3, "P", "P"), value_range=img, doc="clean estimate"),),
    )


def blotch_graph(d: ModelDims) -> GraphSpec:
    return GraphSpec(
        name="blotch",
        inputs=(TensorSpec("window_q", ("B", d.window_channels, "h", "w"), value_range=IMAGE_RANGE,
                           doc="degraded window at a quarter of the size, frames on channels"),),
        outputs=(TensorSpec("offset", ("B", 3, "h", "w"),
                            doc="centre frame's blotch offset, subtracted by the engine"),),
    )


def graphs(d: ModelDims) -> tuple[GraphSpec, ...]:
    """Every graph a network with these dims exports."""
    return (context_graph(d), denoiser_graph(d)) + ((blotch_graph(d),) if d.blotch else ())


def contract_spec(d: ModelDims) -> dict[str, Any]:
    """JSON-ready description of both graphs (written into manifest.json)."""
    return {
        "contract_version": CONTRACT_VERSION,
        "radius": d.radius,
        "window_frames": d.window_frames,
        "thumb_size": d.thumb,
        "n_tokens": d.n_tokens,
        "token_dim": d.token_dim,
        "t_emb_dim": d.t_emb_dim,
        "register_frames": d.register_frames,
        "blotch": d.blotch,
        "blotch_scale": BLOTCH_SCALE,
        "color": "linear-light RGB float, nominal [0,1], out-of-range values allowed",
        "graphs": {g.name: {"inputs": [asdict(t) for t in g.inputs],
                            "outputs": [asdict(t) for t in g.outputs]}
                   for g in graphs(d)},
    }
