"""Datasets and preprocessing: synthetic (unchanged defaults, n_informative, outliers), the bundled
diabetes data, CSV files and every way a CSV can be bad, the seeded validation split, and
standardization with its way back to the original units."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from linreg import data as dataset
from linreg.config import validate
from linreg.data.prepare import fit_standardizer, prepare, split
from linreg.errors import DataError
from linreg.exact import least_squares
from linreg.runner import run

# --- synthetic -----------------------------------------------------------------------------


def test_default_synthetic_data_are_the_tutorials_exactly(compose_config):
    from sklearn.datasets import make_regression

    X, y, coef = make_regression(n_samples=120, n_features=1, noise=15, coef=True, bias=12.0,
                                 random_state=42)
    data = dataset.load(validate(compose_config([])).dataset)
    # loaded as drawn, in float64; training's float32 copy is the tutorial's tensors
    assert torch.equal(data.X, torch.tensor(X, dtype=torch.float64))
    assert torch.equal(data.y, torch.tensor(y, dtype=torch.float64).reshape(-1, 1))
    trained = data.cast(torch.float32)
    assert torch.equal(trained.X, torch.tensor(X, dtype=torch.float32))
    assert torch.equal(trained.y, torch.tensor(y, dtype=torch.float32).reshape(-1, 1))
    assert data.w_true == [float(coef)] and data.b_true == 12.0


def test_the_default_run_is_unchanged(compose_config, tmp_path):
    # the numbers the single run gave before validation and standardization existed
    # (commit 1c02036), and the same with val_fraction written out as 0
    for overrides in ([], ["train.val_fraction=0", "dataset.standardize=false"]):
        result = run(compose_config(overrides), tmp_path / str(len(overrides)))
        assert result["w"] == [24.035982131958008]
        assert result["b"] == 15.637682914733887
        assert result["loss"]["full_mse"] == 196.1288604736328
        assert result["loss"]["val"] is None and result["history"]["val_loss"] == []
        assert result["original_units"]["w"] == result["w"]


def test_n_informative_sets_how_many_true_weights_are_nonzero(compose_config):
    cfg = validate(compose_config(["dataset.n_features=6", "dataset.n_informative=2"])).dataset
    data = dataset.load(cfg)
    assert data.X.shape == (120, 6)
    assert sum(w != 0 for w in data.w_true) == 2


def test_outliers_move_a_seeded_fraction_of_targets_far_up(compose_config):
    clean = dataset.load(validate(compose_config([])).dataset)
    cfg = validate(compose_config(["dataset.outliers=0.1"])).dataset
    dirty, again = dataset.load(cfg), dataset.load(cfg)
    assert torch.equal(dirty.y, again.y)  # seeded by dataset.random_state
    assert torch.equal(dirty.X, clean.X) and dirty.w_true == clean.w_true
    moved = (dirty.y != clean.y).reshape(-1)
    assert int(moved.sum()) == 12
    shift = (dirty.y - clean.y)[moved]
    assert float(shift.min()) > 2 * float(clean.y.std())  # far off, and upwards


# --- diabetes ------------------------------------------------------------------------------


def test_diabetes_is_the_bundled_data_in_raw_units(compose_config):
    data = dataset.load(validate(compose_config(["dataset=diabetes"])).dataset)
    assert data.X.shape == (442, 10) and data.y.shape == (442, 1)
    assert data.feature_names[:4] == ["age", "sex", "bmi", "bp"]
    assert data.w_true is None
    assert float(data.X[:, 0].min()) >= 19 and float(data.X[:, 0].max()) <= 79  # age, years
    r = least_squares(data.X, data.y)
    assert 1 - r.mse / float(data.y.var(correction=0)) == pytest.approx(0.5177, abs=1e-4)


# --- CSV -----------------------------------------------------------------------------------


def write_csv(folder: Path, text: str, name: str = "data.csv") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def load_csv(compose_config, path, *extra: str) -> dataset.Data:
    return dataset.load(validate(compose_config(["dataset=csv", f"dataset.path={path}",
                                                 *extra])).dataset)


def test_csv_with_a_header_target_last_by_default(compose_config, tmp_path):
    path = write_csv(tmp_path, "a,b,y\n1,2,3\n4,5,6.5\n\n7,8,9\n")  # blank lines are skipped
    data = load_csv(compose_config, path)
    assert data.feature_names == ["a", "b"] and data.source == str(path)
    assert data.X.tolist() == [[1, 2], [4, 5], [7, 8]]
    assert data.y.reshape(-1).tolist() == [3, 6.5, 9]


def test_csv_target_and_features_chosen_by_name_other_columns_may_be_text(compose_config,
                                                                          tmp_path):
    path = write_csv(tmp_path, "name,area,rooms,price\nx,50,2,100\ny,80,3,150\n")
    data = load_csv(compose_config, path, "dataset.target=price", "dataset.features=[rooms]")
    assert data.feature_names == ["rooms"]
    assert data.X.tolist() == [[2], [3]] and data.y.reshape(-1).tolist() == [100, 150]


def test_csv_without_header_tab_separated_columns_by_number(compose_config, tmp_path):
    path = write_csv(tmp_path, "1\t10\t5\n2\t20\t6\n3\t30\t8\n")
    data = load_csv(compose_config, path, "dataset.header=false", "dataset.delimiter=tab",
                    "dataset.target=0")
    assert data.feature_names == ["1", "2"]
    assert data.X.tolist() == [[10, 5], [20, 6], [30, 8]]
    assert data.y.reshape(-1).tolist() == [1, 2, 3]


def test_csv_path_is_relative_to_where_linreg_was_started(compose_config, tmp_path,
                                                          monkeypatch):
    (tmp_path / "sub").mkdir()
    write_csv(tmp_path / "sub", "x,y\n1,2\n3,4\n")
    monkeypatch.chdir(tmp_path)
    data = load_csv(compose_config, "sub/data.csv")
    assert data.source == str(tmp_path / "sub" / "data.csv")


BAD_CSV = [  # (file text or None for no file, extra overrides, words the message must hold)
    (None, [], ["missing.csv", "no such file"]),
    ("", [], ["data.csv", "empty"]),
    ("x,y\n", [], ["data.csv", "no data rows"]),
    ("x,y\n1,2\n", ["dataset.target=price"], ["data.csv", "no column 'price'", "x, y"]),
    ("x,y\n1,2\n", ["dataset.features=[x,z]"], ["data.csv", "no column 'z'"]),
    ("x,y\n1,2\n3,abc\n", [], ["data.csv", "line 3", "column 'y'", "'abc' is not a number"]),
    ("x,y\n1,2\nnan,4\n", [], ["line 3", "column 'x'", "'nan' is not a finite number"]),
    ("x,y\n1,2\n3,inf\n", [], ["line 3", "column 'y'", "'inf' is not a finite number"]),
    ("x,y\n1,2\n,4\n", [], ["line 3", "column 'x'", "empty value"]),
    ("x,y\n1,2\n3,4,5\n", [], ["line 3", "3 fields, expected 2"]),
    ("x,x,y\n1,2,3\n", [], ["line 1", "'x' appears twice"]),
    ("x,y\n1,2\n", ["dataset.features=[y]"], ["'y' is both the target and a feature"]),
]


@pytest.mark.parametrize(("text", "extra", "words"), BAD_CSV,
                         ids=[" ".join(w[-1:]) for _, _, w in BAD_CSV])
def test_bad_csv_raises_one_line_naming_file_and_place(compose_config, tmp_path, text, extra,
                                                        words):
    path = tmp_path / "missing.csv" if text is None else write_csv(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_csv(compose_config, path, *extra)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_delimiter_must_be_one_character(compose_config, tmp_path):
    from linreg.errors import ConfigError

    path = write_csv(tmp_path, "x;y\n1;2\n")
    with pytest.raises(ConfigError, match="dataset.delimiter"):
        load_csv(compose_config, path, "dataset.delimiter=';;'")
    assert load_csv(compose_config, path, "dataset.delimiter=';'").X.tolist() == [[1]]


# --- the validation split and standardization -----------------------------------------------


def toy(n: int = 10, d: int = 2) -> dataset.Data:
    X = torch.arange(n * d, dtype=torch.float32).reshape(n, d) ** 1.5
    return dataset.Data(X=X, y=X.sum(dim=1, keepdim=True), source="toy")


def test_the_split_is_seeded_disjoint_and_keeps_row_order():
    data = toy(10)
    train, val = split(data, 0.25, seed=3)
    again, _ = split(data, 0.25, seed=3)
    other, _ = split(data, 0.25, seed=4)
    assert val.X.shape[0] == 3 and train.X.shape[0] == 7  # ceil, as scikit-learn rounds
    assert torch.equal(train.X, again.X) and not torch.equal(train.X, other.X)
    rows = {tuple(r) for r in train.X.tolist()} | {tuple(r) for r in val.X.tolist()}
    assert len(rows) == 10
    first = train.X[:, 0].tolist()
    assert first == sorted(first)
    assert split(data, 0.0, seed=3) == (data, None)  # no split: the very same data


def test_standardization_uses_training_rows_only_and_maps_back_to_raw_units():
    data = toy(20, 3)
    prepared = prepare(data, 0.25, standardize=True, seed=0, batch_size=4)
    train, val, scaler = prepared.train, prepared.val, prepared.scaler
    assert torch.allclose(train.X.double().mean(0), torch.zeros(3, dtype=torch.float64),
                          atol=1e-6)
    assert torch.allclose(train.X.double().std(0, correction=0),
                          torch.ones(3, dtype=torch.float64), atol=1e-5)
    assert not torch.allclose(val.X.mean(0), torch.zeros(3), atol=1e-3)  # not refitted on val
    # a line on standardized features and its raw-unit twin predict the same
    w, b = torch.tensor([[0.5], [-2.0], [3.0]]), torch.tensor([7.0])
    w_raw, b_raw = scaler.to_original(w, b)
    raw_val = scaler.invert(val.X).double()
    assert torch.allclose(val.X.double() @ w.double() + b, raw_val @ w_raw + b_raw, rtol=1e-5)
    w_back, b_back = scaler.from_original(w_raw, b_raw)
    assert torch.allclose(w_back.float(), w) and torch.allclose(b_back.float(), b)


def test_standardized_least_squares_in_raw_units_is_raw_least_squares(compose_config, tmp_path):
    result = run(compose_config(["dataset=diabetes", "train.val_fraction=0.2", "train.epochs=1"]),
                 tmp_path)
    data = dataset.load(validate(compose_config(["dataset=diabetes"])).dataset)
    train, _ = split(data, 0.2, seed=0)
    raw = least_squares(train.X, train.y)
    ours = result["original_units"]
    assert np.allclose(ours["w_ols"], raw.w.reshape(-1).tolist(), rtol=1e-3, atol=1e-3)
    assert ours["b_ols"] == pytest.approx(float(raw.b), rel=1e-3)
    assert result["data"]["n_train"] == 353 and result["data"]["n_val"] == 89
    assert result["data"]["standardize"] is True and len(result["data"]["mean"]) == 10


@pytest.mark.parametrize(("data", "fraction", "batch", "words"), [
    (toy(5), 0.9, 1, ["toy", "5 rows", "val_fraction=0.9", "no training rows"]),
    (toy(10), 0.5, 8, ["toy", "5 training rows", "5 held out", "batch_size=8"]),
    (toy(6), 0.0, 8, ["toy", "6 training rows", "batch_size=8"]),
])
def test_too_few_rows_for_the_split_or_a_batch(data, fraction, batch, words):
    with pytest.raises(DataError) as caught:
        prepare(data, fraction, standardize=False, seed=0, batch_size=batch)
    for word in words:
        assert word in str(caught.value)


def test_a_constant_feature_cannot_be_standardized():
    data = toy(8, 2)
    data.X[:, 1] = 3.25
    data = dataset.Data(X=data.X, y=data.y, feature_names=["a", "flat"], source="toy.csv")
    with pytest.raises(DataError, match=r"toy.csv: feature 'flat' is constant \(3.25\)"):
        fit_standardizer(data)
    prepare(data, 0.0, standardize=False, seed=0, batch_size=2)  # fine unstandardized


# --- through the command line --------------------------------------------------------------

CLI_CASES = [
    ("x,y\n1,2\n3,oops\n", [], "line 3, column 'y': 'oops' is not a number"),
    ("x,c,y\n" + "".join(f"{i},1,{2 * i}\n" for i in range(20)), [],
     "feature 'c' is constant (1) on the 20 training rows"),
    ("x,y\n" + "".join(f"{i},{i}\n" for i in range(10)), ["train.val_fraction=0.5"],
     "5 training rows (5 held out for validation) are fewer than train.batch_size=16"),
]


@pytest.mark.parametrize(("text", "extra", "expected"), CLI_CASES,
                         ids=["text", "constant", "too-few-rows"])
def test_bad_data_on_the_command_line(run_cli, tmp_path, text, extra, expected):
    write_csv(tmp_path, text)
    done = run_cli(tmp_path, "dataset=csv", "dataset.path=data.csv", *extra)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("linreg: error: ") and expected in lines[0]
    assert str(tmp_path / "data.csv") in lines[0]
    assert not list(tmp_path.glob("outputs/runs/*/*"))


def test_a_csv_run_end_to_end(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(100, 200, 64)
    rows = "".join(f"{a:.4f},{3 * a - 50 + rng.normal():.4f}\n" for a in x)
    write_csv(tmp_path, "size,price\n" + rows, name="houses.csv")
    done = run_cli(tmp_path, "dataset=csv", "dataset.path=houses.csv", "train.val_fraction=0.25",
                   "optimizer.lr=0.1")
    assert done.returncode == 0, done.stderr
    (folder,) = tmp_path.glob("outputs/runs/*/*")
    result = json.loads((folder / "metrics.json").read_text())
    assert result["data"]["features"] == ["size"] and result["data"]["n_val"] == 16
    assert result["original_units"]["w"][0] == pytest.approx(3.0, abs=0.05)
    assert result["original_units"]["b"] == pytest.approx(-50, abs=8)
    assert result["r2_val"] > 0.99
    assert (folder / "trajectory.png").is_file()


def test_a_csv_without_a_path_names_the_missing_key(compose_config):
    from linreg.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^dataset.path: required, and no value given"):
        validate(compose_config(["dataset=csv"]))


@pytest.mark.parametrize("n_samples, n_features, n_informative, noise, bias, random_state", [
    (120, 1, 10, 15.0, 12.0, 42),  # the tutorial's
    (50, 5, 3, 2.5, -1.0, 0),
    (7, 12, 10, 0.0, 0.0, 123),
    (300, 20, 20, 100.0, 5.0, 2**31 - 1),
])
def test_make_regression_copy_is_identical_to_scikit_learns(n_samples, n_features, n_informative,
                                                           noise, bias, random_state):
    from sklearn.datasets import make_regression as sklearn_make_regression

    from linreg.data.synthetic import make_regression

    ours = make_regression(n_samples, n_features, n_informative, noise, bias, random_state)
    theirs = sklearn_make_regression(n_samples=n_samples, n_features=n_features,
                                     n_informative=n_informative, noise=noise, bias=bias,
                                     coef=True, random_state=random_state)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert np.array_equal(a, b)


def test_default_run_does_not_import_scikit_learn(tmp_path):
    import subprocess
    import sys

    probe = ("import runpy, sys\n"
             "sys.argv = ['linreg', 'train.epochs=1']\n"
             "runpy.run_module('linreg', run_name='__main__')\n"
             "print('sklearn' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
