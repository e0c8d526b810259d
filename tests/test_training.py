"""Training smoke test: a few steps of `tiny` on CPU; loss falls; checkpoints; resume."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from haineifrdm.cli.main import main
from haineifrdm.data.dataset import RestorationDataset
from haineifrdm.data.pack import Pack, PackConfig, build_pack
from haineifrdm.diffusion import Schedule
from haineifrdm.model import HaineiFRDM, load_model, save_model
from haineifrdm.training import TrainConfig, batch_embeddings, lr_at, train, training_step


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pack") / "p"
    build_pack(folder, PackConfig(clips=2, frames=5, height=48, width=64, speck_density=60.0),
               None)
    return folder


def _config(pack: Path, steps: int) -> TrainConfig:
    return TrainConfig(preset="tiny", pack=str(pack), patch=32, batch=4, steps=steps, warmup=2,
                       lr=3e-3, checkpoint_every=5, log_every=1, ema=0.9)


def _fixed_loss(model_path: Path, pack: Path) -> float:
    model = load_model(model_path)
    ds = RestorationDataset(Pack.open(pack), patch=32, length=16, seed=99)
    batch = torch.utils.data.default_collate([ds[i] for i in range(16)])
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        return float(training_step(model, batch, Schedule.from_config(), gen,
                                   torch.device("cpu")))


def test_loss_falls_checkpoint_round_trips_and_resume(tmp_path: Path, pack_dir: Path) -> None:
    out = tmp_path / "run"
    first = train(_config(pack_dir, 1), out)
    before = _fixed_loss(out / "raw.safetensors", pack_dir)
    result = train(_config(pack_dir, 40), tmp_path / "run2")
    assert result["step"] == 40 and result["stopped"] == "steps"
    after = _fixed_loss(tmp_path / "run2" / "raw.safetensors", pack_dir)
    assert after < before, (before, after)
    assert first["step"] == 1
    # checkpoint round trip: the EMA file loads into an identical network
    ema = load_model(tmp_path / "run2" / "last.safetensors")
    again = load_model(tmp_path / "run2" / "last.safetensors")
    for a, b in zip(ema.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # resume continues from the saved step
    cfg_file = tmp_path / "tiny.toml"
    cfg_file.write_text(f'[model]\npreset = "tiny"\n[data]\npack = "{pack_dir}"\npatch = 32\n'
                        "[optim]\nsteps = 8\nbatch = 4\nwarmup = 2\n"
                        "[run]\ncheckpoint_every = 4\nlog_every = 1\n")
    assert main(["train", "--config", str(cfg_file), "--out", str(tmp_path / "r3"),
                 "--minutes", "0.0001"]) == 0  # the time budget stops it after one step
    stopped = json.loads((tmp_path / "r3" / "metrics.jsonl").read_text().splitlines()[-1])["step"]
    assert 1 <= stopped < 8
    assert main(["train", "--config", str(cfg_file), "--out", str(tmp_path / "r3"),
                 "--resume"]) == 0
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "r3" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[optim]\nlearning_rate = 1\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "unknown settings ['learning_rate']" in capsys.readouterr().err


def test_time_budget_anneals_the_learning_rate() -> None:
    cfg = TrainConfig(lr=1e-3, warmup=10, steps=10_000)
    assert lr_at(5, cfg) == pytest.approx(6e-4)  # warm-up
    assert lr_at(100, cfg) == pytest.approx(1e-3, rel=1e-3)  # step schedule barely begun
    # the budget is half spent: the cosine is half way whatever the step count says
    assert lr_at(100, cfg, time_frac=0.5) == pytest.approx(1e-3 * (0.05 + 0.95 * 0.5), rel=1e-3)
    assert lr_at(100, cfg, time_frac=1.0) == pytest.approx(5e-5)  # ends at 5 % of the peak


def test_init_starts_from_given_weights_and_refuses_another_preset(tmp_path: Path,
                                                                     pack_dir: Path) -> None:
    train(_config(pack_dir, 3), tmp_path / "a")
    start = load_model(tmp_path / "a" / "last.safetensors")
    cfg = _config(pack_dir, 1)
    cfg.lr = 1e-9  # one step that cannot move the weights: the result is the start point
    cfg.warmup = 1
    train(cfg, tmp_path / "b", init=tmp_path / "a" / "last.safetensors")
    tuned = load_model(tmp_path / "b" / "raw.safetensors")
    for a, b in zip(start.state_dict().values(), tuned.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    # fine-tuning may switch the window to motion-compensated and the output to
    # keep_clean; the result says so
    cfg.register_frames = cfg.keep_clean = True
    train(cfg, tmp_path / "r", init=tmp_path / "a" / "last.safetensors")
    moved = load_model(tmp_path / "r" / "last.safetensors")
    assert moved.config.register_frames and moved.dims.register_frames
    assert moved.config.keep_clean
    assert not start.config.register_frames
    # a shipped, calibrated model (keep_clean on, its own matte_seed and fill mode) trains
    # ungated, with the learned selection
    shipped = HaineiFRDM(replace(moved.config, matte_seed=0.95, fill="spatial",
                                 matte_ramp=(0.1, 0.3)))
    shipped.load_state_dict(moved.state_dict())
    save_model(shipped, tmp_path / "shipped.safetensors")
    cfg.keep_clean = False
    train(cfg, tmp_path / "s", init=tmp_path / "shipped.safetensors")
    ungated = load_model(tmp_path / "s" / "last.safetensors").config
    assert not ungated.keep_clean and ungated.matte_seed == 0.9  # the calibration resets
    assert ungated.fill == "select" and ungated.matte_ramp == (0.1, 0.5)
    small = TrainConfig(preset="small", pack=str(pack_dir), patch=32, batch=2, steps=1)
    with pytest.raises(ValueError, match="another config"):
        train(small, tmp_path / "c", init=tmp_path / "a" / "last.safetensors")


def test_matte_learns_to_separate_defect_pixels(tmp_path: Path, pack_dir: Path) -> None:
    """The defect matte is supervised directly: after a short run it is clearly higher on
    damaged pixels than on clean ones."""
    cfg = _config(pack_dir, 60)
    train(cfg, tmp_path / "m")
    model = load_model(tmp_path / "m" / "raw.safetensors")
    ds = RestorationDataset(Pack.open(pack_dir), patch=32, stage1_prob=0.0, length=16, seed=5)
    batch = torch.utils.data.default_collate([ds[i] for i in range(16)])
    b = batch["window"].shape[0]
    with torch.no_grad():
        tokens = model.context(batch["thumb"])
        _, logit = model.denoiser_net.forward_parts(
            batch["guide"], batch["window"], batch["guide"], tokens, batch["box"],
            batch_embeddings(torch.full((b,), 0.5), batch["stage"]))
    m, damaged = torch.sigmoid(logit), batch["mask"] > 0.05
    assert damaged.any() and (~damaged).any()
    # (the session-2 design gave the same mean on both sides)
    assert m[damaged].mean() > m[~damaged].mean() + 0.1, (m[damaged].mean(), m[~damaged].mean())
