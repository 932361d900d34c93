"""The learning-rate schedules (linreg/optim/schedules.py): the same rate at every step as
torch.optim.lr_scheduler's (bit-identical), close to the closed forms, and applied by training
before each epoch or each step."""

from __future__ import annotations

import io
import math
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as torch_lr

from linreg.api import run
from linreg.config import validate
from linreg.errors import ConfigError
from linreg.optim import schedules

BASE = 0.1


def sgd() -> torch.optim.SGD:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=BASE)


def rates(schedule_or_torch, opt, n: int, ours: bool) -> list[float]:
    """The lr at t = 0 .. n-1, as the optimizer's param_groups hold it."""
    found = [opt.param_groups[0]["lr"]]
    for _ in range(n - 1):
        if ours:
            schedule_or_torch.advance()
        else:
            schedule_or_torch.step()
        found.append(opt.param_groups[0]["lr"])
    return found


def warmup_cosine_torch(opt, warmup, start_factor, t_max, eta_min):
    return torch_lr.SequentialLR(opt, [torch_lr.LinearLR(opt, start_factor, 1.0, warmup),
                                       torch_lr.CosineAnnealingLR(opt, t_max - warmup, eta_min)],
                                 milestones=[warmup])


CASES = [  # (ours, torch's, closed form of t)
    (lambda o: schedules.Step(o, False, 7, 0.5), lambda o: torch_lr.StepLR(o, 7, 0.5),
     lambda t: BASE * 0.5 ** (t // 7)),
    (lambda o: schedules.Step(o, False, 1, 0.9), lambda o: torch_lr.StepLR(o, 1, 0.9),
     lambda t: BASE * 0.9 ** t),
    (lambda o: schedules.MultiStep(o, False, [10, 30, 30, 77], 0.3),
     lambda o: torch_lr.MultiStepLR(o, [10, 30, 30, 77], 0.3),
     lambda t: BASE * 0.3 ** sum(m <= t for m in [10, 30, 30, 77])),
    (lambda o: schedules.Exponential(o, False, 0.97), lambda o: torch_lr.ExponentialLR(o, 0.97),
     lambda t: BASE * 0.97 ** t),
    (lambda o: schedules.Cosine(o, False, 50, 0.0),
     lambda o: torch_lr.CosineAnnealingLR(o, 50, 0.0),
     lambda t: BASE * (1 + math.cos(math.pi * t / 50)) / 2),
    (lambda o: schedules.Cosine(o, False, 7, 0.003),  # past t_max: back up, period 14
     lambda o: torch_lr.CosineAnnealingLR(o, 7, 0.003),
     lambda t: 0.003 + (BASE - 0.003) * (1 + math.cos(math.pi * t / 7)) / 2),
    (lambda o: schedules.Cosine(o, False, 1, 0.0), lambda o: torch_lr.CosineAnnealingLR(o, 1),
     lambda t: BASE * (1 + math.cos(math.pi * t)) / 2),
    (lambda o: schedules.WarmupCosine(o, False, 5, 0.1, 50, 0.0),
     lambda o: warmup_cosine_torch(o, 5, 0.1, 50, 0.0),
     lambda t: (BASE * (0.1 + 0.9 * t / 5) if t < 5
                else BASE * (1 + math.cos(math.pi * (t - 5) / 45)) / 2)),
    (lambda o: schedules.WarmupCosine(o, False, 30, 0.01, 300, 0.001),
     lambda o: warmup_cosine_torch(o, 30, 0.01, 300, 0.001),
     lambda t: (BASE * (0.01 + 0.99 * t / 30) if t < 30
                else 0.001 + (BASE - 0.001) * (1 + math.cos(math.pi * (t - 30) / 270)) / 2)),
]
NAMES = ["step", "step_every_1", "multistep", "exponential", "cosine", "cosine_past_t_max",
         "cosine_t_max_1", "warmup_cosine", "warmup_cosine_long"]


@pytest.mark.parametrize(("ours", "theirs", "closed"), CASES, ids=NAMES)
def test_same_rate_as_torch_at_every_step(ours, theirs, closed):
    n = 300
    opt1, opt2 = sgd(), sgd()
    mine = rates(ours(opt1), opt1, n, ours=True)
    with warnings.catch_warnings():  # any of torch's deprecation notices
        warnings.simplefilter("ignore")
        torch_rates = rates(theirs(opt2), opt2, n, ours=False)
    assert mine == torch_rates  # bit for bit
    assert len(set(mine)) > 1  # the rate changed
    # torch's recurrences are the closed forms up to rounding: within 1e-12 of the base rate
    for t, lr in enumerate(mine):
        assert abs(lr - closed(t)) <= 1e-12 * BASE, t


def test_invscaling_is_scikit_learns():
    opt = sgd()
    found = rates(schedules.InvScaling(opt, False, 0.25), opt, 100, ours=True)
    # scikit-learn's _sgd_fast: eta = eta0 / pow(t, power_t), t = 1 at the first update
    assert found == [BASE / math.pow(t, 0.25) for t in range(1, 101)]


def one_run(*overrides: str):
    return run("train.epochs=12", "optimizer.lr=0.05", *overrides, save=False)


def test_training_applies_the_schedule_per_epoch_as_a_torch_loop_does():
    """A run with scheduler=cosine against the plain-PyTorch loop: torch.optim.SGD stepped
    by CosineAnnealingLR after every epoch, on the same batches: bit-identical parameters."""
    from linreg import data as dataset
    from linreg.train import TrainConfig, train

    mine = one_run("optimizer=torch_sgd", "scheduler=cosine", "scheduler.eta_min=0.001")
    data = dataset.load(validate(_compose([])).dataset).cast(torch.float32)
    w, b = torch.full((1, 1), 0.5), torch.zeros(1)
    opt = torch.optim.SGD([w, b], lr=0.05, foreach=False)
    cosine = torch_lr.CosineAnnealingLR(opt, T_max=12, eta_min=0.001)

    class TorchLoop:  # the torch idiom: scheduler.step() after each epoch's steps
        def before_epoch(self, epoch: int) -> None:
            if epoch > 0:
                cosine.step()

        def before_step(self, step: int) -> None:
            pass

    history = train(data, w, b, _mse(), opt, TrainConfig(epochs=12), seed=0,
                    schedule=TorchLoop())
    assert mine.metrics["w"] == w.reshape(-1).tolist() and mine.metrics["b"] == float(b)
    assert mine.metrics["history"]["full_mse"] == history.full_mse
    assert history.lr[0] == 0.05 and history.lr[-1] == cosine.get_last_lr()[0] < 0.002


def _compose(overrides):
    from conftest import compose_overrides

    return compose_overrides(overrides)


def _mse():
    from linreg.loss import MSE

    return MSE()


@pytest.mark.parametrize("interval", ["epoch", "batch"])
def test_the_recorded_lr_is_that_of_each_epochs_last_step(interval):
    """history.lr (opt/lr in TensorBoard, the panel of loss.png): the rate the epoch's last
    step used. The default run has 7 steps an epoch."""
    from linreg import optim
    from linreg.data import Data
    from linreg.train import TrainConfig, train

    data = Data(X=torch.randn(32, 1, generator=torch.Generator().manual_seed(0)),
                y=torch.zeros(32, 1))
    w, b = torch.zeros(1, 1), torch.zeros(1)
    opt = optim.ManualSGD([w, b], lr=0.1)
    cfg = schedules.ExponentialConfig(gamma=0.5, interval=interval)
    schedule = schedules.build(cfg, opt, epochs=3, steps_per_epoch=4)
    history = train(data, w, b, _mse(), opt, TrainConfig(epochs=3, batch_size=8), seed=0,
                    schedule=schedule)
    last_steps = [0, 1, 2] if interval == "epoch" else [3, 7, 11]
    assert history.lr == [0.1 * 0.5 ** t for t in last_steps]


def test_loss_png_has_an_lr_panel_only_when_the_rate_changes():
    from linreg.figures.loss_curves import LossCurves, draw_loss

    losses = ([5.0, 3.0, 2.0, 1.5], [4.0, 2.5, 1.8, 1.4], 1.0, "mse")
    lr = [0.1, 0.05, 0.025, 0.0125]
    fig = draw_loss(io.BytesIO(), LossCurves(*losses, lr=lr))
    assert len(fig.axes) == 2
    panel = fig.axes[1]
    assert panel.get_ylabel() == "lr" and panel.get_xlabel() == "epoch"
    assert list(panel.lines[0].get_ydata()) == lr
    assert list(panel.lines[0].get_xdata()) == [1, 2, 3, 4]
    assert fig.axes[0].get_xlabel() == ""  # the panel's epoch axis serves both
    for constant in ([], [0.1] * 4):
        assert len(draw_loss(io.BytesIO(), LossCurves(*losses, lr=constant)).axes) == 1


def test_opt_lr_in_tensorboard_follows_the_schedule(tmp_path, monkeypatch):
    """A real run's events file, read by TensorBoard's own reader: opt/lr per epoch is the
    cosine schedule (float32, as TensorBoard keeps scalars)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.chdir(tmp_path)
    result = run("train.epochs=10", "scheduler=cosine", "hydra.run.dir=r", save=True)
    events = EventAccumulator(str(result.run_dir), size_guidance={"scalars": 0}).Reload()
    found = [(e.step, e.value) for e in events.Scalars("opt/lr")]
    assert [step for step, _ in found] == list(range(1, 11))
    for step, value in found:
        closed = 0.01 * (1 + math.cos(math.pi * (step - 1) / 10)) / 2
        assert value == pytest.approx(closed, rel=1e-6, abs=1e-12)
    assert (result.run_dir / "loss.png").stat().st_size > 0


@pytest.mark.parametrize(("overrides", "message"), [
    (["scheduler=warmup_cosine", "scheduler.warmup=50"],
     "scheduler.warmup: must be below t_max (the run's 50 epochs by default), got 50"),
    (["scheduler=multistep", "scheduler.milestones=[0,10]"],
     "scheduler.milestones: must all be >= 1, got [0, 10]"),
    (["scheduler=step", "scheduler.interval=step"],
     "scheduler.interval: must be one of epoch, batch, got step"),
    (["scheduler=cosine", "scheduler.t_max=0"], "scheduler.t_max: must be >= 1, got 0"),
])
def test_bad_schedules_are_refused_in_one_line(compose_config, overrides, message):
    with pytest.raises(ConfigError) as found:
        validate(compose_config(overrides))
    assert str(found.value) == message


def test_warmup_is_a_tenth_of_the_run_by_default():
    built = schedules.build(schedules.WarmupCosineConfig(), sgd(), epochs=50, steps_per_epoch=7)
    assert (built.warmup, built.t_max) == (5, 45)  # the cosine's part: the other 45 epochs
    per_step = schedules.build(schedules.WarmupCosineConfig(interval="batch"), sgd(), 50, 7)
    assert (per_step.warmup, per_step.t_max) == (35, 315)
    with pytest.raises(ConfigError, match="warmup_cosine needs t_max >= 2 epochs"):
        schedules.build(schedules.WarmupCosineConfig(), sgd(), epochs=1, steps_per_epoch=7)
