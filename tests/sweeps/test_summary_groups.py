"""A sweep's summary as a user reads it: seed groups (summary_groups.csv, the ranking of groups,
mean curves with a ±1 SE band), every path on one landscape (paths.png), linreg-compare over
runs on different data, and the lessons' own ranking metric. Sweeps run in subprocesses, as a
user runs them; the figures are then rebuilt from the folders to read their labels.
"""

from __future__ import annotations

import json
import math
import statistics
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from test_sweep import linreg, read_csv, the_sweep  # the same helpers

from linreg.figures import landscape, style, summary
from linreg.records.groups import groups_of, spread_of
from linreg.records.runs import Job, find_runs, load
from linreg.sweeps import compare
from linreg.sweeps.grouped import GROUPS_FILE


def jobs_in(folder: Path) -> list[Job]:
    return sorted((load(f) for f in find_runs([folder])), key=lambda j: j.num)


def picture(folder: Path, tmp_path: Path, metric: str = "full_mse", lang: str = "en"):
    """summary.png rebuilt from the folder, as the sweep drew it: the figure, to read."""
    jobs = jobs_in(folder)
    plan = json.loads((folder / "sweep.json").read_text()) if (folder / "sweep.json").exists() \
        else {}
    keys = compare.swept_keys(jobs, plan.get("swept", []))
    return summary.draw(tmp_path / "s.png", summary.SummaryPicture(jobs, keys, metric, lang))


def legends(fig) -> list[list[str]]:
    return [[t.get_text() for t in ax.get_legend().get_texts()]
            for ax in fig.axes if ax.get_legend()]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """3 learning rates x 3 seeds: lr 1.5 diverges for every seed."""
    cwd = tmp_path_factory.mktemp("seeds")
    result = linreg(cwd, "-m", "optimizer.lr=0.01,0.5,1.5", "seed=0,1,2", "train.epochs=20")
    assert result.returncode == 0, result.stderr
    return result, the_sweep(cwd)


def test_summary_groups_csv_has_each_groups_mean_sd_and_se(seeds):
    _, folder = seeds
    rows = read_csv(folder / GROUPS_FILE)
    assert len(rows) == 3 and {r["optimizer.lr"] for r in rows} == {"0.01", "0.5", "1.5"}
    assert "seed" not in rows[0]  # the seed is what a group spans, not one of its values
    for row in rows:
        finals = []
        for job in row["jobs"].split():
            (path,) = folder.glob(f"{job}_*/metrics.json")
            m = json.loads(path.read_text())
            if m["status"] == "ok":
                finals.append(m["loss"]["full_mse"])
        assert row["n"] == "3" and row["seeds"] == "0 1 2" and int(row["n_ok"]) == len(finals)
        if len(finals) < 2:  # lr 1.5: every seed diverged, no mean to give
            assert row["full_mse_mean"] == row["full_mse_sd"] == row["full_mse_se"] == ""
            continue
        assert float(row["full_mse_mean"]) == pytest.approx(np.mean(finals), rel=1e-12)
        assert float(row["full_mse_sd"]) == pytest.approx(statistics.stdev(finals), rel=1e-12)
        assert float(row["full_mse_se"]) == pytest.approx(
            np.std(finals, ddof=1) / math.sqrt(len(finals)), rel=1e-12)


def test_the_console_ranks_groups_by_their_mean(seeds):
    result, folder = seeds
    out = result.stdout
    start = out.index("9 runs in 3 groups that differ only in seed (6 ok, 3 diverged, 0 failed)"
                      ", ranked by the mean full_mse (lower is better")
    table = out[start:].splitlines()[2:5]
    means = {r["optimizer.lr"]: float(r["full_mse_mean"] or "inf")
             for r in read_csv(folder / GROUPS_FILE)}
    best_first = sorted(means, key=means.get)
    assert [line.split()[:4] for line in table] == [
        ["1", f"{float(best_first[0]):g}", "3", "3"], ["2", f"{float(best_first[1]):g}", "3", "3"],
        ["3", "1.5", "3", "0"]]
    mean, se = table[0].split()[4], table[0].split()[6]
    row = read_csv(folder / GROUPS_FILE)[0]
    assert (mean, se) == (f"{float(row['full_mse_mean']):.4g}", f"{float(row['full_mse_se']):.4g}")


def test_summary_png_draws_each_groups_mean_with_a_band_and_marks_lr_max(seeds, tmp_path):
    _, folder = seeds
    height, width = imread(folder / "summary.png").shape[:2]
    assert 1000 < width < 1500 and height == 572
    fig = picture(folder, tmp_path)
    (texts,) = legends(fig)
    assert texts[:3] == ["lr=0.01 (3 seeds)", "lr=0.5 (3 seeds)", "lr=1.5 (3 seeds, 3 diverged)"]
    assert "mean ± 1 SE" in texts
    curves, against = fig.axes
    bands = [c for c in curves.collections if len(c.get_paths()) and len(
        c.get_paths()[0].vertices)]
    assert len(bands) == 2  # lr 0.01 and 0.5; lr 1.5 has no finished run
    # the mean curve is the mean of the seeds' histories
    group = groups_of(jobs_in(folder))[0]
    line = curves.get_lines()[0]
    histories = [j.metrics["history"]["full_mse"] for j in group.jobs]
    assert list(line.get_ydata()) == pytest.approx(np.mean(histories, axis=0), rel=1e-12)
    lr_max = group.jobs[0].metrics["diagnostics"]["lr_max"]
    assert any(t.get_text().strip() == f"full-batch stability limit lr_max = {lr_max:.3g}"
               for t in against.texts)


def test_paths_png_draws_every_path_on_the_shared_surface(seeds, tmp_path):
    _, folder = seeds
    image = imread(folder / "paths.png")
    assert 700 < image.shape[1] < 1000 and image[..., :3].std() > 0.05
    jobs = jobs_in(folder)
    pic = landscape.landscape_of(jobs, ["optimizer.lr", "seed"])
    fig = landscape.draw_landscape(tmp_path / "p.png", pic)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[:3] == ["lr=0.01 (3 seeds)", "lr=0.5 (3 seeds)", "lr=1.5 (3 seeds, 3 diverged)"]
    # the path drawn is the run's, one point per epoch, from path.json
    record = json.loads((jobs[0].folder / "path.json").read_text())
    first = fig.axes[0].get_lines()[0]
    k = record["steps_per_epoch"]
    assert list(first.get_xdata()) == [w for w, s in zip(record["w"], record["step"],
                                                          strict=True) if s % k == 0]
    assert len(record["w"]) == 20 * k + 1 <= 2100
    # its surface is the run's MSE: five means give it exactly
    x_moments = record["mse_moments"]
    w, b = jobs[0].metrics["w"][0], jobs[0].metrics["b"]
    assert landscape.mse(x_moments, np.array(w), np.array(b)) == pytest.approx(
        jobs[0].metrics["loss"]["full_mse"], rel=1e-5)


def test_plot_animate_adds_paths_gif_growing_epoch_by_epoch(tmp_path):
    from PIL import Image

    result = linreg(tmp_path, "-m", "optimizer.lr=0.01,0.1", "train.epochs=3", "plot.animate=true")
    assert result.returncode == 0, result.stderr
    folder = the_sweep(tmp_path)
    with Image.open(folder / "paths.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 4  # the start, then 3 epochs
        durations = []
        for frame in range(gif.n_frames):
            gif.seek(frame)
            durations.append(gif.info["duration"])
    assert durations[:3] == [100, 100, 100] and durations[3] >= 1500  # the end is held
    assert (folder / "paths.png").exists()


def test_runs_on_other_data_or_losses_get_no_paths_png(tmp_path):
    result = linreg(tmp_path, "-m", "loss=mse,huber", "train.epochs=2")
    assert result.returncode == 0, result.stderr
    folder = the_sweep(tmp_path)
    assert not (folder / "paths.png").exists() and not (folder / GROUPS_FILE).exists()
    assert not (folder / "paths.gif").exists()  # opt-in: plot.animate
    assert (folder / "summary.png").exists()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """16 runs, compared with linreg-compare: diabetes and synthetic x three losses x two lrs;
    three seeds of one of those configs; Huber with delta 2 on one and on three features."""
    cwd = tmp_path_factory.mktemp("mixed")
    for name, args in (("a", ["dataset=synthetic,diabetes", "loss=mse,huber,mae",
                              "optimizer.lr=0.01,0.1"]),
                       ("b", ["seed=0,1"]),
                       ("c", ["dataset.n_features=1,3", "loss=huber", "loss.delta=2.0"])):
        (cwd / name).mkdir()
        made = linreg(cwd / name, "-m", *args, "train.epochs=2")
        assert made.returncode == 0, made.stderr
    out = cwd / "cmp"
    folders = [cwd / name for name in "abc"]
    result = linreg(cwd, *map(str, folders), "--out", str(out), command="linreg-compare")
    assert result.returncode == 0, result.stderr
    return result, out, folders


def test_compare_gives_each_data_set_its_own_panel_and_plain_unique_labels(mixed, tmp_path):
    result, out, folders = mixed
    assert result.stdout.startswith("16 runs in 14 groups")
    jobs = [load(f) for f in find_runs(folders)]
    keys = compare.swept_keys(jobs)
    assert "loss.delta" in keys and "dataset.n_features" in keys
    fig = summary.draw(tmp_path / "s.png", summary.SummaryPicture(jobs, keys, "full_mse"))
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split(":")[0] for t in titles] == [
        "synthetic", "diabetes (10 features)", "synthetic (3 features)"]
    synthetic, diabetes, three = legends(fig)
    # 7 configs (the seed pair's seed 0 is the grid's first job: one group of 3), least
    # squares, the band's entry
    assert len(synthetic) == 7 + 2 and "loss=mse lr=0.01 (3 seeds)" in synthetic
    assert len(diabetes) == 6 + 1
    for texts in (synthetic, diabetes, three):
        assert len(set(texts)) == len(texts)  # no duplicate labels
        assert not [t for t in texts if t.endswith("=") or "= " in t]  # no empty key
    assert "loss=huber lr=0.1 delta=1" in synthetic and "loss=huber lr=0.01 delta=2" in synthetic
    assert "loss=mse lr=0.1" in synthetic and not [t for t in diabetes if "delta" in t]
    height, width = imread(out / "summary.png").shape[:2]
    assert width < 1300 and height == 3 * 572  # one row per data set, one panel each
    assert three == ["dataset=synthetic loss=huber lr=0.01 seed=0 n_features=3 delta=2",
                     "least squares 232.9"]  # a row of one run: all its values


def test_a_figure_stays_readable_for_many_runs(tmp_path, mixed):
    _, _, folders = mixed
    jobs = [load(f) for f in find_runs(folders)]
    many = [Job(j.folder.parent / f"{j.folder.name}-{i}", j.metrics,
                [*j.overrides, f"train.epochs={i}"], j.config, None)
            for i in range(4) for j in jobs]  # 56 runs
    fig = summary.draw(tmp_path / "s.png", summary.SummaryPicture(
        many, compare.swept_keys(many), "full_mse"))
    width, height = fig.get_size_inches() * 110  # the dpi it is saved at
    assert width < 2000 and height == pytest.approx(3 * 572)


def test_summary_png_speaks_the_runs_language(seeds, tmp_path, monkeypatch):
    monkeypatch.setattr(style, "_resolve", lambda lang: (lang, None))  # as with a CJK font
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no CJK glyphs in DejaVu Sans: the text is checked
        fig = picture(seeds[1], tmp_path, lang="zh")
    curves, against = fig.axes
    assert curves.get_title() == "全部数据的 MSE (每轮), 9 次运行"
    assert against.get_title().startswith("最终 full_mse 与 lr 的关系")
    assert "lr=0.01 (3 个种子)" in legends(fig)[0]


def test_compare_takes_the_labels_language_from_the_runs(monkeypatch, tmp_path, seeds):
    jobs = jobs_in(seeds[1])
    drawn = []
    monkeypatch.setattr(summary, "draw", lambda path, pic, lang=None: drawn.append(pic.lang))
    for job in jobs:
        job.config["plot.lang"] = "zh"
    from linreg.figures import drawing

    monkeypatch.setattr(drawing, "draw", lambda out, pictures, lang, **kw: drawn.append(lang))
    compare.summarise(jobs, tmp_path, "full_mse")
    assert drawn == ["zh"]


def test_momentum_categories_keep_the_sweeps_order_and_weight_decay_gets_symlog(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "d").mkdir()
    momentum = linreg(tmp_path / "m", "-m", "+experiment=momentum", "train.epochs=3")
    decay = linreg(tmp_path / "d", "-m", "optimizer.weight_decay=0,0.01,0.03,0.1",
                   "dataset=diabetes", "dataset.standardize=true", "train.val_fraction=0.2",
                   "train.epochs=3")
    assert momentum.returncode == decay.returncode == 0, momentum.stderr + decay.stderr
    fig = picture(the_sweep(tmp_path / "m"), tmp_path)
    against = fig.axes[1]
    assert [t.get_text() for t in against.get_xticklabels()] == [
        "plain", "momentum_05", "momentum_09", "nesterov_09"]
    assert legends(fig)[0][0] == "momentum=plain"
    assert (the_sweep(tmp_path / "m") / "paths.png").exists()
    fig = picture(the_sweep(tmp_path / "d"), tmp_path, metric="val_loss")
    curves, against = fig.axes
    assert against.get_xscale() == "symlog"
    assert [t.get_text() for t in against.get_xticklabels()] == ["0", "0.01", "0.03", "0.1"]
    assert "held out (dashed)" in curves.get_title() and "Full-data" not in curves.get_title()
    dashed = [line for line in curves.get_lines() if line.get_linestyle() == "--"
              and len(line.get_xdata()) == 3]
    assert len(dashed) == 4  # each job's validation loss


def test_robust_loss_ranks_by_the_distance_to_the_true_line(tmp_path):
    result = linreg(tmp_path, "-m", "+experiment=robust_loss")
    assert result.returncode == 0, result.stderr
    assert "ranked by wb_error (lower is better)" in result.stdout
    rows = read_csv(the_sweep(tmp_path) / "summary.csv")
    errors = {}
    for row in rows:
        m = json.loads((the_sweep(tmp_path) / row["folder"] / "metrics.json").read_text())
        errors[row["loss"]] = math.hypot(m["param_error"]["w"], m["param_error"]["b"])
    ranked = sorted(rows, key=lambda r: int(r["rank"]))
    assert [r["loss"] for r in ranked] == sorted(errors, key=errors.get)
    table = result.stdout[result.stdout.index("ranked by wb_error"):].splitlines()[2:5]
    assert [(line.split()[2], line.split()[4]) for line in table] == [
        (r["loss"], f"{errors[r['loss']]:.4g}") for r in ranked]  # rank job loss status wb_error
    assert ranked[-1]["loss"] == "mse"  # the outliers drag its line away


@pytest.mark.parametrize(("lesson", "metric"), [
    ("learning_rate", "full_mse"), ("batch_size", "full_mse"), ("init", "dist_ols"),
    ("momentum", "full_mse"), ("robust_loss", "wb_error"), ("data_size", "w_error"),
    ("standardization", "val_loss"), ("weight_decay", "val_loss"),
    ("tutorial_manual", "full_mse")])
def test_every_lesson_ranks_by_the_metric_it_is_about(compose_config, lesson, metric):
    assert compose_config([f"+experiment={lesson}"]).summary.rank_by.name == metric


def test_spread_is_the_sample_sd_and_its_standard_error():
    values = [196.1, 196.4, 197.9]
    s = spread_of(values)
    assert (s.n, s.mean) == (3, pytest.approx(statistics.mean(values)))
    assert s.sd == pytest.approx(statistics.stdev(values), rel=1e-12)
    assert s.se == pytest.approx(statistics.stdev(values) / math.sqrt(3), rel=1e-12)
    assert spread_of([2.0]) == type(s)(1, 2.0, None, None)
    assert spread_of([]).mean is None
