"""Residual-shifting (ResShift-style) schedule: config in, numbers out.

Forward process for a clean image x0 and a base image y (the guide):

    x_t = x0 + eta_t * (y - x0) + kappa * sqrt(eta_t) * eps,   eps ~ N(0, I)

eta increases from eta_1 (close to 0) to eta_T (close to 1), so the chain
starts at the guide plus a little noise and moves toward the clean image. The
network predicts x0. A sampler visits a decreasing subset of the trained steps
(always starting at T), so weights trained for T = 4 work at 1, 2 or 4 steps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ScheduleConfig:
    steps: int = 4  # T, the trained number of steps
    eta_min: float = 0.02  # eta_1
    eta_max: float = 0.98  # eta_T
    power: float = 0.6  # shape of the geometric progression of sqrt(eta)
    kappa: float = 0.08  # noise scale (image units, [0, 1] range)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Schedule:
    config: ScheduleConfig
    etas: tuple[float, ...]  # eta_1 .. eta_T

    @classmethod
    def from_config(cls, cfg: ScheduleConfig | None = None) -> Schedule:
        cfg = cfg or ScheduleConfig()
        if cfg.steps < 1:
            raise ValueError(f"steps must be >= 1, got {cfg.steps}")
        if not 0.0 < cfg.eta_min <= cfg.eta_max < 1.0 + 1e-9:
            raise ValueError("need 0 < eta_min <= eta_max <= 1")
        if cfg.steps == 1:
            return cls(cfg, (cfg.eta_max,))
        # sqrt(eta_t) = sqrt(eta_1) * b^(beta_t), beta_t = ((t-1)/(T-1))^p * (T-1)
        lo, hi = math.sqrt(cfg.eta_min), math.sqrt(cfg.eta_max)
        etas = []
        for t in range(1, cfg.steps + 1):
            frac = ((t - 1) / (cfg.steps - 1)) ** cfg.power
            etas.append((lo * (hi / lo) ** frac) ** 2)
        return cls(cfg, tuple(etas))

    @property
    def steps(self) -> int:
        return self.config.steps

    @property
    def kappa(self) -> float:
        return self.config.kappa

    def eta(self, t: int) -> float:
        """eta_t for t in 1..T; eta_0 = 0."""
        if t == 0:
            return 0.0
        if not 1 <= t <= self.steps:
            raise ValueError(f"timestep {t} outside 1..{self.steps}")
        return self.etas[t - 1]

    def timesteps(self, n: int) -> list[int]:
        """The decreasing trained timesteps a sampler with n steps visits (starts at T)."""
        if not 1 <= n <= self.steps:
            raise ValueError(f"steps must be in 1..{self.steps}, got {n}")
        if n == 1:
            return [self.steps]
        picks = {round(self.steps - i * (self.steps - 1) / (n - 1)) for i in range(n)}
        return sorted(picks, reverse=True)

    def posterior(self, t: int, s: int) -> tuple[float, float, float]:
        """q(x_s | x_t, x0) for s < t: (coef on x_t, coef on x0, std).

        mean = (eta_s/eta_t) x_t + (1 - eta_s/eta_t) x0,
        var  = kappa^2 * eta_s * (eta_t - eta_s) / eta_t.
        """
        if not 0 <= s < t:
            raise ValueError(f"need 0 <= s < t, got s={s}, t={t}")
        et, es = self.eta(t), self.eta(s)
        ratio = es / et
        std = self.kappa * math.sqrt(max(es * (et - es) / et, 0.0))
        return ratio, 1.0 - ratio, std

    def to_dict(self) -> dict[str, Any]:
        return {**self.config.to_dict(), "etas": list(self.etas)}
