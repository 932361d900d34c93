"""The lesson figures: trajectory.png (surface, path, minimum), loss.png with the validation
curve, fit.png back in raw units, and plot.lang=zh with a CJK font or one clear fallback."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from linreg.config import validate
from linreg.data import Data, load
from linreg.exact import least_squares
from linreg.figures import fit as fit_figure
from linreg.figures import loss_curves, pictures, style, trajectory
from linreg.init import initial_params
from linreg.loss import MAE, MSE, Huber
from linreg.optim import build as build_optimizer
from linreg.runner import run
from linreg.train import train


@pytest.fixture
def spy(monkeypatch):
    """Record the arguments and the Figure of every figure a run draws (the real ones)."""
    calls: dict[str, list] = {}

    def wrap(module, name):
        real = getattr(module, name)

        def recorder(*args, **kwargs):
            fig = real(*args, **kwargs)
            calls.setdefault(name, []).append((args, kwargs, fig))
            return fig

        monkeypatch.setattr(module, name, recorder)

    for module, name in ((fit_figure, "draw_fit"), (loss_curves, "draw_loss"),
                         (trajectory, "draw_trajectory")):
        wrap(module, name)
    return calls


def legend_texts(fig) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def is_picture(path) -> bool:
    image = imread(path)
    return image.ndim == 3 and image.shape[0] > 400 and float(image[..., :3].std()) > 0.05


# --- trajectory.png ---------------------------------------------------------------------------


def test_a_one_feature_run_draws_its_path_step_by_step(compose_config, tmp_path, spy):
    result = run(compose_config(["train.epochs=5"]), tmp_path)
    assert is_picture(tmp_path / "trajectory.png")
    ((args, _, fig),) = spy["draw_trajectory"]
    picture = args[1]
    assert len(picture.route) == result["steps"] + 1 == 36 and picture.steps_per_epoch == 7
    assert picture.route[0] == (0.5, 0.0)  # the tutorial's start
    assert picture.route[-1] == (*result["w"], result["b"])
    texts = legend_texts(fig)
    assert any(t.startswith("least squares: w = 24.045, b = 15.615") for t in texts)
    assert any(t.startswith("true: w = 23.764, b = 12.000") for t in texts)
    assert any("(35 steps)" in t for t in texts)
    ax = fig.axes[0]
    assert ax.get_aspect() == 1.0  # w and b in the same units: the surface's true shape


def test_the_trace_is_the_parameters_after_every_step(compose_config):
    settings = validate(compose_config(["train.epochs=3", "optimizer.momentum=0.9"]))
    data = load(settings.dataset)
    w, b = initial_params(settings.init, 1, 0)
    opt = build_optimizer(settings.optimizer, [w, b], 16)
    traced = train(data, w, b, MSE(), opt, settings.train, 0, trace_steps=True)
    w2, b2 = initial_params(settings.init, 1, 0)
    opt2 = build_optimizer(settings.optimizer, [w2, b2], 16)
    plain = train(data, w2, b2, MSE(), opt2, settings.train, 0)
    assert plain.path == [] and plain.w == traced.w  # tracing changes no number
    assert [traced.path[7 * (e + 1)] for e in range(3)] == [
        [*w_e, b_e] for w_e, b_e in zip(traced.w, traced.b, strict=True)]


def test_long_runs_draw_the_path_per_epoch(compose_config, tmp_path, spy, monkeypatch):
    monkeypatch.setattr(pictures, "MAX_TRACED_STEPS", 10)
    run(compose_config(["train.epochs=4"]), tmp_path)
    ((args, _, _),) = spy["draw_trajectory"]
    assert len(args[1].route) == 5 and args[1].steps_per_epoch == 1


def test_a_diverging_path_leaves_a_readable_frame(compose_config, tmp_path, spy):
    result = run(compose_config(["optimizer.lr=1.5"]), tmp_path)
    assert result["status"] == "diverged"
    ((_, _, fig),) = spy["draw_trajectory"]
    lo, hi = fig.axes[0].get_xlim()
    assert np.isfinite([lo, hi]).all() and hi - lo < 1000  # framed on the start and minimum
    assert any("outside the frame" in t for t in legend_texts(fig))
    assert is_picture(tmp_path / "trajectory.png")


def test_several_features_draw_no_trajectory(compose_config, tmp_path):
    run(compose_config(["dataset.n_features=2", "train.epochs=2"]), tmp_path)
    assert not (tmp_path / "trajectory.png").exists()
    assert (tmp_path / "fit.png").is_file()


@pytest.mark.parametrize("loss", [MSE(), MAE(), Huber(2.0)], ids=["mse", "mae", "huber"])
def test_the_surface_is_the_runs_own_loss(loss):
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(50, 1, generator=gen) * 2 + 1
    y = 3 * X - 1 + torch.randn(50, 1, generator=gen)
    data = Data(X=X, y=y)
    W, B = torch.meshgrid(torch.linspace(0, 5, 4, dtype=torch.float64),
                          torch.linspace(-3, 2, 3, dtype=torch.float64), indexing="ij")
    Z = pictures.loss_surface(data, loss, W, B)
    for i in range(4):
        for j in range(3):
            r = X.double() * W[i, j] + B[i, j] - y.double()
            assert float(Z[i, j]) == pytest.approx(float(loss(r)), rel=1e-9)


def test_the_lowest_point_is_marked_for_robust_losses(compose_config, tmp_path, spy):
    run(compose_config(["loss=mae", "dataset.outliers=0.1", "train.epochs=2"]), tmp_path)
    ((_, _, fig),) = spy["draw_trajectory"]
    assert any(t.startswith("lowest mae on the grid") for t in legend_texts(fig))


def test_ridge_is_marked_with_weight_decay(compose_config, tmp_path, spy):
    run(compose_config(["optimizer.weight_decay=0.5", "train.epochs=2"]), tmp_path)
    ((_, _, fig),) = spy["draw_trajectory"]
    assert any(t.startswith("ridge: SGD's limit") for t in legend_texts(fig))


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_without_an_intercept_the_trajectory_is_a_curve_over_w(compose_config, tmp_path, spy,
                                                                loss):
    """No b to draw: the loss over w at b = 0, the path of w along it, the exact minimum."""
    result = run(compose_config(["model.intercept=false", f"loss={loss}", "train.epochs=5",
                                 "optimizer.weight_decay=0.1"]), tmp_path)
    assert is_picture(tmp_path / "trajectory.png")
    ((args, _, fig),) = spy["draw_trajectory"]
    picture = args[1]
    assert picture.b_axis is None and picture.loss.shape == picture.w_axis.shape
    assert [b for _, b in picture.route] == [0.0] * 36 and picture.route[-1][0] == result["w"][0]
    data = load(validate(compose_config([])).dataset)
    loss_fn = MSE() if loss == "mse" else Huber(1.0)

    def at(w: float) -> float:
        return float(loss_fn(data.X.double() * w - data.y.double()))

    assert picture.route_loss[-1] == pytest.approx(at(result["w"][0]), rel=1e-12)
    i = len(picture.w_axis) // 3
    assert picture.loss[i] == pytest.approx(at(float(picture.w_axis[i])), rel=1e-12)
    ols = least_squares(data.X, data.y, intercept=False)
    want = ols.mse if loss == "mse" else at(float(ols.w))
    assert picture.ols == (float(ols.w), 0.0) and picture.ols_loss == pytest.approx(want)
    ax = fig.axes[0]
    assert ax.get_ylabel() == f"loss ({loss})" and ax.get_title().startswith("Loss over w")
    texts = legend_texts(fig)
    assert any(t.startswith(f"least squares: w = {float(ols.w):.3f}") for t in texts)
    assert any(t.startswith("true w = 23.764") for t in texts)
    assert any(t.startswith("ridge") for t in texts) == (loss == "mse")
    lines = [line for line in ax.get_lines() if line.get_label() == f"loss ({loss})"]
    assert len(lines) == 1 and len(lines[0].get_xdata()) == pictures.CURVE_POINTS


# --- loss.png and fit.png -----------------------------------------------------------------


def test_loss_png_draws_the_validation_curve_only_with_validation_rows(compose_config, tmp_path,
                                                                        spy):
    run(compose_config(["train.epochs=3", "train.val_fraction=0.25"]), tmp_path / "val")
    run(compose_config(["train.epochs=3"]), tmp_path / "plain")
    with_val, without = (legend_texts(call[2]) for call in spy["draw_loss"])
    assert "validation loss (mse)" in with_val
    assert not any("validation" in t for t in without)
    assert is_picture(tmp_path / "val" / "loss.png")


def test_fit_png_is_drawn_in_raw_units_when_standardized(compose_config, tmp_path, spy):
    result = run(compose_config(["dataset.standardize=true", "train.val_fraction=0.25"]),
                 tmp_path)
    ((_, _, fig),) = spy["draw_fit"]
    texts = legend_texts(fig)
    w, b = result["original_units"]["w"][0], result["original_units"]["b"]
    assert f"linreg fit: y = {w:.3f} x + {b:.3f}" in texts
    assert "validation rows" in texts
    x_lo, x_hi = fig.axes[0].get_xlim()
    raw_x = load(validate(compose_config([])).dataset).X
    assert x_lo <= float(raw_x.min()) and float(raw_x.max()) <= x_hi


# --- plot.lang ------------------------------------------------------------------------------


@pytest.fixture
def fresh_fonts():
    """The font lookup and its one warning start afresh (they are cached per process)."""
    caches = (style._resolve, style.cjk_font)  # before a test replaces cjk_font
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


def draw_all(tmp_path, lang: str) -> list:
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(30, 1, generator=gen)
    data = Data(X=X, y=2 * X + 1, w_true=[2.0], b_true=1.0)
    ref = least_squares(data.X, data.y)
    from linreg.train import History

    history = History(train_loss=[4.0, 1.0], full_mse=[4.0, 1.0], val_loss=[5.0, 2.0],
                      w=[[1.0], [1.9]], b=[0.5, 0.9])
    fit = pictures.fit_picture(data, history, ref)
    curves = loss_curves.LossCurves(history.train_loss, history.full_mse, ref.mse, "mse",
                              history.val_loss)
    path = pictures.path_picture(data, MSE(), [[0, 0], [1, 0.5]], ref)
    return [fit_figure.draw_fit(tmp_path / "fit.png", fit, lang),
            loss_curves.draw_loss(tmp_path / "loss.png", curves, lang),
            trajectory.draw_trajectory(tmp_path / "t.png", path, lang)]


def test_without_a_cjk_font_zh_falls_back_to_english_with_one_warning(tmp_path, monkeypatch,
                                                                       fresh_fonts, caplog):
    monkeypatch.setattr(style, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        first = draw_all(tmp_path, "zh")
        draw_all(tmp_path, "zh")  # the warning is not repeated
    ours = [r for r in caplog.records if r.name == "linreg.figures.style"]
    assert len(ours) == 1 and ours[0].levelno == logging.WARNING
    assert "fonts-noto-cjk" in ours[0].getMessage()
    assert not caught  # no findfont or missing-glyph warnings
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")
                and r.levelno >= logging.WARNING]
    assert first[0].axes[0].get_title() == "Linear regression fit"


def test_with_a_cjk_font_zh_draws_the_tutorials_labels(tmp_path, fresh_fonts, caplog):
    if style.cjk_font() is None:
        pytest.skip("no CJK font on this machine (Debian: apt-get install fonts-noto-cjk)")
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        fit, loss, path = draw_all(tmp_path, "zh")
    assert not caught and not caplog.records  # every glyph found, nothing to warn about
    assert fit.axes[0].get_title() == "线性回归拟合"
    assert (fit.axes[0].get_xlabel(), fit.axes[0].get_ylabel()) == ("特征值 X", "标签值 Y")
    assert "数据点" in legend_texts(fit) and loss.axes[0].get_title() == "损失变化曲线"
    assert loss.axes[0].get_xlabel() == "轮次"
    assert path.axes[0].get_title().startswith("损失曲面")
    family = fit.axes[0].title.get_fontfamily()
    assert family[0] == style.cjk_font()


def test_english_is_the_default_and_other_languages_are_refused(compose_config):
    assert validate(compose_config([])).plot.lang == "en"
    from linreg.errors import ConfigError

    with pytest.raises(ConfigError, match=r"plot.lang: must be one of en, zh, got fr"):
        validate(compose_config(["plot.lang=fr"]))


def test_the_tutorial_preset_in_chinese_prints_no_font_noise(run_cli, tmp_path):
    done = run_cli(tmp_path, "+experiment=tutorial", "train.epochs=2")
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "findfont" not in output and "missing from" not in output.lower()
    fallback = output.count("no font with Chinese characters")
    assert fallback == (0 if style.cjk_font() else 1)


@pytest.mark.parametrize("status, words", [("diverged", "diverged at epoch 3"),
                                           ("interrupted", "interrupted after epoch 3"),
                                           ("ok", "Loss per epoch")])
def test_loss_png_title_says_how_the_run_ended(tmp_path, status, words):
    curves = loss_curves.LossCurves([300.0, 250.0, 220.0], [290.0, 240.0, 210.0], ols_mse=180.0,
                              loss_name="mse", status=status)
    fig = loss_curves.draw_loss(tmp_path / "loss.png", curves)
    assert words in fig.axes[0].get_title()
    assert set(style.LABELS["en"]) == set(style.LABELS["zh"])  # every label in both languages


def test_a_summary_with_long_names_is_widened_not_squeezed(tmp_path):
    from linreg.figures.summary import SummaryPicture, draw
    from linreg.records.runs import Job

    history = {"full_mse": [300.0, 250.0, 220.0]}
    jobs = [Job(tmp_path / str(i), {"status": "ok", "history": history},
                config={"dataset.path": f"/data/{'a_very_long_folder_name/' * 5}{i}.csv",
                        "seed": i}) for i in range(3)]
    draw(tmp_path / "summary.png", SummaryPicture(jobs, ["dataset.path", "seed"], "full_mse"))
    height, width = imread(tmp_path / "summary.png").shape[:2]
    assert height == 572 and width > 880  # 8 inches at 110 dpi, widened for the legend


def test_fit_png_draws_the_polynomial_curve_not_a_line(compose_config, tmp_path, spy):
    """dataset.poly_degree: the fitted, least-squares and true curves against x itself."""
    result = run(compose_config(["+experiment=capacity", "dataset.poly_degree=10",
                                 "train.epochs=300"]), tmp_path)
    ((_, _, fig),) = spy["draw_fit"]
    texts = legend_texts(fig)
    assert {"linreg fit (degree 10)", "least squares (degree 10)", "true curve"} <= set(texts)
    curves = {line.get_label(): line for line in fig.axes[0].get_lines()}
    fit = curves["linreg fit (degree 10)"]
    x, y = np.asarray(fit.get_xdata()), np.asarray(fit.get_ydata())
    assert len(x) == 400  # a curve, not a segment
    w, b = result["original_units"]["w"], result["original_units"]["b"]
    expected = b + sum(c * x ** (k + 1) for k, c in enumerate(w))
    assert np.allclose(y, expected, rtol=1e-4, atol=1e-3)
    true = np.asarray(curves["true curve"].get_ydata())
    assert np.allclose(true, 5 + 1.2 * x - 1.7 * x ** 2 + 5.6 / 6 * x ** 3)
    assert fig.axes[0].get_xlabel() == "x" and is_picture(tmp_path / "fit.png")


def test_loss_png_marks_early_stoppings_best_epoch(compose_config, tmp_path, spy):
    result = run(compose_config(["train.val_fraction=0.25", "optimizer.lr=0.3",
                                 "train.epochs=60", "train.early_stopping.patience=5",
                                 "train.early_stopping.restore_best=true"]), tmp_path / "es")
    run(compose_config(["train.epochs=3"]), tmp_path / "plain")
    stopped, plain = (call[2] for call in spy["draw_loss"])
    label = f"best epoch {result['best_epoch']} (early stopping), restored"
    assert label in legend_texts(stopped)
    (marker,) = [line for line in stopped.axes[0].get_lines() if line.get_label() == label]
    assert list(marker.get_xdata()) == [result["best_epoch"]] * 2
    assert not any("best epoch" in t for t in legend_texts(plain))
