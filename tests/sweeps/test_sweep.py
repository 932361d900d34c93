"""Sweeps, as a user runs them (`linreg -m ...` in a subprocess), and the summary they leave.

One basic sweep, one joblib sweep, one submitit_local sweep, one optuna search and one single
run are made once for the module and shared; every check then reads their folders back.
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from matplotlib.image import imread
from omegaconf import OmegaConf

from linreg.outputs import SWEEP_RUN
from linreg.records.runs import Job, Metric
from linreg.sweeps import callback as sweep
from linreg.sweeps import compare, folders
from linreg.sweeps import plan as sweep_plan

TIMEOUT_S = 300  # the machine's two cores are shared with other work
VOLATILE = ("wall_s", "train_s")  # timings: the only numbers that may differ between runs


def linreg(cwd: Path, *args: str, command: str = "linreg") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LINREG_DEBUG", "HYDRA_FULL_ERROR")}
    exe = Path(sys.executable).parent / command
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def the_sweep(cwd: Path) -> Path:
    (folder,) = cwd.glob("outputs/sweeps/*/*")
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def numbers(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in VOLATILE}


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    """lr 0.01 and 0.1 train, -1 is refused, 5 diverges: ok, failed, ok, diverged."""
    cwd = tmp_path_factory.mktemp("basic")
    result = linreg(cwd, "-m", "optimizer.lr=0.01,-1,0.1,5", "train.epochs=3")
    return result, the_sweep(cwd)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("single")
    result = linreg(cwd, "optimizer.lr=0.1", "train.epochs=3")
    assert result.returncode == 0, result.stderr
    (folder,) = cwd.glob("outputs/runs/*/*")
    return folder


@pytest.fixture(scope="module")
def joblib(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("joblib")
    result = linreg(cwd, "-m", "hydra/launcher=joblib", "optimizer.lr=0.05,0.1",
                    "loss=mse,huber", "train.epochs=3", "summary.rank_by=r2")
    assert result.returncode == 0, result.stderr
    return result, the_sweep(cwd)


# ---------------------------------------------------------------- the basic sweep, end to end

def test_a_failed_job_is_recorded_the_others_run_and_the_command_ends_with_one_line(basic):
    result, folder = basic
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    # stderr: the lr=5 job's warnings (warnings go there, results to stdout): its lr above
    # 2/λ_max before training, its divergence; then the command's one line
    above, warning, line = result.stderr.strip().splitlines()
    assert above.startswith("optimizer.lr=5 is above 2/λ_max = ")
    assert warning.startswith("diverged at epoch 3: ")
    assert line.startswith("linreg: error: 1 of 4 jobs failed (first: job 1, optimizer.lr=-1 ")
    assert "optimizer.lr: must be > 0, got -1.0" in line and str(folder / "summary.csv") in line
    # the jobs after the failed one ran to their end
    assert [json.loads((folder / name / "metrics.json").read_text())["status"]
            for name in ("0_lr=0.01", "1_lr=-1", "2_lr=0.1", "3_lr=5")] == \
        ["ok", "failed", "ok", "diverged"]
    failed = json.loads((folder / "1_lr=-1" / "metrics.json").read_text())
    assert failed["error"] == "optimizer.lr: must be > 0, got -1.0"
    assert "job failed: optimizer.lr: must be > 0, got -1.0" in result.stdout


def test_job_folders_are_named_by_their_swept_values(basic):
    _, folder = basic
    jobs = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and p.name != SWEEP_RUN)  # the sweep's own TensorBoard run
    assert jobs == ["0_lr=0.01", "1_lr=-1", "2_lr=0.1", "3_lr=5"]  # train.epochs: not swept
    assert json.loads((folder / "sweep.json").read_text())["swept"] == ["optimizer.lr"]


def test_summary_csv_has_a_row_per_job_with_values_status_and_results(basic):
    _, folder = basic
    rows = read_csv(folder / "summary.csv")
    assert [r["job"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["optimizer.lr"] for r in rows] == ["0.01", "-1.0", "0.1", "5.0"]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok", "diverged"]
    assert [r["rank"] for r in rows] == ["2", "4", "1", "3"]
    assert rows[1]["error"] == "optimizer.lr: must be > 0, got -1.0"
    assert rows[0]["overrides"] == "optimizer.lr=0.01 train.epochs=3"
    for row in (rows[0], rows[2]):
        m = json.loads((folder / row["folder"] / "metrics.json").read_text())
        assert float(row["full_mse"]) == m["loss"]["full_mse"]
        assert float(row["train_loss"]) == m["loss"]["train"]
        assert float(row["r2"]) == m["r2"]
        assert float(row["w"]) == m["w"][0] and float(row["b"]) == m["b"]
        assert float(row["wall_s"]) == m["wall_s"] > 0
        ref = m["reference"]
        distance = math.hypot(m["w"][0] - ref["w_ols"][0], m["b"] - ref["b_ols"])
        assert float(row["dist_ols"]) == pytest.approx(distance, rel=1e-12)
        assert int(row["epochs_run"]) == 3
    assert rows[3]["full_mse"] == "" and rows[3]["epochs_run"] == "3"  # diverged: no final loss


def test_console_ranks_the_jobs_best_first(basic):
    result, _ = basic
    out = result.stdout
    start = out.index("4 runs (2 ok, 1 diverged, 1 failed), ranked by full_mse (lower is better)")
    table = out[start:].splitlines()[2:6]
    assert [line.split()[:4] for line in table] == [
        ["1", "2", "0.1", "ok"], ["2", "0", "0.01", "ok"], ["3", "3", "5", "diverged"],
        ["4", "1", "-1", "failed"]]
    assert table[3].endswith("optimizer.lr: must be > 0, got -1.0")


def test_summary_png_overlays_curves_and_plots_the_final_loss_against_lr(basic):
    _, folder = basic
    image = imread(folder / "summary.png")
    height, width = image.shape[:2]
    assert 1200 < width < 1500 and height == 572  # 5.2 in high at 110 dpi: two panels
    assert image[..., :3].std() > 0.05  # something drawn


def test_rank_by_is_checked_before_any_job(tmp_path):
    result = linreg(tmp_path, "-m", "summary.rank_by=accuracy", "optimizer.lr=0.1,0.2")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("linreg: error: summary.rank_by:") and "full_mse" in line
    assert not (tmp_path / "outputs").exists()


def test_a_bad_swept_value_stops_the_sweep_before_any_job_and_leaves_no_folder(tmp_path):
    result = linreg(tmp_path, "-m", "train.batch_size=8,abc")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "train.batch_size" in line and "Traceback" not in result.stderr
    assert list(tmp_path.glob("outputs/sweeps/*/*")) == []


def test_a_job_that_ran_before_a_later_batch_failed_to_compose_is_complete(tmp_path):
    # one job a batch: the bad option is found after job 0 has run and handed its figures on
    result = linreg(tmp_path, "-m", "optimizer=manual_sgd,nosuch", "train.epochs=1",
                    "hydra.sweeper.max_batch_size=1")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "unknown option 'nosuch'" in line
    (job,) = the_sweep(tmp_path).glob("0_*")
    assert json.loads((job / "metrics.json").read_text())["status"] == "ok"
    assert all((job / name).is_file() for name in ("fit.png", "loss.png", "trajectory.png"))


def test_rank_by_r2_ranks_highest_first(joblib):
    result, folder = joblib
    assert "4 runs (4 ok, 0 diverged, 0 failed), ranked by r2 (higher is better):" in result.stdout
    rows = read_csv(folder / "summary.csv")
    by_rank = sorted(rows, key=lambda r: int(r["rank"]))
    assert [float(r["r2"]) for r in by_rank] == sorted((float(r["r2"]) for r in rows),
                                                      reverse=True)
    assert imread(folder / "summary.png").shape[1] < 900  # two swept keys: curves only


# ---------------------------------------------------------------- launchers and determinism

def test_same_config_same_numbers_alone_sequential_parallel_and_submitit(
        basic, single, joblib, submitit):
    alone = numbers(json.loads((single / "metrics.json").read_text()))
    sequential = numbers(json.loads((basic[1] / "2_lr=0.1" / "metrics.json").read_text()))
    parallel = numbers(json.loads((joblib[1] / "2_lr=0.1_loss=mse" / "metrics.json").read_text()))
    local = numbers(json.loads((submitit / "1_lr=0.1" / "metrics.json").read_text()))
    assert alone["status"] == "ok" and alone["epochs_run"] == 3
    assert sequential == alone
    assert parallel == alone
    assert local == alone


def test_joblib_sweep_summarises_jobs_run_in_other_processes(joblib):
    _, folder = joblib
    rows = read_csv(folder / "summary.csv")
    assert [(r["optimizer.lr"], r["loss"]) for r in rows] == [
        ("0.05", "mse"), ("0.05", "huber"), ("0.1", "mse"), ("0.1", "huber")]
    assert {r["status"] for r in rows} == {"ok"}
    pids = {int(p.name.split(".")[-2]) for p in folder.glob("*/events.out.tfevents.*")
            if p.name[-1].isdigit()}  # not the figures' files, written by the drawing process
    assert len(pids) >= 2  # the jobs ran in worker processes, not all in one


@pytest.fixture(scope="module")
def submitit(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("submitit")
    result = linreg(cwd, "-m", "hydra/launcher=submitit_local", "optimizer.lr=0.05,0.1",
                    "train.epochs=3")
    assert result.returncode == 0, result.stderr
    return the_sweep(cwd)


def test_submitit_local_runs_each_job_as_a_submitted_job(submitit):
    rows = read_csv(submitit / "summary.csv")
    assert [(r["folder"], r["status"]) for r in rows] == [("0_lr=0.05", "ok"), ("1_lr=0.1", "ok")]
    assert len(list((submitit / ".submitit").glob("*/*_submitted.pkl"))) == 2


def test_optuna_search_minimises_the_chosen_metric_in_memory(tmp_path):
    result = linreg(tmp_path, "-m", "hydra/sweeper=sgd_search", "hydra.sweeper.n_trials=3",
                    "train.epochs=2")
    assert result.returncode == 0, result.stderr
    folder = the_sweep(tmp_path)
    rows = read_csv(folder / "summary.csv")
    assert len(rows) == 3
    for row in rows:
        assert 0.001 <= float(row["optimizer.lr"]) <= 1.0
        assert 0 <= float(row["optimizer.momentum"]) <= 0.95
        assert row["train.batch_size"] in {"4", "8", "16", "32"}
        assert row["folder"].startswith(f"{row['job']}_lr=")
        assert "_momentum=" in row["folder"] and "_batch_size=" in row["folder"]
    best = yaml.safe_load((folder / "optimization_results.yaml").read_text())
    finished = [float(r["full_mse"]) for r in rows if r["status"] == "ok"]
    assert best["best_value"] == min(finished)
    assert "A new study created in memory" in result.stderr


def test_optuna_direction_follows_rank_by(compose_config):
    from hydra import compose, initialize_config_module

    with initialize_config_module(version_base="1.3", config_module="linreg.conf"):
        for rank_by, direction in (("full_mse", "minimize"), ("r2", "maximize")):
            cfg = compose("config", overrides=["hydra/sweeper=sgd_search",
                                               f"summary.rank_by={rank_by}"],
                          return_hydra_config=True)
            assert cfg.hydra.sweeper.direction == direction
            assert cfg.hydra.sweeper.storage is None


def test_slurm_example_config_composes_to_a_submitit_slurm_launcher():
    from hydra import compose, initialize_config_module

    with initialize_config_module(version_base="1.3", config_module="linreg.conf"):
        cfg = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
    from hydra_plugins.linreg_slurm import SlurmLauncher as Ours

    # linreg's, over the plugin's (tests/sweeps/test_slurm.py runs it on a real cluster)
    assert launcher._target_ == "hydra_plugins.linreg_slurm.SlurmLauncher"
    assert issubclass(Ours, SlurmLauncher)
    assert launcher.timeout_min == 20 and launcher.array_parallelism == 32
    assert launcher.submitit_folder.endswith("/.submitit/%j")


# ---------------------------------------------------------------- TensorBoard

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_tensorboard_shows_one_run_per_job_with_the_same_hparams_columns(joblib):
    _, folder = joblib
    port = free_port()
    exe = Path(sys.executable).parent / "tensorboard"
    server = subprocess.Popen([str(exe), "--logdir", str(folder), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    jobs = {"0_lr=0.05_loss=mse", "1_lr=0.05_loss=huber", "2_lr=0.1_loss=mse",
            "3_lr=0.1_loss=huber"}
    try:
        deadline, runs = time.monotonic() + 30, []
        while time.monotonic() < deadline:
            try:
                runs = get_json(f"{base}/data/runs")
                if set(runs) == {*jobs, "sweep"}:  # the sweep's own run too
                    break
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        assert set(runs) == {*jobs, "sweep"}
        tags = get_json(f"{base}/data/plugin/scalars/tags")
        for job in jobs:
            assert {"loss/train", "loss/full_mse", "param/w", "param/b", "grad/norm", "opt/lr",
                    "final/full_mse"} <= set(tags[job])
        experiment = get_json(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
        groups = get_json(f"{base}/data/plugin/hparams/session_groups", {
            "experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                                "STATUS_RUNNING"]})["sessionGroups"]
    finally:
        server.terminate()
        server.wait(timeout=10)
    # the columns: every key of every option, from the sweep's own experiment
    columns = {info["name"] for info in experiment["hparamInfos"]}
    assert {"optimizer.lr", "loss.name", "loss.delta", "init.mean", "init.w",
            "optimizer.divide_by_batch_size", "train.batch_size", "seed"} <= columns
    # every job fills those it has; an option a job did not choose (delta, for mse) is empty
    values = {s["name"]: group["hparams"] for group in groups for s in group["sessions"]}
    assert set(values) == jobs
    for job, hparams in values.items():
        assert ("loss.delta" in hparams) == job.endswith("huber"), job
        assert set(hparams) <= columns
    assert values["1_lr=0.05_loss=huber"]["loss.delta"] == 1.0
    assert values["2_lr=0.1_loss=mse"]["optimizer.lr"] == 0.1


# ---------------------------------------------------------------- linreg-compare

def test_compare_ranks_runs_from_different_places(tmp_path, basic, single):
    out = tmp_path / "cmp"
    result = linreg(tmp_path, str(basic[1]), str(single), "--out", str(out), "--rank-by", "r2",
                    command="linreg-compare")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "5 runs (3 ok, 1 diverged, 1 failed), ranked by r2 (higher is better):")
    rows = read_csv(out / "summary.csv")
    assert len(rows) == 5
    assert "optimizer.lr" in rows[0]  # the single run's lr 0.1 against the sweep's values
    ok = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: int(r["rank"]))
    assert [float(r["r2"]) for r in ok] == sorted((float(r["r2"]) for r in ok), reverse=True)
    assert 1200 < imread(out / "summary.png").shape[1] < 1500


def test_compare_refuses_a_missing_folder_with_one_line(tmp_path):
    result = linreg(tmp_path, str(tmp_path / "nope"), command="linreg-compare")
    assert result.returncode == 2
    assert result.stderr.strip() == f"linreg-compare: error: {tmp_path / 'nope'}: no such folder"


# ---------------------------------------------------------------- the pieces, in-process

def test_job_folder_names_are_short_safe_and_sort(tmp_path):
    (tmp_path / sweep.PLAN_FILE).write_text(json.dumps(
        {"swept": ["optimizer.lr", "train.batch_size", "dataset.path", "init.w", "optimizer.w"],
         "jobs": 12}))
    name = folders.job_folder(str(tmp_path), 3, ["optimizer.lr=0.1", "train.batch_size=8",
                                                "train.epochs=5"])
    assert name == "03_lr=0.1_batch_size=8"
    odd = folders.job_folder(str(tmp_path), 11, ["dataset.path=data/a,b:c.csv",
                                               "optimizer.lr=0.012345678901", "init.w=1",
                                               "optimizer.w=2"])
    assert odd == "11_path=data-a-b-c.csv_lr=0.01235_init.w=1_optimizer.w=2"
    assert folders.job_folder(str(tmp_path / "no-plan"), 0, ["a.b=1", "c=2"]) == "0_b=1_c=2"
    # a preset's nested group (+experiment/init=far) must not nest the job's folder
    assert folders.job_folder(str(tmp_path / "no-plan"), 2, ["+experiment/init=far"]) == \
        "2_experiment-init=far"


def test_sweep_plan_lists_swept_keys_and_counts_jobs():
    cfg = OmegaConf.create({"hydra": {
        "overrides": {"task": ["optimizer.lr=0.1,0.2,0.3", "train.batch_size=range(8,24,8)",
                               "train.epochs=5"]},
        "sweeper": {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                    "params": {"seed": "0,1"}}}})
    plan = sweep_plan.sweep_plan(cfg)
    assert plan["swept"] == ["seed", "optimizer.lr", "train.batch_size"]
    assert plan["jobs"] == 12


def test_rank_puts_finished_runs_first_then_diverged_then_failed():
    def job(status, mse, r2):
        m = {"status": status, "loss": {"full_mse": mse, "train": mse}, "r2": r2, "wall_s": 1.0}
        return Job(Path(status + str(mse)), m)

    jobs = [job("failed", None, None), job("diverged", None, None), job("ok", 3.0, 0.2),
            job("ok", 2.0, 0.1)]
    assert [j.metrics["loss"]["full_mse"] for j in compare.rank(jobs, "full_mse")] == \
        [2.0, 3.0, None, None]
    assert [j.status for j in compare.rank(jobs, "r2")] == ["ok", "ok", "diverged", "failed"]
    assert compare.rank(jobs, "r2")[0].metrics["r2"] == 0.2
    stopped = Job(Path("stopped"), {"status": "interrupted", "loss": {"full_mse": 1.0}})
    assert [j.status for j in compare.rank([stopped, *jobs], "full_mse")] == \
        ["ok", "ok", "diverged", "interrupted", "failed"]
    assert "(2 ok, 1 diverged, 1 interrupted, 1 failed)" in \
        compare.ranking_text(compare.rank([stopped, *jobs], "full_mse"), [], "full_mse")
    assert sweep.objective(jobs[1].metrics, Metric.full_mse) == math.inf
    assert sweep.objective(jobs[1].metrics, Metric.r2) == -math.inf


def test_rank_by_validation_loss_and_parameter_error():
    def job(val, w_error):
        m = {"status": "ok", "loss": {"full_mse": 1.0, "train": 1.0, "val": val}, "r2": 0.5,
             "wall_s": 1.0, "param_error": {"w": w_error}}
        return Job(Path(f"{val}-{w_error}"), m)

    jobs = [job(3.0, 0.1), job(2.0, 0.3), job(4.0, 0.2)]
    assert [j.metric("val_loss") for j in compare.rank(jobs, "val_loss")] == [2.0, 3.0, 4.0]
    assert [j.metric("w_error") for j in compare.rank(jobs, "w_error")] == [0.1, 0.2, 0.3]


def test_sequential_jobs_in_one_process_load_the_data_once(compose_config, tmp_path,
                                                           monkeypatch):
    from linreg import data as dataset
    from linreg import runner

    calls = []
    real_load = dataset.load
    monkeypatch.setattr(dataset, "load",
                        lambda cfg, *dtype: calls.append(cfg) or real_load(cfg, *dtype))
    monkeypatch.setattr(runner, "CACHE", runner.RunCache())
    for name in ("0.05", "0.1", "other"):
        (tmp_path / name).mkdir()
    results = [runner.run(compose_config([f"optimizer.lr={lr}", "train.epochs=1"]), tmp_path / lr)
               for lr in ("0.05", "0.1")]
    assert len(calls) == 1
    assert results[0]["reference"] == results[1]["reference"]
    runner.run(compose_config(["dataset.noise=5", "train.epochs=1"]), tmp_path / "other")
    assert len(calls) == 2  # another dataset config: loaded anew


# ---------------------------------------------------------- linreg's sweeper: one compose a job

def test_linregs_sweeper_composes_each_job_once_and_runs_each_with_its_own_config(
        tmp_path, monkeypatch):
    import hydra
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    composed = []
    compose = ConfigLoaderImpl.load_configuration

    def counted(self, *args, **kwargs):
        composed.append(kwargs.get("overrides"))
        return compose(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counted)
    seen = []

    def task(cfg):
        from hydra.core.hydra_config import HydraConfig

        seen.append((cfg.seed, HydraConfig.get().job.num))

    monkeypatch.setattr(sys, "argv", ["linreg", "-m", "seed=3,4,3", f"hydra.sweep.dir={tmp_path}",
                                      "~hydra.callbacks.sweep_summary"])
    hydra.main(version_base="1.3", config_path="pkg://linreg.conf", config_name="config")(task)()
    assert seen == [(3, 0), (4, 1), (3, 2)]  # a value given twice is two jobs, as in Hydra's
    # Hydra composes the sweep's own config twice (to find the mode, then to sweep); the jobs,
    # which set only a value, share one composition, where the basic sweeper alone would
    # compose each job twice
    assert len(composed) == 2 + 1
    assert not any(o.startswith("seed=") for o in composed[2])


@pytest.fixture(scope="module")
def sweep_loader():
    """Hydra's config loader and a sweep's own config, as the sweeper is given them."""
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    with initialize_config_module(version_base="1.3", config_module="linreg.conf"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config", overrides=["hydra.sweep.dir=/nowhere", "seed=9"], run_mode=RunMode.MULTIRUN)
        yield loader, master


@pytest.mark.parametrize("overrides", [
    ["seed=3"], ["seed=3", "seed=4"], ["train.epochs=2", "optimizer.lr=0.5"],
    ["seed=3", "optimizer=torch_sgd", "optimizer.lr=0.1"],
    ["optimizer.lr=0.1", "optimizer=torch_sgd"],  # the value is set on the group's option
    ["train.epochs=2", "hydra.job.chdir=true"], ["+experiment=weight_decay", "seed=1"],
    ["dataset=diabetes", "dataset.standardize=true"], ["~summary", "seed=1"], ["+extra=1"],
    ["++seed=5"], ["plot={lang: zh}"], ["train.epochs=${seed}"], ["optimizer=torch_sgd"],
    ["optimizer={lr: 0.5}"], ["~optimizer.lr"], ["hydra={job: {env_copy: [HOME]}}"],
    ["seed=1", "hydra={job: {config_name: x}}"], ["seed=1", "hydra={runtime: {cwd: /x}}"],
    # what Hydra rejects, it rejects in its own words
    ["nosuch=1"], ["train.epochs=abc"], ["optimizer=lbfgs", "seed=1"], ["seed=1,2"],
    ["optimizer@x=torch_sgd"]])
def test_a_job_gets_the_config_hydra_would_compose_for_it(sweep_loader, overrides):
    from hydra_plugins.linreg_sweeper import _Composed

    loader, master = sweep_loader
    composed = _Composed(loader)
    composed.compose(master, ["seed=0"])  # a job before: its groups' composition is kept

    def outcome(compose):
        try:
            config = compose(master, overrides)
        except Exception as exc:
            return type(exc), str(exc)
        return (OmegaConf.to_yaml(config), OmegaConf.is_struct(config),
                OmegaConf.is_readonly(config.hydra))

    assert outcome(composed.compose) == outcome(loader.load_sweep_config)


def test_a_config_group_found_through_a_search_path_is_composed_as_hydra_does(
        sweep_loader, tmp_path):
    from hydra.types import RunMode
    from hydra_plugins.linreg_sweeper import _Composed

    loader, _ = sweep_loader
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "a.yaml").write_text("# @package _global_\ntrain:\n  epochs: 7\n")
    master = loader.load_configuration(
        "config", overrides=[f"hydra.searchpath=[file://{tmp_path}]"], run_mode=RunMode.MULTIRUN)
    config = _Composed(loader).compose(master, ["+more=a", "seed=1"])
    assert config.train.epochs == 7 and config.hydra.runtime.choices.more == "a"


def test_jobs_that_set_only_values_get_copies_of_their_own(sweep_loader):
    from hydra_plugins.linreg_sweeper import _Composed

    loader, master = sweep_loader
    composed = _Composed(loader)
    first, second = (composed.compose(master, [f"seed={i}"]) for i in (1, 2))
    first.hydra.job.num = 5  # as the launcher does
    assert (first.seed, second.seed) == (1, 2)
    assert OmegaConf.is_missing(second.hydra.job, "num")
    assert OmegaConf.is_missing(composed.compose(master, ["seed=1"]).hydra.job, "num")


def test_a_config_composed_by_the_check_is_given_out_once_then_composed_again():
    from hydra_plugins.linreg_sweeper import _Composed

    class Loader:
        calls = 0

        def load_sweep_config(self, master_config, sweep_overrides):
            Loader.calls += 1
            return OmegaConf.create({"overrides": sweep_overrides, "call": Loader.calls})

    loader = _Composed(Loader())
    for overrides in (["seed=1"], ["seed=1"], ["seed=2"]):  # the sweeper's check of a batch
        loader.keep(OmegaConf.create(), overrides)
    assert Loader.calls == 3
    # the launcher, job by job: a repeated job gets a config of its own
    configs = [loader.load_sweep_config(OmegaConf.create(), o)
               for o in (["seed=1"], ["seed=1"], ["seed=2"])]
    assert [c.call for c in configs] == [1, 2, 3] and Loader.calls == 3
    assert loader.load_sweep_config(OmegaConf.create(), ["seed=1"]).call == 4  # none kept
