"""Learning-rate schedules: the `scheduler` config group (conf/scheduler/), written from scratch.

A schedule sets the optimizer's lr (every parameter group's) before each epoch
(`interval: epoch`) or before each step (`interval: batch`); t counts those, from 0 (the first
uses optimizer.lr, the base rate). The rates, with T = t_max (the run's length by default):

    none          lr_t = lr
    step          lr_t = lr * gamma^floor(t / step_size)
    multistep     lr_t = lr * gamma^(number of milestones <= t)
    exponential   lr_t = lr * gamma^t
    cosine        lr_t = eta_min + (lr - eta_min) (1 + cos(pi t / T)) / 2
    warmup_cosine from lr * start_factor up to lr in a straight line over `warmup` (by default
                  a tenth of T, at least 1), then cosine from lr to eta_min over T - warmup
    invscaling    lr_t = lr / (t + 1)^power_t    (scikit-learn's SGDRegressor, eta0 = lr)

torch.optim.lr_scheduler computes step, multistep, exponential, cosine and the linear warmup
not from these closed forms but from the previous rate (lr_t = lr_{t-1} * gamma, ...), which
differs from them in the last bits. The schedules here use torch's very recurrences, so that
they give bit-identical rates to StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR and
SequentialLR(LinearLR, CosineAnnealingLR) (tests/test_schedules.py, which also checks them
against the closed forms). Like torch's, cosine past T climbs back up (a period of 2T).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from linreg.errors import ConfigError

# ---- the schemas of conf/scheduler/*.yaml ----


@dataclass
class SchedulerConfig:
    name: str = "none"
    # epoch: the rate changes between epochs; batch: between steps (t counts steps)
    interval: str = field(default="epoch", metadata={"one_of": ("epoch", "batch")})


@dataclass
class StepConfig(SchedulerConfig):
    name: str = "step"
    step_size: int = field(default=10, metadata={"ge": 1})
    gamma: float = field(default=0.5, metadata={"gt": 0})


@dataclass
class MultiStepConfig(SchedulerConfig):
    name: str = "multistep"
    milestones: list[int] = field(default_factory=lambda: [20, 35])
    gamma: float = field(default=0.1, metadata={"gt": 0})


@dataclass
class ExponentialConfig(SchedulerConfig):
    name: str = "exponential"
    gamma: float = field(default=0.95, metadata={"gt": 0})


@dataclass
class CosineConfig(SchedulerConfig):
    name: str = "cosine"
    t_max: int | None = field(default=None, metadata={"ge": 1})  # None: the run's length
    eta_min: float = field(default=0.0, metadata={"ge": 0})


@dataclass
class WarmupCosineConfig(CosineConfig):
    name: str = "warmup_cosine"
    warmup: int | None = field(default=None, metadata={"ge": 1})  # None: warmup_fraction's
    warmup_fraction: float = field(default=0.1, metadata={"gt": 0, "lt": 1})  # of t_max
    start_factor: float = field(default=0.1, metadata={"gt": 0, "le": 1})


@dataclass
class InvScalingConfig(SchedulerConfig):
    name: str = "invscaling"
    power_t: float = field(default=0.25, metadata={"ge": 0})  # scikit-learn's default


# ---- the schedules ----


class Schedule:
    """Sets every parameter group's lr to next_lr(t, previous rate) at each `advance`."""

    def __init__(self, optimizer, per_batch: bool) -> None:
        self.optimizer, self.per_batch = optimizer, per_batch
        self.base_lr = self.lr = optimizer.param_groups[0]["lr"]
        self.t = 0

    def advance(self) -> None:
        self.t += 1
        self.lr = self.next_lr(self.t, self.lr)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr

    # train() calls these two: before each epoch and before each step
    def before_epoch(self, epoch: int) -> None:
        if not self.per_batch and epoch > 0:
            self.advance()

    def before_step(self, step: int) -> None:
        if self.per_batch and step > 0:
            self.advance()

    def next_lr(self, t: int, lr: float) -> float:
        raise NotImplementedError


class Step(Schedule):
    def __init__(self, optimizer, per_batch: bool, step_size: int, gamma: float) -> None:
        super().__init__(optimizer, per_batch)
        self.step_size, self.gamma = step_size, gamma

    def next_lr(self, t: int, lr: float) -> float:
        return lr * self.gamma if t % self.step_size == 0 else lr


class MultiStep(Schedule):
    def __init__(self, optimizer, per_batch: bool, milestones: list[int], gamma: float) -> None:
        super().__init__(optimizer, per_batch)
        self.milestones, self.gamma = Counter(milestones), gamma

    def next_lr(self, t: int, lr: float) -> float:
        return lr * self.gamma ** self.milestones[t] if t in self.milestones else lr


class Exponential(Schedule):
    def __init__(self, optimizer, per_batch: bool, gamma: float) -> None:
        super().__init__(optimizer, per_batch)
        self.gamma = gamma

    def next_lr(self, t: int, lr: float) -> float:
        return lr * self.gamma


def cosine_next(t: int, lr: float, base_lr: float, eta_min: float, t_max: int) -> float:
    """CosineAnnealingLR's recurrence: the closed form's ratio of 1 + cos at t and t - 1
    applied to lr - eta_min (at the bottom of each period, where that ratio is 0/0, a step
    up by the closed form's difference instead)."""
    if (t - 1 - t_max) % (2 * t_max) == 0:
        return lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
    return ((1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
            * (lr - eta_min) + eta_min)


class Cosine(Schedule):
    def __init__(self, optimizer, per_batch: bool, t_max: int, eta_min: float) -> None:
        super().__init__(optimizer, per_batch)
        self.t_max, self.eta_min = t_max, eta_min

    def next_lr(self, t: int, lr: float) -> float:
        return cosine_next(t, lr, self.base_lr, self.eta_min, self.t_max)


class WarmupCosine(Schedule):
    """LinearLR's recurrence for the warmup, then cosine (SequentialLR starts the cosine
    afresh, from its closed form at 0, at t = warmup)."""

    def __init__(self, optimizer, per_batch: bool, warmup: int, start_factor: float,
                 t_max: int, eta_min: float) -> None:
        super().__init__(optimizer, per_batch)
        self.warmup, self.start_factor = warmup, start_factor
        self.t_max, self.eta_min = t_max - warmup, eta_min
        self.lr = self.base_lr * start_factor
        for group in optimizer.param_groups:
            group["lr"] = self.lr

    def next_lr(self, t: int, lr: float) -> float:
        if t < self.warmup:
            rise = 1.0 - self.start_factor
            return lr * (1.0 + rise / (self.warmup * self.start_factor + (t - 1) * rise))
        if t == self.warmup:
            return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(0.0)) / 2
        return cosine_next(t - self.warmup, lr, self.base_lr, self.eta_min, self.t_max)


class InvScaling(Schedule):
    def __init__(self, optimizer, per_batch: bool, power_t: float) -> None:
        super().__init__(optimizer, per_batch)
        self.power_t = power_t

    def next_lr(self, t: int, lr: float) -> float:
        return self.base_lr / math.pow(t + 1, self.power_t)


SCHEMAS = {"none": SchedulerConfig, "step": StepConfig, "multistep": MultiStepConfig,
           "exponential": ExponentialConfig, "cosine": CosineConfig,
           "warmup_cosine": WarmupCosineConfig, "invscaling": InvScalingConfig}
_CLASSES = {"step": Step, "multistep": MultiStep, "exponential": Exponential,
            "cosine": Cosine, "warmup_cosine": WarmupCosine, "invscaling": InvScaling}


def check(cfg: SchedulerConfig, intervals: int | None) -> None:
    """What the schema cannot say, for a run of `intervals` epochs or steps (None: not yet
    known, the steps of a run whose data are not loaded)."""
    if cfg.name == "multistep" and any(m < 1 for m in cfg.milestones):
        raise ConfigError(f"scheduler.milestones: must all be >= 1, got {cfg.milestones}")
    horizon = getattr(cfg, "t_max", None) or intervals
    if cfg.name == "warmup_cosine" and horizon is not None and cfg.warmup is not None \
            and cfg.warmup >= horizon:
        raise ConfigError(f"scheduler.warmup: must be below t_max (the run's {intervals} "
                          f"{_unit(cfg)} by default), got {cfg.warmup}")


def _unit(cfg: SchedulerConfig) -> str:
    return "epochs" if cfg.interval == "epoch" else "steps"


def build(cfg: SchedulerConfig, optimizer, epochs: int, steps_per_epoch: int
          ) -> Schedule | None:
    """The schedule chosen by `cfg.name` over `optimizer`; None for `none`."""
    if cfg.name == "none":
        return None
    per_batch = cfg.interval == "batch"
    intervals = epochs * steps_per_epoch if per_batch else epochs
    check(cfg, intervals)
    settings = {k: v for k, v in vars(cfg).items() if k not in ("name", "interval")}
    if "t_max" in settings and settings["t_max"] is None:
        settings["t_max"] = intervals
    if cfg.name == "warmup_cosine":
        fraction = settings.pop("warmup_fraction")
        if settings["warmup"] is None:
            settings["warmup"] = max(1, round(fraction * settings["t_max"]))
        if settings["warmup"] >= settings["t_max"]:  # t_max 1: no room for a warmup
            raise ConfigError(f"scheduler: warmup_cosine needs t_max >= 2 {_unit(cfg)} "
                              f"to warm up and then decay, got {settings['t_max']}")
    return _CLASSES[cfg.name](optimizer, per_batch, **settings)
