"""PyTorch -> ONNX (FP32 and FP16) for the graphs of the network contract."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from haineifrdm.contract import blotch_graph, context_graph, denoiser_graph
from haineifrdm.model import HaineiFRDM

OPSET = 17


class _Denoiser(nn.Module):
    """FP32 in/out; runs the network in ``dtype`` (FP16 keeps norms/softmax/angles in FP32)."""

    def __init__(self, net: HaineiFRDM, dtype: torch.dtype) -> None:
        super().__init__()
        self.net = net.denoiser_net
        self.dtype = dtype

    def forward(self, x_t: Tensor, window: Tensor, guide: Tensor, tokens: Tensor, box: Tensor,
                t_emb: Tensor) -> Tensor:
        d = self.dtype
        out = self.net(x_t.to(d), window.to(d), guide.to(d), tokens.to(d), box.to(d), t_emb.to(d))
        return out.float()


class _Context(nn.Module):
    def __init__(self, net: HaineiFRDM) -> None:
        super().__init__()
        self.net = net.context_net

    def forward(self, thumb: Tensor) -> Tensor:
        return self.net(thumb)


class _Blotch(nn.Module):
    def __init__(self, net: HaineiFRDM) -> None:
        super().__init__()
        assert net.blotch_net is not None
        self.net = net.blotch_net

    def forward(self, window_q: Tensor) -> Tensor:
        return self.net(window_q)


def example_inputs(net: HaineiFRDM, patch: int, batch: int = 2) -> dict[str, Tensor]:
    d = net.dims
    g = torch.Generator().manual_seed(0)
    return {
        "x_t": torch.rand(batch, 3, patch, patch, generator=g),
        "window": torch.rand(batch, d.window_channels, patch, patch, generator=g),
        "guide": torch.rand(batch, 3, patch, patch, generator=g),
        "tokens": torch.randn(batch, d.n_tokens, d.token_dim, generator=g),
        "box": torch.tensor([[0.0, 0.0, 0.25, 0.3]] * batch),
        "t_emb": torch.randn(batch, d.t_emb_dim, generator=g),
        "thumb": torch.rand(1, d.window_channels, d.thumb, d.thumb, generator=g),
        "window_q": torch.rand(1, d.window_channels, 64, 88, generator=g),
    }


def export_graphs(net: HaineiFRDM, out_dir: Path, patch: int, fp16: bool) -> dict[str, str]:
    """Write context.onnx, denoiser.onnx (and denoiser.fp16.onnx; blotch.onnx for models
    with the blotch graph, FP32 only: a small graph); returns the file map."""
    net = net.float().eval().cpu()
    ex = example_inputs(net, patch)
    d = net.dims
    files = {"context": "context.onnx", "denoiser": "denoiser.onnx"}
    with warnings.catch_warnings():  # DFT sizes become constants: intended (one patch size)
        warnings.simplefilter("ignore")
        cg = context_graph(d)
        torch.onnx.export(_Context(net), (ex["thumb"],), str(out_dir / files["context"]),
                          input_names=cg.input_names(), output_names=cg.output_names(),
                          dynamic_axes={n: {0: "B"} for n in cg.input_names() + cg.output_names()},
                          opset_version=OPSET, dynamo=False)
        dg = denoiser_graph(d)
        args = tuple(ex[n] for n in dg.input_names())
        axes = {n: {0: "B"} for n in dg.input_names() + dg.output_names()}
        torch.onnx.export(_Denoiser(net, torch.float32), args, str(out_dir / files["denoiser"]),
                          input_names=dg.input_names(), output_names=dg.output_names(),
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        if fp16:
            files["denoiser_fp16"] = "denoiser.fp16.onnx"
            half = _Denoiser(_copy_half(net), torch.float16)
            torch.onnx.export(half, args, str(out_dir / files["denoiser_fp16"]),
                              input_names=dg.input_names(), output_names=dg.output_names(),
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        if net.blotch_net is not None:
            files["blotch"] = "blotch.onnx"
            bg = blotch_graph(d)
            torch.onnx.export(_Blotch(net), (ex["window_q"],), str(out_dir / files["blotch"]),
                              input_names=bg.input_names(), output_names=bg.output_names(),
                              dynamic_axes={"window_q": {0: "B", 2: "h", 3: "w"},
                                            "offset": {0: "B", 2: "h", 3: "w"}},
                              opset_version=OPSET, dynamo=False)
    return files


def _copy_half(net: HaineiFRDM) -> HaineiFRDM:
    """An FP16 copy whose decoder stays FP32 (see ``Denoiser.fp32_decoder``)."""
    import copy

    half = copy.deepcopy(net).half()
    half.denoiser_net.fp32_decoder()
    return half
