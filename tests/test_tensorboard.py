"""What a real TensorBoard shows of linreg's runs, asked over HTTP as its web page asks: each
run's figures in the Images tab (the very bytes saved), and an HParams tab that tells the
truth (the swept keys first with their values, flags as booleans, the same metric columns for
every run, failures as failures, seeds as groups). One sweep, made once by the CLI."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import cli_env
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.plugins.hparams import plugin_data_pb2

from linreg.outputs import SWEEP_RUN
from linreg.records import crc32c, event_files, hparams
from linreg.records.runs import Job, Metric, load
from linreg.sweeps import folders

TIMEOUT_S = 300
SWEEP = ["optimizer.lr=0.1,-1,20", "seed=0,1", "train.val_fraction=0,0.25", "train.epochs=3"]
STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def linreg(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "linreg"), *args], cwd=cwd,
                          env=cli_env(), capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """12 jobs: lr 0.1 trains, -1 is refused (failed), 20 diverges; seeds 0 and 1; with and
    without held-out rows."""
    cwd = tmp_path_factory.mktemp("tb_sweep")
    result = linreg(cwd, "-m", *SWEEP)
    assert result.returncode == 1, result.stderr  # the refused jobs
    (folder,) = cwd.glob("outputs/sweeps/*/*")
    return folder


def _get(base: str, path: str, body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


@pytest.fixture(scope="module")
def board(sweep):
    """A real TensorBoard over the sweep folder; what its plugins serve."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "tensorboard"), "--logdir",
                               str(sweep), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    expected = {p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")}
    try:
        deadline, runs, tags = time.monotonic() + 60, [], {}
        while time.monotonic() < deadline:  # until every run's figures are read
            try:
                runs = json.loads(_get(base, "/data/runs"))
                tags = json.loads(_get(base, "/data/plugin/images/tags"))
                if set(runs) == expected and set(tags) == expected:
                    break
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        experiment = json.loads(_get(base, "/data/plugin/hparams/experiment",
                                     {"experimentName": "", "hparamsLimit": 1000}))
        groups = json.loads(_get(base, "/data/plugin/hparams/session_groups", {
            "experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
            "allowedStatuses": STATUSES}))["sessionGroups"]

        def image(run: str, tag: str) -> bytes:
            query = urllib.parse.urlencode({"run": run, "tag": tag, "sample": 0})
            (shown,) = json.loads(_get(base, f"/data/plugin/images/images?{query}"))
            return _get(base, f"/data/plugin/images/individualImage?{shown['query']}")

        images = {(run, tag): image(run, tag) for run in tags for tag in tags[run]}
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"runs": runs, "tags": tags, "images": images, "experiment": experiment,
            "groups": groups}


def test_each_run_shows_its_figures_as_the_very_bytes_it_saved(sweep, board):
    jobs = [p for p in sweep.iterdir() if p.is_dir() and p.name != SWEEP_RUN]
    assert len(jobs) == 12
    for job in jobs:
        saved = sorted(p.name for p in job.glob("*.png"))
        if load(job).status == "failed":  # refused before training: no figures
            assert saved == [] and job.name not in board["tags"]
            continue
        assert saved == ["fit.png", "loss.png", "trajectory.png"]
        assert set(board["tags"][job.name]) == {f"figures/{Path(n).stem}" for n in saved}
        for name in saved:
            assert board["images"][job.name, f"figures/{Path(name).stem}"] == \
                (job / name).read_bytes(), (job.name, name)


def test_the_sweep_has_a_run_of_its_own_with_summary_png(sweep, board):
    assert SWEEP_RUN in board["runs"]
    assert board["images"][SWEEP_RUN, "figures/summary"] == (sweep / "summary.png").read_bytes()


def test_the_hparams_table_opens_on_the_swept_keys_with_their_values(board):
    infos = board["experiment"]["hparamInfos"]
    swept = infos[:3]  # TensorBoard shows the first five columns
    assert [i["name"] for i in swept] == ["optimizer.lr", "seed", "train.val_fraction"]
    assert all(i["differs"] for i in swept) and not any(i["differs"] for i in infos[3:])
    assert [i["domainDiscrete"] for i in swept] == [[0.1, -1.0, 20.0], [0.0, 1.0], [0.0, 0.25]]
    types = {i["name"]: i["type"] for i in infos}
    assert types["train.shuffle"] == types["optimizer.nesterov"] == "DATA_TYPE_BOOL"
    assert types["optimizer.name"] == "DATA_TYPE_STRING"
    assert {"loss.delta", "init.mean", "dataset.path"} <= set(types)  # options not chosen
    for group in board["groups"]:
        assert group["hparams"]["train.shuffle"] is True
        assert "loss.delta" not in group["hparams"]  # mse: left empty


def test_every_run_has_every_metric_column_nan_where_it_does_not_apply(board):
    tags = [m["name"]["tag"] for m in board["experiment"]["metricInfos"]]
    assert tags == [f"final/{m.name}" for m in Metric]  # full_mse (the ranked metric) first
    for group in board["groups"]:
        for session in group["sessions"]:
            values = {m["name"]["tag"]: m["value"] for m in session["metricValues"]}
            if session["status"] == "STATUS_FAILURE" and "lr=-1" in session["name"]:
                assert values == {}  # refused: no metrics at all
                continue
            assert set(values) == set(tags), session["name"]
            held_out = "val_fraction=0.25" in session["name"]
            ok = "lr=0.1" in session["name"]
            if not held_out:
                assert values["final/val_loss"] == values["final/r2_val"] == "NaN"
            elif ok:
                assert values["final/val_loss"] != "NaN" and values["final/r2_val"] != "NaN"
            assert (values["final/r2"] != "NaN") == ok  # diverged: not finite


def test_diverged_and_failed_runs_are_failures(board):
    statuses = {s["name"]: s["status"] for g in board["groups"] for s in g["sessions"]}
    assert len(statuses) == 12
    for name, status in statuses.items():
        assert status == ("STATUS_SUCCESS" if "_lr=0.1_" in name else "STATUS_FAILURE"), name


def test_runs_that_differ_only_in_seed_are_one_group_named_by_the_rule(sweep, board):
    groups = {g["name"]: sorted(s["name"] for s in g["sessions"]) for g in board["groups"]}
    assert len(groups) == 6 and all(len(runs) == 2 for runs in groups.values())
    for name, runs in groups.items():
        assert {Job(Path(), {}, load(sweep / run).overrides).group for run in runs} == {name}
    assert "optimizer.lr=0.1 train.epochs=3 train.val_fraction=0.25" in groups


# ---------------------------------------------------------------- single runs

def test_a_single_run_is_named_by_what_it_changed_and_grouped(tmp_path):
    result = linreg(tmp_path, "optimizer.lr=0.1", "loss=huber", "seed=3", "train.epochs=2")
    assert result.returncode == 0, result.stderr
    (folder,) = tmp_path.glob("outputs/runs/*/*")
    assert folder.name.endswith("-p" + folder.name.split("-p")[1].split("_")[0]
                                + "_lr=0.1_loss=huber_seed=3_epochs=2")
    start = _hparams(folder, "session_start_info").session_start_info
    assert start.group_name == "loss=huber optimizer.lr=0.1 train.epochs=2"  # seed left out
    assert start.hparams["train.shuffle"].WhichOneof("kind") == "bool_value"
    assert start.hparams["loss.delta"].number_value == 1.0
    assert _hparams(folder, "session_end_info").session_end_info.status == 1  # success
    # no experiment of its own: TensorBoard builds one from every run it reads
    assert "_hparams_/experiment" not in _tags(folder)


def test_run_folder_names_share_the_job_folders_rule():
    assert folders.run_folder_end([]) == ""
    assert folders.run_folder_end(["optimizer.lr=0.1", "loss=huber"]) == "_lr=0.1_loss=huber"
    assert folders.run_folder_end(["dataset.path=data/a,b:c.csv", "init.w=1", "optimizer.w=2"]) \
        == "_path=data-a-b-c.csv_init.w=1_optimizer.w=2"
    assert len(folders.run_folder_end([f"train.k{i}=1234567" for i in range(20)])) <= 90


def _tags(folder: Path) -> dict:
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return acc.PluginTagToContent("hparams")


def _hparams(folder: Path, what: str) -> plugin_data_pb2.HParamsPluginData:
    return plugin_data_pb2.HParamsPluginData.FromString(_tags(folder)[f"_hparams_/{what}"])


# ---------------------------------------------------------------- the parts

@pytest.mark.parametrize("size", [0, 1, 7, 4095, 4096, 4097, 66_737, 142_245, 300_001])
def test_crc32c_is_tensorboards(size):
    data = os.urandom(size)
    assert crc32c.masked(data) == masked_crc32c(data)


def test_an_image_summary_carries_the_png_as_it_is():
    data = _tiny_png()
    image = event_files.image_summary("figures/x", data).value[0].image
    assert image.encoded_image_string == data
    assert (image.width, image.height) == event_files.png_size(data) == (100, 50)
    with pytest.raises(ValueError):
        event_files.png_size(b"GIF89a" + bytes(20))


def test_an_events_file_is_read_whole_or_not_at_all(tmp_path, monkeypatch):
    import linreg.outputs as outputs

    renamed, real = [], outputs.os.replace
    monkeypatch.setattr(outputs.os, "replace",
                        lambda a, b: (renamed.append(Path(a).name), real(a, b)))
    data = _tiny_png()
    path = event_files.write(tmp_path, [event_files.image_summary("figures/x", data)], 3,
                             "figures")
    # TensorBoard reads any file whose name holds "tfevents": the temporary one must not
    assert renamed and not any("tfevents" in name for name in renamed)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    (image,) = acc.Images("figures/x")
    assert image.step == 3 and image.encoded_image_string == data


def _tiny_png() -> bytes:
    import io

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(2, 1), dpi=50)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def test_values_take_their_columns_type():
    assert hparams.typed(1, hparams.BOOL) is True
    assert hparams.typed(16, hparams.FLOAT64) == 16.0
    assert hparams.typed(None, hparams.STRING) is None
    assert hparams.typed(math.nan, hparams.FLOAT64) is None
    assert hparams.typed(["a", "b"], hparams.STRING) == "['a', 'b']"
    assert hparams.group_name(["seed=1"]) == hparams.NO_GROUP


def test_a_sweeps_values_are_read_from_its_command_line():
    from linreg import board

    line = ["optimizer.lr=0.1,0.2", "loss=mse,huber", "seed=interval(0,3)", "train.epochs=3"]
    assert board.swept_values(line, ["optimizer.lr", "loss", "seed"]) == {
        "optimizer.lr": ["0.1", "0.2"], "loss.name": ["mse", "huber"], "seed": None}
    assert board.swept_values(["optimizer.lr=((("], ["optimizer.lr"]) == {"optimizer.lr": None}
