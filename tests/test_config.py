"""Composition through Hydra's compose API: every option, the tutorial defaults, bad configs."""

from __future__ import annotations

from importlib.resources import files

import pytest

from linreg import data as dataset
from linreg import init, loss
from linreg import optim as optimizer
from linreg.config import RunConfig, validate
from linreg.errors import one_line
from linreg.train import TrainConfig

OPTIONS = [
    # (overrides, group, expected schema class, expected field values)
    ([], "dataset", dataset.SyntheticConfig, {"name": "synthetic", "n_features": 1}),
    (["dataset=synthetic", "dataset.n_features=3"], "dataset", dataset.SyntheticConfig,
     {"n_features": 3}),
    (["init=tutorial"], "init", init.TutorialInit, {"w": 0.5, "b": 0.0}),
    (["init=zeros"], "init", init.ZerosInit, {"name": "zeros"}),
    (["init=normal", "init.mean=1", "init.std=2"], "init", init.NormalInit,
     {"mean": 1.0, "std": 2.0}),
    (["optimizer=manual_sgd"], "optimizer", optimizer.ManualSGDConfig,
     {"lr": 0.01, "divide_by_batch_size": False}),
    (["optimizer=torch_sgd"], "optimizer", optimizer.TorchSGDConfig, {"lr": 0.01}),
    (["optimizer=torch_sgd", "optimizer.momentum=0.9", "optimizer.nesterov=true",
      "optimizer.weight_decay=0.01"], "optimizer", optimizer.TorchSGDConfig,
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (["loss=mse"], "loss", loss.MSEConfig, {"name": "mse"}),
    (["loss=mae"], "loss", loss.MAEConfig, {"name": "mae"}),
    (["loss=huber"], "loss", loss.HuberConfig, {"delta": 1.0}),
    (["loss=huber", "loss.delta=5"], "loss", loss.HuberConfig, {"delta": 5.0}),
]


@pytest.mark.parametrize(("overrides", "group", "schema", "values"), OPTIONS,
                         ids=[" ".join(o[0]) or "defaults" for o in OPTIONS])
def test_option_composes_and_validates(compose_config, overrides, group, schema, values):
    settings = validate(compose_config(overrides))
    node = getattr(settings, group)
    assert type(node) is schema
    for key, value in values.items():
        assert getattr(node, key) == value, key


@pytest.mark.parametrize("group", ["init", "optimizer", "loss"])
def test_every_shipped_option_composes(compose_config, group):
    """Each YAML file in the installed conf/<group>/ composes, validates and names itself."""
    shipped = sorted(p.name.removesuffix(".yaml") for p in files("linreg.conf").joinpath(group)
                     .iterdir() if p.name.endswith(".yaml"))
    module = {"init": init, "optimizer": optimizer, "loss": loss}[group]
    assert shipped == sorted(module.SCHEMAS)
    for option in shipped:
        node = getattr(validate(compose_config([f"{group}={option}"])), group)
        assert type(node) is module.SCHEMAS[option]
        assert node.name == option


def test_defaults_are_the_tutorials(compose_config):
    settings = validate(compose_config([]))
    assert isinstance(settings, RunConfig)
    assert settings.dataset == dataset.SyntheticConfig(
        name="synthetic", n_samples=120, n_features=1, noise=15.0, bias=12.0, random_state=42)
    assert settings.init == init.TutorialInit(name="tutorial", w=0.5, b=0.0)
    assert type(settings.optimizer) is optimizer.ManualSGDConfig
    assert settings.optimizer.lr == 0.01
    assert (settings.optimizer.momentum, settings.optimizer.dampening,
            settings.optimizer.weight_decay, settings.optimizer.nesterov) == (0, 0, 0, False)
    assert settings.optimizer.divide_by_batch_size is False
    assert settings.train == TrainConfig(epochs=50, batch_size=16, shuffle=True, drop_last=True)
    assert settings.loss == loss.MSEConfig(name="mse")


def test_issue_example_override_line(compose_config):
    line = ("optimizer=torch_sgd optimizer.lr=0.05 train.epochs=100 init=zeros "
            "loss=huber loss.delta=5")
    settings = validate(compose_config(line.split()))
    assert type(settings.optimizer) is optimizer.TorchSGDConfig
    assert settings.optimizer.lr == 0.05
    assert settings.train.epochs == 100
    assert type(settings.init) is init.ZerosInit
    assert settings.loss == loss.HuberConfig(name="huber", delta=5.0)
    # untouched values keep the defaults
    assert settings.train.batch_size == 16
    assert settings.dataset.n_samples == 120


BAD = [
    # (overrides, words the one-line message must contain)
    (["train.epoch=3"], ["train.epoch", "unknown key", "epochs"]),
    (["+optimizer.foo=1"], ["optimizer.foo", "unknown key"]),
    (["+foo=1"], ["foo", "unknown key"]),
    (["loss.delta=1"], ["loss.delta", "unknown key"]),  # mse has no delta
    (["optimizer.lr=abc"], ["optimizer.lr", "abc"]),
    (["train.batch_size=1.5"], ["train.batch_size", "1.5"]),
    (["train.shuffle=maybe"], ["train.shuffle", "maybe"]),
    (["optimizer=lbfgs"], ["optimizer", "lbfgs", "manual_sgd", "torch_sgd", "adam"]),
    (["optimizer.lr=0"], ["optimizer.lr", "> 0"]),
    (["optimizer.lr=-0.1"], ["optimizer.lr", "> 0"]),
    (["train.batch_size=0"], ["train.batch_size", ">= 1"]),
    (["train.epochs=0"], ["train.epochs", ">= 1"]),
    (["dataset.noise=-1"], ["dataset.noise", ">= 0"]),
    (["loss=huber", "loss.delta=0"], ["loss.delta", "> 0"]),
    (["loss=huber", "loss.delta=-2"], ["loss.delta", "> 0"]),
    (["optimizer.nesterov=true"], ["optimizer.nesterov", "momentum"]),
    (["optimizer.nesterov=true", "optimizer.momentum=0.9", "optimizer.dampening=0.5"],
     ["optimizer.nesterov", "dampening"]),
    (["dataset.n_features=0"], ["dataset.n_features", ">= 1"]),
]


def config_error(compose_config, overrides) -> str:
    """The one-line message for a bad config, as the CLI would print it."""
    try:
        validate(compose_config(overrides))
    except Exception as exc:  # Hydra, OmegaConf or linreg's own ConfigError
        return one_line(exc)
    pytest.fail(f"{overrides} was accepted")


@pytest.mark.parametrize(("overrides", "words"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_config_is_one_line_naming_the_key(compose_config, overrides, words):
    message = config_error(compose_config, overrides)
    assert "\n" not in message
    assert message.startswith(words[0] + ":"), message
    for word in words[1:]:
        assert word in message, message
