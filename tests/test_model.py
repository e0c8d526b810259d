"""The network: presets, contract shapes, patch-consistent norms, gradients, bad input."""

from __future__ import annotations

import copy
import inspect
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from haineifrdm.contract import context_graph, contract_spec, denoiser_graph
from haineifrdm.model import HaineiFRDM, count_parameters, create_model, load_model, save_model
from haineifrdm.model.denoiser import (
    GUIDE_SIGMA,
    MATCH_TAU,
    MATTE_BIAS,
    Denoiser,
    _hysteresis,
)
from haineifrdm.model.frequency import GlobalLocalFrequencyModule
from haineifrdm.model.fusion import FrameFusionModule
from haineifrdm.model.layers import GaussianBlur, RobustGlobalMatch, RobustLowpass
from haineifrdm.model.weights import load_grown

from .conftest import make_inputs

SIZES = {"tiny": (0, 300_000), "small": (1_000_000, 8_000_000), "base": (20_000_000, 40_000_000)}


def _resolve(shape: tuple[str | int, ...], env: dict[str, int]) -> tuple[int, ...]:
    return tuple(env[s] if isinstance(s, str) else s for s in shape)


@pytest.mark.parametrize("preset", ["tiny", "small", "base"])
def test_presets_shapes_dtypes_and_sizes(preset: str) -> None:
    torch.manual_seed(0)
    model = create_model(preset).eval()
    lo, hi = SIZES[preset]
    assert lo <= count_parameters(model) < hi
    inp = make_inputs(model, batch=2, size=32)
    with torch.no_grad():
        tokens = model.context(inp["thumb"])
        out = model.denoiser(inp["x_t"], inp["window"], inp["guide"], tokens, inp["box"],
                             inp["t_emb"])
    env = {"B": 2, "P": 32}
    d = model.dims
    assert tokens.shape == _resolve(context_graph(d).outputs[0].shape, env)
    assert out.shape == _resolve(denoiser_graph(d).outputs[0].shape, env)
    assert tokens.dtype == out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_required_modules_present(tiny_model: HaineiFRDM) -> None:
    kinds = {type(m) for m in tiny_model.modules()}
    assert FrameFusionModule in kinds
    assert GlobalLocalFrequencyModule in kinds
    assert any(type(m).__name__ == "TokenCrossAttention" for m in tiny_model.modules())


@pytest.mark.parametrize("preset", ["tiny", "small", "base"])
def test_no_spatial_statistics_normalisation(preset: str) -> None:
    banned = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm,
              nn.LocalResponseNorm)
    model = create_model(preset)
    for name, m in model.named_modules():
        assert not isinstance(m, banned), f"{name} normalises over space"
        if isinstance(m, nn.LayerNorm):  # only token-feature LayerNorms (last axis) are allowed
            assert name.startswith("context_net.mix"), name
            assert len(m.normalized_shape) == 1


def test_output_is_global_residual_form_and_batch_independent(tiny_model: HaineiFRDM) -> None:
    inp = make_inputs(tiny_model, batch=2, size=32)
    with torch.no_grad():
        tok = tiny_model.context(inp["thumb"])
        both = tiny_model.denoiser(inp["x_t"], inp["window"], inp["guide"], tok, inp["box"],
                                   inp["t_emb"])
        first = tiny_model.denoiser(inp["x_t"][:1], inp["window"][:1], inp["guide"][:1], tok[:1],
                                    inp["box"][:1], inp["t_emb"][:1])
    torch.testing.assert_close(both[:1], first, atol=1e-5, rtol=1e-5)
    # fresh: matte ~ sigmoid(MATTE_BIAS), inside the dead zone, everywhere, so the
    # output stays near base = centre + rlow(guide - centre)
    r = tiny_model.dims.radius
    centre = inp["window"][:, 3 * r : 3 * r + 3]
    base = centre + _rlow(tiny_model, inp["guide"] - centre)
    with torch.no_grad():
        _, logit = tiny_model.denoiser_net.forward_parts(
            inp["x_t"], inp["window"], inp["guide"], tok, inp["box"], inp["t_emb"])
    torch.testing.assert_close(logit, torch.full_like(logit, MATTE_BIAS), atol=0.05, rtol=0)
    assert (both - base).abs().max() < 0.1
    assert (both - centre).abs().max() > 0.05  # the guide really contributes


def _rlow(model: HaineiFRDM, d: torch.Tensor) -> torch.Tensor:
    """The denoiser's robust low-pass applied to one RGB difference image."""
    f = model.dims.radius * 2 + 1
    with torch.no_grad():
        return model.denoiser_net.match(d.repeat(1, f, 1, 1))[:, :3]


def _forced(model: HaineiFRDM, inp: dict[str, torch.Tensor], matte: float, pick: int
            ) -> torch.Tensor:
    """Output with the head forced to one matte logit and one fill candidate."""
    net = copy.deepcopy(model.denoiser_net)
    with torch.no_grad():
        for conv in (net.head, net.detector[-1]):
            conv.weight.zero_()
            conv.bias.zero_()
        net.head.bias[3] = matte
        net.head.bias[4 + pick] = 60.0
        tok = model.context(inp["thumb"])
        return net(inp["x_t"], inp["window"], inp["guide"], tok, inp["box"], inp["t_emb"])


def test_matte_composition_keeps_clean_pixels_and_fills_defects(tiny_model: HaineiFRDM) -> None:
    inp = make_inputs(tiny_model, batch=1, size=32)
    r = tiny_model.dims.radius
    window, guide = inp["window"], inp["guide"]
    centre = window[:, 3 * r : 3 * r + 3]
    base = centre + _rlow(tiny_model, guide - centre)
    # matte off: the output is base exactly (clean pixels keep their grain)
    torch.testing.assert_close(_forced(tiny_model, inp, -60.0, 0), base, atol=1e-6, rtol=0)
    # matte on, candidate 0: the oldest frame matched to the guide's low frequencies
    oldest = window[:, 0:3]
    torch.testing.assert_close(_forced(tiny_model, inp, 60.0, 0),
                               oldest + _rlow(tiny_model, guide - oldest), atol=1e-5, rtol=0)
    # matte on, last candidate: the guide itself (large blotches)
    last = tiny_model.denoiser_net.n_candidates - 1
    torch.testing.assert_close(_forced(tiny_model, inp, 60.0, last), guide, atol=1e-5, rtol=0)


def test_keep_clean_changes_only_pixels_beside_the_matte() -> None:
    model = HaineiFRDM(replace(create_model("tiny").config, keep_clean=True)).eval()
    changed = _changed_by_a_square(model, 60.0)  # a residual of 0.1 would move every pixel
    near = torch.zeros(32, 32, dtype=torch.bool)
    near[8:16, 18:26] = True  # the square widened by KEEP_CLEAN_RADIUS = 2
    assert changed[10:14, 20:24].all()
    assert not changed[~near].any()  # bit for bit the centre frame elsewhere


def _changed_by_a_square(model: HaineiFRDM, logit: float) -> torch.Tensor:
    """Pixels (bool [H, W]) a keep_clean model changes when its matte logit is -60
    everywhere except ``logit`` on one 4x4 square (the detector's output forced)."""
    got, centre = _square_output(model, logit)
    return (got != centre).any(dim=1)[0]


def _square_output(model: HaineiFRDM, logit: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(output, centre frame), [1, 3, 32, 32] each, in :func:`_changed_by_a_square`'s
    setting."""
    torch.manual_seed(0)
    inp = make_inputs(model, batch=1, size=32)
    r = model.dims.radius
    net = copy.deepcopy(model.denoiser_net)
    with torch.no_grad():
        for conv in (net.head, net.detector[-1]):
            conv.weight.zero_()
            conv.bias.zero_()
        net.head.bias[:3] = 0.1
        net.head.bias[3] = -60.0
        net.head.bias[4] = 60.0

    def square(_m: nn.Module, _i: object, out: torch.Tensor) -> torch.Tensor:
        out = out.clone()
        out[:, 0, 10:14, 20:24] = 60.0 + logit  # on top of the head's -60
        return out

    net.detector.register_forward_hook(square)
    with torch.no_grad():
        tok = model.context(inp["thumb"])
        got = net(inp["x_t"], inp["window"], inp["guide"], tok, inp["box"], inp["t_emb"])
    return got, inp["window"][:, 3 * r : 3 * r + 3]


def test_matte_seed_is_a_calibration_carried_by_the_weights(tmp_path) -> None:
    base = replace(create_model("tiny").config, keep_clean=True)
    logit = 2.5  # matte probability 0.924
    kept = _changed_by_a_square(HaineiFRDM(base).eval(), logit)  # default seed 0.9
    assert base.matte_seed == 0.9 and kept[10:14, 20:24].all()
    strict = HaineiFRDM(replace(base, matte_seed=0.95)).eval()
    assert not _changed_by_a_square(strict, logit).any()  # no seed: the input, bit for bit
    save_model(strict, tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").config.matte_seed == 0.95
    # files written before the fields existed keep the calibration they were chosen with
    old = {k: v for k, v in base.to_dict().items()
           if k not in ("matte_seed", "matte_ramp", "fill")}
    assert type(base).from_dict(old) == base


def test_matte_ramp_is_a_calibration_carried_by_the_weights(tmp_path) -> None:
    base = replace(create_model("tiny").config, keep_clean=True, matte_seed=0.5)
    logit = -1.1  # matte probability 0.25: inside the default ramp (0.1, 0.5), so a blend
    soft = _changed_by_a_square(HaineiFRDM(base).eval(), logit)
    assert base.matte_ramp == (0.1, 0.5) and not soft.any()  # below the seed: no region
    low_seed = replace(base, matte_seed=0.2)
    sure, _ = _square_output(HaineiFRDM(low_seed).eval(), 5.0)  # p 0.993: the fill whole
    blend, centre = _square_output(HaineiFRDM(low_seed).eval(), logit)
    model = HaineiFRDM(replace(low_seed, matte_ramp=(0.1, 0.24))).eval()
    whole, _ = _square_output(model, logit)  # p 0.25 is above the top of this ramp
    sq = (..., slice(10, 14), slice(20, 24))
    torch.testing.assert_close(whole, sure, atol=1e-6, rtol=0)
    moved_blend = (blend[sq] - centre[sq]).abs().mean()
    assert 0 < moved_blend < 0.8 * (whole[sq] - centre[sq]).abs().mean()
    save_model(model, tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").config.matte_ramp == (0.1, 0.24)
    with pytest.raises(ValueError, match="matte_ramp"):
        HaineiFRDM(replace(base, matte_ramp=(0.5, 0.1)))


def test_calibrate_gate_script_sets_the_gate_and_keeps_the_weights(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_gate.py"
    src, dst = tmp_path / "raw.safetensors", tmp_path / "shipped.safetensors"
    save_model(create_model("tiny"), src, {"step": "7"})
    run = [sys.executable, str(script), str(src)]
    subprocess.run([*run, str(dst), "--keep-clean", "on", "--matte-seed", "0.95", "--fill",
                    "spatial", "--matte-ramp", "0.1", "0.3"], check=True, capture_output=True)
    a, b = load_model(src), load_model(dst)
    c = b.config
    assert (c.keep_clean, c.matte_seed, c.fill, c.matte_ramp) == (True, 0.95, "spatial", (0.1, 0.3))
    assert replace(c, keep_clean=False, matte_seed=0.9, fill="select", matte_ramp=(0.1, 0.5)
                   ) == a.config
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    from haineifrdm.model.weights import read_metadata
    assert read_metadata(dst)["step"] == "7"  # the training metadata travels
    before = src.read_bytes()
    same = subprocess.run([*run, str(src), "--matte-seed", "0.5"], capture_output=True,
                          text=True)
    assert same.returncode != 0 and "never overwritten" in same.stderr
    bad = subprocess.run([*run, str(tmp_path / "bad.safetensors"), "--matte-ramp", "0.5", "0.1"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "matte_ramp must be" in bad.stderr
    assert not (tmp_path / "bad.safetensors").exists()
    assert src.read_bytes() == before


def test_spatial_fill_mode_ignores_the_selection_and_adds_no_weights() -> None:
    torch.manual_seed(0)
    plain = create_model("tiny").eval()
    spatial = HaineiFRDM(replace(plain.config, fill="spatial")).eval()
    spatial.load_state_dict(plain.state_dict())  # the same weights, nothing more
    inp = make_inputs(plain, batch=1, size=32)
    pick_spatial = plain.denoiser_net.n_candidates - 2  # the others, spatial, guide
    want = _forced(plain, inp, 60.0, pick_spatial)
    for pick in (0, pick_spatial + 1):  # whatever the selection says: the spatial fill
        torch.testing.assert_close(_forced(spatial, inp, 60.0, pick), want, atol=1e-6, rtol=0)
    assert not torch.allclose(_forced(plain, inp, 60.0, 0), want, atol=1e-3)
    with pytest.raises(ValueError, match="fill must be one of"):
        HaineiFRDM(replace(plain.config, fill="median"))


def _fill_over(model: HaineiFRDM, inp: dict[str, torch.Tensor], rows: slice, cols: slice,
               pick: int) -> torch.Tensor:
    """The output with the matte on over [rows, cols] only and the fill choice forced to
    candidate ``pick``."""
    net = copy.deepcopy(model.denoiser_net)
    with torch.no_grad():
        for conv in (net.head, net.detector[-1]):
            conv.weight.zero_()
            conv.bias.zero_()
        net.head.bias[3] = -60.0
        net.head.bias[4 + pick] = 60.0

    def region(_m: nn.Module, _i: object, out: torch.Tensor) -> torch.Tensor:
        out = out.clone()
        out[:, 0, rows, cols] = 120.0  # on top of the head's -60
        return out

    net.detector.register_forward_hook(region)
    with torch.no_grad():
        tok = model.context(inp["thumb"])
        return net(inp["x_t"], inp["window"], inp["guide"], tok, inp["box"], inp["t_emb"])


def _square_fill(model: HaineiFRDM, window: torch.Tensor, guide: torch.Tensor, pick: int
                 ) -> torch.Tensor:
    """The output [1, 3, 32, 32] of ``window`` and ``guide`` with the matte on over
    [10:14, 20:24] only and the fill choice forced to candidate ``pick``."""
    inp = make_inputs(model, batch=1, size=32) | {"window": window, "guide": guide}
    return _fill_over(model, inp, slice(10, 14), slice(20, 24), pick)


def test_gated_fill_takes_the_other_frames_only_where_they_show_the_centre() -> None:
    torch.manual_seed(0)
    select = create_model("tiny").eval()
    gated = HaineiFRDM(replace(select.config, fill="gated")).eval()
    gated.load_state_dict(select.state_dict())  # the same weights, nothing more
    r = select.dims.radius
    f = 2 * r + 1
    spatial = select.denoiser_net.n_candidates - 2  # the others, spatial, guide
    clean = torch.rand(1, 3, 32, 32)
    moved = [torch.rand(1, 3, 32, 32) for _ in range(f)]  # other pictures: a fast pan
    sq = (..., slice(10, 14), slice(20, 24))
    centre = clean.clone()
    centre[sq] = 0.0  # a dark speck in the centre frame only
    # a still background: every frame shows the centre's picture; the choice stands
    still = torch.cat([*[clean] * r, centre, *[clean] * r], dim=1)
    torch.testing.assert_close(_square_fill(gated, still, clean, 0),
                               _square_fill(select, still, clean, 0), atol=1e-6, rtol=0)
    torch.testing.assert_close(_square_fill(gated, still, clean, 0)[sq], clean[sq], atol=1e-4,
                               rtol=0)
    # a pan: no other frame shows it; whatever the choice, the spatial fill
    pan = torch.cat([*moved[:r], centre, *moved[r + 1:]], dim=1)
    want = _square_fill(select, pan, clean, spatial)
    torch.testing.assert_close(_square_fill(gated, pan, clean, 0), want, atol=1e-5, rtol=0)
    assert (_square_fill(select, pan, clean, 0)[sq] - want[sq]).abs().mean() > 0.1
    # an object passed over the speck in the older frames: a choice of the oldest frame
    # goes to the newer ones, which show the background
    half = torch.cat([*moved[:r], centre, *[clean] * r], dim=1)
    torch.testing.assert_close(_square_fill(gated, half, clean, 0)[sq], clean[sq], atol=1e-4,
                               rtol=0)
    assert (_square_fill(select, half, clean, 0)[sq] - clean[sq]).abs().mean() > 0.1


def test_keep_clean_spatial_fill_reaches_the_middle_of_a_large_defect() -> None:
    torch.manual_seed(0)
    model = HaineiFRDM(replace(create_model("tiny").config, keep_clean=True)).eval()
    inp = make_inputs(model, batch=1, size=48)
    inp["window"] = torch.full_like(inp["window"], 0.6)
    inp["guide"] = torch.full_like(inp["guide"], 0.6)
    spatial = model.denoiser_net.n_candidates - 2  # the others, spatial, guide
    # a 24 px defect: 12 px from its edge to the middle
    got = _fill_over(model, inp, slice(12, 36), slice(12, 36), spatial)
    torch.testing.assert_close(got[..., 12:36, 12:36], torch.full_like(got[..., 12:36, 12:36],
                                                                       0.6), atol=3e-2, rtol=0)


def test_hysteresis_keeps_only_regions_holding_a_seed() -> None:
    allowed = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    allowed[..., 4:6, 2:60] = True  # a long faint scratch...
    allowed[..., 30:40, 30:40] = True  # ...and a faint blob with no strong pixel
    seeds = torch.zeros_like(allowed)
    seeds[..., 5, 3] = True  # one strong pixel at the scratch's end
    seeds[..., 50, 50] = True  # a strong pixel outside any region is no region
    kept = _hysteresis(seeds, allowed)
    assert kept.dtype == torch.float32 and kept.shape == allowed.shape
    assert bool((kept[..., 4:6, 2:60] == 1).all())  # grown 57 px along the scratch
    assert not kept[..., 30:40, 30:40].any() and not kept[..., 50, 50].any()
    assert not kept[~allowed].any()


def test_median_candidate_is_the_temporal_median_of_the_matched_frames() -> None:
    torch.manual_seed(0)
    plain = create_model("tiny").eval()
    model = HaineiFRDM(replace(plain.config, median_candidate=True)).eval()
    load_grown(model, plain)
    assert model.denoiser_net.n_candidates == plain.denoiser_net.n_candidates + 1
    head, old = model.denoiser_net.head, plain.denoiser_net.head
    torch.testing.assert_close(head.weight[: old.out_channels], old.weight)
    assert not head.weight[old.out_channels :].any() and not head.bias[old.out_channels :].any()
    inp = make_inputs(model, batch=1, size=32)
    window = inp["window"]
    # frames that differ by a flicker offset only: matched to the centre they agree,
    # except one frame's blotch, which the median leaves out
    base_frame = window[:, 6:9]
    frames = [base_frame + 0.05 * (k - 2) for k in range(5)]
    frames[2] = frames[2].clone()
    frames[2][..., 8:16, 8:16] += 0.4
    inp["window"] = torch.cat(frames, dim=1)
    got = _forced(model, inp, 60.0, model.denoiser_net.n_candidates - 1)
    torch.testing.assert_close(got[..., 8:16, 8:16], base_frame[..., 8:16, 8:16], atol=2e-3,
                               rtol=0)
    with pytest.raises(ValueError, match="cannot fine-tune"):
        load_grown(plain, model)  # fewer candidates: not a growth


def test_gaussian_blur_keeps_constants_and_mean() -> None:
    blur = GaussianBlur(2.0)
    flat = torch.full((1, 3, 16, 20), 0.37)
    torch.testing.assert_close(blur(flat), flat)
    x = torch.rand(2, 3, 64, 64)
    y = blur(x)
    assert y.shape == x.shape
    assert y.std() < 0.5 * x.std()  # noise is smoothed
    torch.testing.assert_close(y.mean(), x.mean(), atol=5e-3, rtol=0)


def test_robust_lowpass_keeps_defects_from_bleeding() -> None:
    # a flicker-like offset of 0.05 everywhere plus one bright 6x6 defect
    d = torch.full((1, 3, 48, 48), 0.05)
    d[:, :, 20:26, 20:26] = 0.8
    plain = GaussianBlur(GUIDE_SIGMA)(d)
    robust = RobustLowpass(GUIDE_SIGMA, 1, MATCH_TAU, 2)(d)
    near = (slice(None), slice(None), slice(16, 30), slice(28, 31))  # 2-4 px beside it
    assert (plain[near] - 0.05).abs().max() > 0.05  # a plain low-pass smears the defect
    assert (robust[near] - 0.05).abs().max() < 0.01  # the robust one keeps the offset
    flat = torch.full((2, 6, 20, 24), 0.3)  # constants pass unchanged, per frame
    torch.testing.assert_close(RobustLowpass(GUIDE_SIGMA, 2, MATCH_TAU, 2)(flat), flat)


def test_global_match_fits_flicker_and_leaves_blotches_visible() -> None:
    torch.manual_seed(0)
    clean = torch.rand(1, 3, 64, 64)
    centre = clean.clone()
    centre[:, :, 10:40, 10:40] += 0.25  # a blotch over 22 % of the patch
    frames = torch.cat([clean * 1.05 + 0.02, centre, clean * 0.97 - 0.01], dim=1)  # flicker
    aligned = RobustGlobalMatch(3, MATCH_TAU, 4)(centre, frames)
    for k in (0, 2):  # the neighbours' gain and offset now match the centre's clean part
        err = (aligned[:, 3 * k : 3 * k + 3, 45:, 45:] - clean[:, :, 45:, 45:]).abs().max()
        assert err < 0.01
    torch.testing.assert_close(aligned[:, 3:6], centre, atol=1e-4, rtol=0)
    assert (centre - aligned[:, :3])[:, :, 15:35, 15:35].mean() > 0.2  # still stands out


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    model = create_model("tiny").train()
    inp = make_inputs(model, batch=2, size=32)
    tok = model.context(inp["thumb"])
    out, logit = model.denoiser_net.forward_parts(inp["x_t"], inp["window"], inp["guide"], tok,
                                                  inp["box"], inp["t_emb"])
    # the training loss: restoration + the matte's BCE (the matte is detached in the output)
    target = (inp["guide"].flip(-1).mean(1, keepdim=True) > 0.5).float()
    loss = (out - inp["guide"].flip(-1)).square().mean()
    (loss + F.binary_cross_entropy_with_logits(logit, target)).backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not dead, f"no gradient reaches: {dead}"


def test_contract_matches_forward_signature(tiny_model: HaineiFRDM) -> None:
    d = tiny_model.dims
    params = list(inspect.signature(Denoiser.forward).parameters)[1:]
    assert params == denoiser_graph(d).input_names()
    assert list(inspect.signature(HaineiFRDM.denoiser).parameters)[1:] == params
    assert list(inspect.signature(HaineiFRDM.context).parameters)[1:] == \
        context_graph(d).input_names()
    spec = contract_spec(d)
    assert spec["graphs"]["denoiser"]["inputs"][1]["shape"][1] == 3 * (2 * d.radius + 1)
    inp = make_inputs(tiny_model, batch=1, size=16)
    env = {"B": 1, "P": 16}
    for t in denoiser_graph(d).inputs:
        if t.name == "tokens":
            continue
        assert tuple(inp[t.name].shape) == _resolve(t.shape, env), t.name


def _call(model: HaineiFRDM, **changes: torch.Tensor) -> None:
    inp = make_inputs(model, batch=2, size=32)
    with torch.no_grad():
        tok = model.context(inp["thumb"])
    args = {"x_t": inp["x_t"], "window": inp["window"], "guide": inp["guide"], "tokens": tok,
            "box": inp["box"], "t_emb": inp["t_emb"]}
    args.update(changes)
    model.denoiser(**args)


def test_bad_input_raises_clear_value_error(tiny_model: HaineiFRDM) -> None:
    with pytest.raises(ValueError, match="window must have 15 channels"):
        _call(tiny_model, window=torch.rand(2, 9, 32, 32))
    with pytest.raises(ValueError, match="guide must have 3 channels"):
        _call(tiny_model, guide=torch.rand(2, 4, 32, 32))
    with pytest.raises(ValueError, match=r"window is .* but x_t is"):
        _call(tiny_model, window=torch.rand(2, 15, 16, 16))
    with pytest.raises(ValueError, match=r"guide is .* but x_t is"):
        _call(tiny_model, guide=torch.rand(2, 3, 32, 16))
    with pytest.raises(ValueError, match="floating point"):
        _call(tiny_model, x_t=torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="share one dtype"):
        _call(tiny_model, guide=torch.rand(2, 3, 32, 32, dtype=torch.float64))
    with pytest.raises(ValueError, match="multiple of"):
        _call(tiny_model, x_t=torch.rand(2, 3, 30, 30), window=torch.rand(2, 15, 30, 30),
              guide=torch.rand(2, 3, 30, 30))
    with pytest.raises(ValueError, match="thumb must be"):
        tiny_model.context(torch.rand(1, 3, 128, 128))
    with pytest.raises(ValueError, match="unknown preset"):
        create_model("huge")


def test_weights_round_trip(tmp_path, tiny_model: HaineiFRDM) -> None:
    path = tmp_path / "m.safetensors"
    save_model(tiny_model, path)
    loaded = load_model(path)
    inp = make_inputs(tiny_model, batch=1, size=16)
    with torch.no_grad():
        a = tiny_model.context(inp["thumb"])
        b = loaded.context(inp["thumb"])
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_model(bad)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.safetensors")
