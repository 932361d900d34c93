"""Adagrad, RMSprop, Adam and AdamW from scratch against torch.optim's: bit-identical parameters
after every step, in float32 and float64, with and without weight decay on the bias."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from linreg import optim
from linreg.api import run
from linreg.config import validate
from linreg.errors import ConfigError

TWINS = {"adagrad": (optim.Adagrad, "Adagrad"), "rmsprop": (optim.RMSprop, "RMSprop"),
         "adam": (optim.Adam, "Adam"), "adamw": (optim.AdamW, "AdamW"),
         "sgd": (optim.ManualSGD, "SGD")}

SETTINGS = [
    ("adagrad", dict()),
    ("adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("adagrad", dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("rmsprop", dict()),
    ("rmsprop", dict(lr=0.003, momentum=0.9)),
    ("rmsprop", dict(centered=True)),
    ("rmsprop", dict(lr=0.02, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("adam", dict()),
    ("adam", dict(lr=0.1, betas=(0.8, 0.99))),
    ("adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("adam", dict(betas=(0.0, 0.5), eps=1e-3)),
    ("adamw", dict()),
    ("adamw", dict(lr=0.1, weight_decay=0.5)),
    ("adamw", dict(lr=0.01, amsgrad=True, betas=(0.5, 0.9))),
]


def assert_twins_identical(family: str, hyper: dict, seed: int, steps: int,
                           dtype: torch.dtype = torch.float32, decay_bias: bool = True) -> None:
    """The from-scratch optimizer and torch.optim's, fed the same random gradients (of a
    (3, 1) weight and a (1,) bias), stay bit-identical at every step."""
    manual_cls, torch_name = TWINS[family]
    gen = torch.Generator().manual_seed(seed)
    start = [torch.randn(3, 1, generator=gen, dtype=dtype),
             torch.randn(1, generator=gen, dtype=dtype)]
    manual, reference = [p.clone() for p in start], [p.clone() for p in start]
    manual_opt = manual_cls(optim.param_groups(manual, decay_bias), **hyper)
    torch_opt = getattr(torch.optim, torch_name)(optim.param_groups(reference, decay_bias),
                                                 **hyper, foreach=False)
    for step in range(steps):
        for p, q in zip(manual, reference, strict=True):
            p.grad = torch.randn(p.shape, generator=gen, dtype=dtype)
            q.grad = p.grad.clone()
        manual_opt.step()
        torch_opt.step()
        for p, q in zip(manual, reference, strict=True):
            # equal bits; a NaN (RMSprop centered with alpha 0: sqrt(g^2 - g^2 < 0)) as NaN
            torch.testing.assert_close(p, q, rtol=0, atol=0, equal_nan=True,
                                       msg=f"step {step}: {p.flatten()} != {q.flatten()}")
    assert not torch.equal(manual[0], start[0])  # they moved: not two untouched tensors


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("family", "hyper"), SETTINGS,
                         ids=[f"{f}-" + ",".join(f"{k}={v}" for k, v in h.items())
                              for f, h in SETTINGS])
def test_from_scratch_equals_torch_every_step(family, hyper, dtype):
    assert_twins_identical(family, hyper, seed=0, steps=150, dtype=dtype)
    if hyper.get("weight_decay", family == "adamw"):  # AdamW decays by default
        assert_twins_identical(family, hyper, seed=1, steps=50, dtype=dtype, decay_bias=False)


unit = st.floats(0.0, 0.999)
HYPER = {
    "adagrad": st.fixed_dictionaries({"lr": st.floats(1e-4, 1.0), "lr_decay": st.floats(0, 0.5),
                                      "weight_decay": st.just(0.0) | st.floats(0, 0.5),
                                      "initial_accumulator_value": st.floats(0, 2.0),
                                      "eps": st.sampled_from([1e-10, 1e-6, 0.1])}),
    "rmsprop": st.fixed_dictionaries({"lr": st.floats(1e-4, 0.1), "alpha": unit,
                                      "eps": st.sampled_from([1e-8, 1e-4, 0.1]),
                                      "weight_decay": st.just(0.0) | st.floats(0, 0.5),
                                      "momentum": st.just(0.0) | st.floats(0, 0.99),
                                      "centered": st.booleans()}),
    "adam": st.fixed_dictionaries({"lr": st.floats(1e-4, 1.0), "betas": st.tuples(unit, unit),
                                   "eps": st.sampled_from([1e-8, 1e-4, 0.1]),
                                   "weight_decay": st.just(0.0) | st.floats(0, 0.5),
                                   "amsgrad": st.booleans()}),
}
HYPER["adamw"] = HYPER["adam"]


@pytest.mark.parametrize("family", sorted(HYPER))
@settings(max_examples=40, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["32", "64"]),
       decay_bias=st.booleans())
def test_from_scratch_is_bit_identical_to_torch(family, data, seed, dtype, decay_bias):
    hyper = data.draw(HYPER[family])
    dtype = torch.float32 if dtype == "32" else torch.float64
    assert_twins_identical(family, hyper, seed, steps=20, dtype=dtype, decay_bias=decay_bias)


@pytest.mark.parametrize("name", ["manual_sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_decay_bias_false_leaves_the_bias_alone(compose_config, name):
    """With a zero gradient, weight decay alone moves w towards 0; b, in its own parameter
    group without decay, does not move at all."""
    cfg = validate(compose_config([f"optimizer={name}", "optimizer.weight_decay=0.5",
                                   "optimizer.decay_bias=false"])).optimizer
    w, b = torch.tensor([[2.0]]), torch.tensor([3.0])
    w.grad, b.grad = torch.zeros_like(w), torch.zeros_like(b)
    opt = optim.build(cfg, [w, b], batch_size=16)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.5, 0.0]
    for _ in range(3):
        opt.step()
    assert float(b) == 3.0 and 0 < float(w) < 2.0


@pytest.mark.parametrize(("family", "dtype"), [("adagrad", "float32"), ("rmsprop", "float64"),
                                               ("adam", "float32"), ("adamw", "float64")])
def test_training_runs_identically_with_the_twin(family, dtype):
    """A whole run, minibatches and weight decay on the weights only, from the CLI's config:
    the same w, b and losses at every epoch as with torch.optim's twin."""
    extra = ["train.epochs=15", "optimizer.lr=0.05", "optimizer.weight_decay=0.01",
             "optimizer.decay_bias=false", f"train.dtype={dtype}"]
    mine = run(f"optimizer={family}", *extra, save=False)
    twin = run(f"optimizer=torch_{family}", *extra, save=False)
    assert mine.metrics["w"] == twin.metrics["w"] and mine.metrics["b"] == twin.metrics["b"]
    assert mine.history == twin.history  # train_loss and full_mse at every epoch
    assert mine.history["full_mse"][-1] < mine.history["full_mse"][0]  # it learned


def test_built_classes_and_torch_defaults(compose_config):
    for family, (manual_cls, torch_name) in TWINS.items():
        if family == "sgd":
            continue
        cfg = validate(compose_config([f"optimizer={family}"])).optimizer
        twin = validate(compose_config([f"optimizer=torch_{family}"])).optimizer
        mine = optim.build(cfg, [torch.zeros(1, 1)], 16)
        theirs = optim.build(twin, [torch.zeros(1, 1)], 16)
        assert type(mine) is manual_cls and type(theirs) is getattr(torch.optim, torch_name)
        # the YAML files' defaults are torch's own
        default = getattr(torch.optim, torch_name)([torch.zeros(1)]).defaults
        for key, value in mine.param_groups[0].items():
            if key != "params":
                assert default[key] == value, (family, key)
        assert theirs.defaults["foreach"] is False  # the single-tensor code, as copied


@pytest.mark.parametrize("betas", ["[0.9]", "[0.9,1.0]", "[-0.1,0.9]"])
def test_bad_betas_are_refused(compose_config, betas):
    with pytest.raises(ConfigError, match=r"optimizer\.betas: must be two numbers in \[0, 1\)"):
        validate(compose_config(["optimizer=adam", f"optimizer.betas={betas}"]))
