"""Residual-shifting schedule, loss, single-patch sampler: determinism and overfitting."""

from __future__ import annotations

import pytest
import torch

from haineifrdm.diffusion import (
    Schedule,
    ScheduleConfig,
    embed_timestep,
    q_sample,
    restoration_loss,
    sample_patch,
)
from haineifrdm.model import HaineiFRDM, create_model

from .conftest import make_inputs


def test_schedule_is_increasing_and_subsets_start_at_T() -> None:
    s = Schedule.from_config(ScheduleConfig(steps=4))
    assert list(s.etas) == sorted(s.etas)
    assert s.etas[0] == pytest.approx(0.02) and s.etas[-1] == pytest.approx(0.98)
    assert s.timesteps(4) == [4, 3, 2, 1]
    assert s.timesteps(2) == [4, 1]
    assert s.timesteps(1) == [4]
    a, b, std = s.posterior(4, 0)
    assert (a, b, std) == (0.0, 1.0, 0.0)
    a, b, std = s.posterior(3, 2)
    assert 0 < a < 1 and a + b == pytest.approx(1.0) and std > 0
    with pytest.raises(ValueError):
        s.timesteps(5)


def test_q_sample_endpoints() -> None:
    x0, y = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    noise = torch.zeros_like(x0)
    assert torch.equal(q_sample(x0, y, torch.tensor([0.0]), 0.1, noise), x0)
    assert torch.allclose(q_sample(x0, y, torch.tensor([1.0]), 0.1, noise), y)


def test_embedding_is_fp32_and_encodes_stage() -> None:
    e1 = embed_timestep(0.5, 1, batch=3)
    e2 = embed_timestep(0.5, 2, batch=3)
    assert e1.shape == (3, 64) and e1.dtype == torch.float32
    assert not torch.equal(e1, e2)
    assert torch.equal(e1[:, :-2], e2[:, :-2])
    with pytest.raises(ValueError):
        embed_timestep(0.5, 3)


def test_loss_weights_defects() -> None:
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.zeros(1, 3, 4, 4)
    pred[..., 0, 0] = 1.0
    mask_on = torch.zeros(1, 1, 4, 4)
    mask_on[..., 0, 0] = 1.0
    assert restoration_loss(pred, target, mask_on) > restoration_loss(pred, target, None)


def _sample(model: HaineiFRDM, seed: int, steps: int) -> torch.Tensor:
    inp = make_inputs(model, batch=1, size=32)
    with torch.no_grad():
        tok = model.context(inp["thumb"])
        return sample_patch(model.denoiser, Schedule.from_config(), inp["window"], inp["guide"],
                            tok, inp["box"], steps=steps,
                            generator=torch.Generator().manual_seed(seed))


def test_sampler_is_deterministic_given_seed(tiny_model: HaineiFRDM) -> None:
    a = _sample(tiny_model, 3, 4)
    b = _sample(tiny_model, 3, 4)
    c = _sample(tiny_model, 4, 4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    for steps in (1, 2):
        assert _sample(tiny_model, 3, steps).shape == a.shape


def test_overfit_one_sample_cuts_loss_tenfold() -> None:
    torch.manual_seed(0)
    model = create_model("tiny").train()
    sched = Schedule.from_config()
    g = torch.Generator().manual_seed(1)
    inp = make_inputs(model, batch=1, size=16)
    clean = inp["guide"]
    degraded = clean.clone()
    degraded[..., 4:8, 4:10] = 1.0  # a bright dust blob
    degraded = degraded + 0.15 * torch.sin(torch.arange(16.0))[None, None, None, :]
    window = degraded.repeat(1, model.dims.window_frames, 1, 1)
    thumb = torch.nn.functional.interpolate(window, size=(128, 128), mode="area")
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    # one sample: fixed timestep (T) and fixed noise
    eta = torch.tensor([sched.eta(sched.steps)])
    x_t = q_sample(clean, degraded, eta, sched.kappa, torch.randn(clean.shape, generator=g))
    losses = []
    for _ in range(300):
        pred = model.denoiser(x_t, window, degraded, model.context(thumb), inp["box"][:1],
                              embed_timestep(eta, 2))
        loss = restoration_loss(pred, clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first = sum(losses[:5]) / 5
    last = sum(losses[-5:]) / 5
    assert last < first / 10, (first, last)
