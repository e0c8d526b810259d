"""Training loop: AdamW + EMA + cosine schedule with warm-up, checkpoints, resume.

Config is a TOML file (see ``configs/``); every section is optional::

    [model]  preset = "small"
    [data]   pack = "runs/pack-train"  patch = 128  stage1_prob = 0.25
    [optim]  lr = 1e-3  weight_decay = 1e-4  warmup = 100  steps = 2000  batch = 8
             grad_clip = 1.0  ema = 0.999  defect_weight = 4.0
    [run]    seed = 0  checkpoint_every = 100  log_every = 10

Output folder: ``last.safetensors`` (EMA weights, loadable by ``load_model``),
``raw.safetensors`` (live weights), ``state.pt`` (optimizer/step, tensors and
numbers only, loaded with ``weights_only=True``), ``metrics.jsonl``.
Runs unchanged on CPU or CUDA (bf16 autocast on CUDA).
"""

from __future__ import annotations

import copy
import json
import math
import signal
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from .data.dataset import RestorationDataset
from .data.pack import Pack
from .diffusion import Schedule, embed_timestep, q_sample, restoration_loss, sample_timesteps
from .model import HaineiFRDM, create_model, load_model, save_model
from .model.weights import load_grown


@dataclass
class TrainConfig:
    preset: str = "small"
    pack: str = "runs/pack-train"
    patch: int = 128
    radius: int = 2
    register_frames: bool = False
    median_candidate: bool = False
    keep_clean: bool = False
    stage1_prob: float = 0.25
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    steps: int = 2000
    batch: int = 8
    grad_clip: float = 1.0
    ema: float = 0.999
    defect_weight: float = 4.0
    seed: int = 0
    checkpoint_every: int = 100
    log_every: int = 10
    workers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: str | Path) -> TrainConfig:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read training config {path}: {exc}") from exc
        flat: dict[str, Any] = {}
        for section in raw.values():
            if isinstance(section, dict):
                flat.update(section)
        known = {k: v for k, v in flat.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(flat) - set(known))
        if unknown:
            raise ValueError(f"{path}: unknown settings {unknown}")
        return cls(**known)


#: Weight of the defect-matte BCE term beside the restoration loss.
MATTE_WEIGHT = 1.0


def lr_at(step: int, cfg: TrainConfig, time_frac: float = 0.0) -> float:
    """Linear warm-up then cosine decay to 5 % of the peak.

    ``time_frac`` (elapsed share of a time budget, 0..1) advances the decay when it is
    ahead of the step count, so a run cut by ``--minutes`` still ends annealed.
    """
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = min(max((step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1), time_frac), 1.0)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


def batch_embeddings(eta: torch.Tensor, stage: torch.Tensor) -> torch.Tensor:
    e1 = embed_timestep(eta, 1)
    e2 = embed_timestep(eta, 2)
    return torch.where((stage == 1)[:, None], e1, e2)


def training_step(model: HaineiFRDM, batch: dict[str, torch.Tensor], schedule: Schedule,
                  generator: torch.Generator, device: torch.device,
                  defect_weight: float = 4.0) -> torch.Tensor:
    """Loss of one batch (forward only; the caller steps the optimizer)."""
    b = batch["target"].shape[0]
    _, eta = sample_timesteps(schedule, b, generator)
    noise = torch.randn(batch["target"].shape, generator=generator)
    t_emb = batch_embeddings(eta, batch["stage"])
    to = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    x_t = q_sample(to["target"], to["guide"], eta.to(device), schedule.kappa, noise.to(device))
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        tokens = model.context(to["thumb"]).float()  # the contract's dtype; autocast casts
        args = (x_t, to["window"], to["guide"], tokens, to["box"], t_emb.to(device))
        model.check_denoiser_inputs(*args)
        pred, matte_logit = model.denoiser_net.forward_parts(*args)
    # the defect matte is supervised directly by the pack's masks
    # (binary: any damage is replaced whole; a soft target would teach partial fills)
    matte_loss = F.binary_cross_entropy_with_logits(matte_logit.float(),
                                                    (to["mask"] > 0).float())
    return restoration_loss(pred.float(), to["target"], to["mask"], defect_weight) + \
        MATTE_WEIGHT * matte_loss


class Progress:
    """One status line on stderr: step, loss, it/s, ETA."""

    def __init__(self, total: int, start: int, deadline: float | None) -> None:
        self.total, self.start, self.t0, self.deadline = total, start, time.time(), deadline

    def update(self, step: int, loss: float) -> None:
        done = step - self.start
        rate = done / max(time.time() - self.t0, 1e-6)
        eta = (self.total - step) / max(rate, 1e-9)
        if self.deadline is not None:
            eta = min(eta, max(self.deadline - time.time(), 0))
        bar = int(30 * step / self.total)
        sys.stderr.write(f"\r[{'#' * bar}{'.' * (30 - bar)}] {step}/{self.total} "
                         f"loss {loss:.4f}  {rate:.2f} it/s  ETA {eta / 60:.1f} min ")
        sys.stderr.flush()


def train(cfg: TrainConfig, out: str | Path, minutes: float | None = None, resume: bool = False,
          device: str | None = None, init: str | Path | None = None) -> dict[str, Any]:
    """Train until ``cfg.steps`` or the time budget; always leaves a loadable checkpoint.

    ``init``: start from these weights (a fresh schedule and optimizer: fine-tuning).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(cfg.seed)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed patch shapes: autotune once
    schedule = Schedule.from_config()
    pack = Pack.open(cfg.pack)
    model = create_model(cfg.preset, radius=cfg.radius, register_frames=cfg.register_frames,
                         median_candidate=cfg.median_candidate,
                         keep_clean=cfg.keep_clean).to(dev).train()
    if init is not None and not resume:
        start = load_model(init, dev)
        # fine-tuning may switch the window to motion-compensated, add the median
        # fill candidate and switch keep_clean; nothing else may differ (the gate's
        # matte_seed, matte_ramp and the fill mode are calibrations of the weights they
        # were chosen for: they reset, and training always trains the learned selection)
        if replace(start.config, register_frames=cfg.register_frames,
                   median_candidate=cfg.median_candidate, keep_clean=cfg.keep_clean,
                   matte_seed=model.config.matte_seed, fill=model.config.fill,
                   matte_ramp=model.config.matte_ramp) != model.config \
                or (start.config.median_candidate and not cfg.median_candidate):
            raise ValueError(f"{init} is a {start.config.preset} model with another config; "
                             f"the training config asks for {cfg.preset}")
        load_grown(model, start)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = 0
    state_path = out / "state.pt"
    if resume:
        if not state_path.is_file():
            raise ValueError(f"nothing to resume in {out} (no state.pt)")
        state = torch.load(state_path, map_location=dev, weights_only=True)
        model.load_state_dict(load_model(out / "raw.safetensors", dev).state_dict())
        ema.load_state_dict(load_model(out / "last.safetensors", dev).state_dict())
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
    data = RestorationDataset(pack, cfg.patch, cfg.radius, cfg.stage1_prob,
                              register_frames=cfg.register_frames,
                              length=cfg.steps * cfg.batch, seed=cfg.seed)
    # resume continues with exactly the samples it would have seen
    indices = list(range(step * cfg.batch, cfg.steps * cfg.batch))
    loader = DataLoader(torch.utils.data.Subset(data, indices), batch_size=cfg.batch,
                        num_workers=cfg.workers, shuffle=False, drop_last=True,
                        pin_memory=dev.type == "cuda")
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + step)
    t_start, losses = time.time(), []
    deadline = t_start + 60 * minutes if minutes else None
    progress = Progress(cfg.steps, step, deadline)
    log = (out / "metrics.jsonl").open("a")
    (out / "config.json").write_text(json.dumps(cfg.__dict__, indent=1))
    stopped = "steps"
    previous = _stop_on_signals()
    try:
        for batch in loader:
            time_frac = 0.0 if deadline is None else \
                (time.time() - t_start) / max(deadline - t_start, 1e-6)
            lr = lr_at(step, cfg, time_frac)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = training_step(model, batch, schedule, gen, dev, cfg.defect_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                    pe.lerp_(pm, 1 - cfg.ema)
            step += 1
            losses.append(loss.item())
            if step % cfg.log_every == 0 or step == cfg.steps:
                rec = {"step": step, "loss": sum(losses) / len(losses), "lr": lr,
                       "grad_norm": float(gnorm), "elapsed_s": time.time() - t_start}
                log.write(json.dumps(rec) + "\n")
                log.flush()
                progress.update(step, rec["loss"])
                losses = []
            if step % cfg.checkpoint_every == 0:
                _checkpoint(out, model, ema, opt, step)
            if deadline is not None and time.time() > deadline:
                stopped = "time budget"
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        _checkpoint(out, model, ema, opt, step)
        log.close()
        sys.stderr.write("\n")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {"step": step, "stopped": stopped, "out": str(out), "device": str(dev),
            "seconds": time.time() - t_start}


def _stop_on_signals() -> dict[int, Any]:
    """SIGINT and SIGTERM stop training cleanly (checkpoint saved), even in the background."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}


def _checkpoint(out: Path, model: HaineiFRDM, ema: HaineiFRDM, opt: torch.optim.Optimizer,
                step: int) -> None:
    meta = {"step": str(step)}
    save_model(model, out / "raw.safetensors", meta)
    save_model(ema, out / "last.safetensors", meta)
    tmp = out / "state.pt.tmp"
    torch.save({"step": step, "optimizer": opt.state_dict()}, tmp)
    tmp.replace(out / "state.pt")
