"""The MatMul DFT equals torch.fft (ortho) and uses no FFT ops."""

from __future__ import annotations

import pytest
import torch

from haineifrdm.model.frequency import GlobalLocalFrequencyModule, irdft2, rdft2


@pytest.mark.parametrize("h,w", [(8, 8), (16, 12), (7, 9), (32, 32), (1, 5), (64, 16)])
def test_rdft2_matches_torch_fft(h: int, w: int) -> None:
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(h * 100 + w))
    re, im = rdft2(x)
    ref = torch.fft.rfft2(x, norm="ortho")
    assert re.shape == ref.real.shape
    torch.testing.assert_close(re, ref.real, atol=1e-5, rtol=0)
    torch.testing.assert_close(im, ref.imag, atol=1e-5, rtol=0)


@pytest.mark.parametrize("h,w", [(8, 8), (16, 12), (7, 9), (32, 32)])
def test_irdft2_matches_torch_ifft_and_inverts(h: int, w: int) -> None:
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(7))
    spec = torch.fft.rfft2(x, norm="ortho")
    spec = spec + 0.1 * torch.randn_like(spec)  # a filtered (non-Hermitian-exact) spectrum
    ref = torch.fft.irfft2(spec, s=(h, w), norm="ortho")
    out = irdft2(spec.real.contiguous(), spec.imag.contiguous(), w)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(irdft2(*rdft2(x), w), x, atol=1e-5, rtol=0)


def test_frequency_module_has_no_fft_ops() -> None:
    mod = GlobalLocalFrequencyModule(8, 16)
    x = torch.randn(1, 8, 16, 16)
    cond = torch.randn(1, 16)
    traced = torch.jit.trace(mod, (x, cond))
    ops = {n.kind() for n in traced.inlined_graph.nodes()}
    assert not any("fft" in op for op in ops), ops
    assert "aten::matmul" in ops
