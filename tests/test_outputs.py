"""What a run leaves in its folder: metrics.json, TensorBoard events with hparams, PNGs, logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from linreg.records import metrics
from linreg.runner import run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PER_EPOCH_TAGS = ["loss/train", "loss/full_mse", "param/b", "grad/norm", "opt/lr"]


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory, run_cli, run_folder) -> Path:
    """One default run through the real CLI, as a user makes it."""
    cwd = tmp_path_factory.mktemp("default_cli")
    result = run_cli(cwd)
    assert result.returncode == 0, result.stderr
    return run_folder(cwd)


@pytest.fixture(scope="module")
def three_features_dir(tmp_path_factory, compose_config) -> Path:
    run_dir = tmp_path_factory.mktemp("three_features")
    run(compose_config(["dataset.n_features=3", "train.epochs=20"]), run_dir)
    return run_dir


def accumulator(run_dir: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return acc


def test_metrics_contract(default_dir):
    m = metrics.read(default_dir)
    assert m["status"] == "ok"
    assert type(m["epochs_run"]) is int and m["epochs_run"] == 50
    assert type(m["steps"]) is int and m["steps"] == 350
    assert isinstance(m["w"], list) and len(m["w"]) == 1 and type(m["w"][0]) is float
    assert type(m["b"]) is float
    assert set(m["loss"]) >= {"train", "full_mse"}
    assert all(type(m["loss"][k]) is float for k in ("train", "full_mse"))
    assert type(m["r2"]) is float and 0 < m["r2"] < 1
    ref = m["reference"]
    assert set(ref) >= {"w_true", "b_true", "w_ols", "b_ols", "mse_ols"}
    assert [type(v) for v in ref["w_true"] + ref["w_ols"]] == [float, float]
    assert all(type(ref[k]) is float for k in ("b_true", "b_ols", "mse_ols"))
    assert set(m["history"]) >= {"train_loss", "full_mse"}
    for series in ("train_loss", "full_mse"):
        values = m["history"][series]
        assert len(values) == m["epochs_run"] and all(type(v) is float for v in values)
        assert values[-1] == m["loss"]["train" if series == "train_loss" else "full_mse"]
    assert type(m["wall_s"]) is float and type(m["train_s"]) is float
    assert 0 < m["train_s"] <= m["wall_s"]


def test_scalars_read_back_equal_metrics(default_dir):
    m = metrics.read(default_dir)
    acc = accumulator(default_dir)
    tags = set(acc.Tags()["scalars"])
    assert {*PER_EPOCH_TAGS, "param/w"} <= tags
    for tag in [*PER_EPOCH_TAGS, "param/w"]:
        assert [e.step for e in acc.Scalars(tag)] == list(range(1, 51)), tag
    values = {tag: [e.value for e in acc.Scalars(tag)] for tag in tags}
    # events hold float32: equal to metrics.json's float64 to float32 precision
    assert values["loss/train"] == pytest.approx(m["history"]["train_loss"], rel=1e-6)
    assert values["loss/full_mse"] == pytest.approx(m["history"]["full_mse"], rel=1e-6)
    assert values["param/w"][-1] == pytest.approx(m["w"][0], rel=1e-6)
    assert values["param/b"][-1] == pytest.approx(m["b"], rel=1e-6)
    assert values["param/w"][0] != values["param/w"][-1]
    assert values["opt/lr"] == pytest.approx([0.01] * 50)
    assert all(v > 0 for v in values["grad/norm"])


def test_hparams_in_the_runs_own_event_file(default_dir):
    # the run's events file and its figures' (written whole, after them), and no timestamped
    # sub-folder (SummaryWriter.add_hparams would make one)
    names = sorted(p.name for p in default_dir.glob("events.out.tfevents.*"))
    assert len(names) == 2 and names[1].endswith(".figures") and names[0] < names[1]
    assert sorted(p.name for p in default_dir.iterdir() if p.is_dir()) == [".hydra"]
    content = accumulator(default_dir).PluginTagToContent("hparams")
    assert content, "no hparams summaries in the run's event file"
    start = None
    for data in content.values():
        parsed = plugin_data_pb2.HParamsPluginData.FromString(data)
        if parsed.HasField("session_start_info"):
            start = parsed.session_start_info
    assert start is not None
    assert start.hparams["optimizer.lr"].number_value == pytest.approx(0.01)
    assert start.hparams["optimizer.name"].string_value == "manual_sgd"
    assert start.hparams["train.batch_size"].number_value == 16
    assert start.hparams["train.shuffle"].bool_value is True


def test_three_features_tags(three_features_dir):
    acc = accumulator(three_features_dir)
    tags = set(acc.Tags()["scalars"])
    assert {"param/w_0", "param/w_1", "param/w_2", *PER_EPOCH_TAGS} <= tags
    assert "param/w" not in tags and "param/w_3" not in tags
    m = metrics.read(three_features_dir)
    for i in range(3):
        points = acc.Scalars(f"param/w_{i}")
        assert len(points) == 20
        assert points[-1].value == pytest.approx(m["w"][i], rel=1e-6)


def check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    image = imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4), image.shape
    assert 200 <= image.shape[0] <= 4000 and 200 <= image.shape[1] <= 4000, image.shape
    assert np.ptp(image[..., :3]) > 0.5, "a blank figure"


@pytest.mark.parametrize("name", ["fit.png", "loss.png"])
def test_figures_are_pngs(default_dir, three_features_dir, name):
    check_png(default_dir / name)
    check_png(three_features_dir / name)


def test_hydra_snapshot_and_log(default_dir):
    config = OmegaConf.load(default_dir / ".hydra" / "config.yaml")
    assert config.optimizer.lr == 0.01 and config.train.epochs == 50
    assert (default_dir / ".hydra" / "overrides.yaml").exists()
    log = (default_dir / "train.log").read_text()
    assert "epoch 50/50" in log
    assert "run folder" in log


def test_metrics_json_is_readable_by_everyone(default_dir):
    # written through a private temporary file, then renamed: it must not stay private
    assert (default_dir / "metrics.json").stat().st_mode & 0o777 == 0o644
