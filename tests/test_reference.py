"""linreg.reference against certified and exact answers.

Three kinds of truth:
- NIST's certified values for the StRD files in shared/reference/strd (skipped if absent),
- exact rational arithmetic (fractions.Fraction) on the very float64 numbers the method gets:
  the normal equations solved exactly are the exact least squares answer, to any digit,
- problems whose exact answer is known by construction (NIST's NoInt1, NoInt2 and Wampler2
  are small enough to type in: their data are integers or a formula).
Agreement is counted as NIST does (linreg.strd.digits: log relative error, capped at 15), and
every StRD and synthetic case is also scored for numpy.linalg.lstsq, which ours must match or
beat. Run with -s to see the table of digits.
"""

from __future__ import annotations

import json
import math
import warnings
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from linreg import reference
from linreg.reference import strd

STRD = Path(__file__).parents[1].parent / "shared" / "reference" / "strd"

# the floors: digits of (coefficients, standard errors, R^2, residual SD)
FLOORS = {"Norris": (9, 6, 9, 9), "Longley": (9, 6, 9, 9), "Wampler1": (9, 6, 9, 9)}
EXACT_FLOOR = 12  # where the truth is exact for the float64 data we give, demand more

# ---------------------------------------------------------------------------------------------
# exact arithmetic


def exact_solve(G: list[list[Fraction]], H: list[list[Fraction]]) -> list[list[Fraction]]:
    """G^-1 H by Gauss-Jordan elimination in exact rationals."""
    p = len(G)
    M = [list(G[i]) + list(H[i]) for i in range(p)]
    for col in range(p):
        pivot = next(r for r in range(col, p) if M[r][col] != 0)
        M[col], M[pivot] = M[pivot], M[col]
        inv = 1 / M[col][col]
        M[col] = [v * inv for v in M[col]]
        for r in range(p):
            if r != col and M[r][col] != 0:
                factor = M[r][col]
                M[r] = [a - factor * b for a, b in zip(M[r], M[col], strict=True)]
    return [row[p:] for row in M]


def exact_fit(X, y, intercept: bool = True, penalty=None, decay_bias: bool = True) -> dict:
    """The exact least squares (or ridge) answer for these float64 numbers."""
    X = np.asarray(X, dtype=np.float64)
    A = [[Fraction(float(v)) for v in row] + ([Fraction(1)] if intercept else []) for row in X]
    yy = [Fraction(float(v)) for v in y]
    n, p = len(A), len(A[0])
    G = [[sum(A[i][a] * A[i][b] for i in range(n)) for b in range(p)] for a in range(p)]
    if penalty is not None:
        for a in range(p):
            if decay_bias or not intercept or a < p - 1:
                G[a][a] += Fraction(penalty)
    h = [[sum(A[i][a] * yy[i] for i in range(n))] for a in range(p)]
    theta = [row[0] for row in exact_solve(G, h)]
    resid = [yy[i] - sum(A[i][j] * theta[j] for j in range(p)) for i in range(n)]
    rss = sum(r * r for r in resid)
    centre = sum(yy) / n if intercept else 0
    tss = sum((v - centre) ** 2 for v in yy)
    truth = {"theta": theta, "rss": rss, "r2": 1 - rss / tss}
    if penalty is None:
        inverse = exact_solve(G, [[Fraction(int(i == j)) for j in range(p)] for i in range(p)])
        s2 = rss / (n - p)
        truth["s2"] = s2
        truth["var"] = [s2 * inverse[j][j] for j in range(p)]
    return truth


def to_decimal(c: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(c.numerator) / Decimal(c.denominator)


def sqrt_exact(c: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return to_decimal(c).sqrt()


def exact_digits(q: float, c: Fraction | Decimal, cap: float = 15.0) -> float:
    """strd.digits against an exact value."""
    c = c if isinstance(c, Decimal) else to_decimal(c)
    if not math.isfinite(q):
        return 0.0
    with localcontext() as ctx:
        ctx.prec = 60
        error = abs(Decimal(q) - c)
        if error == 0:
            return cap
        lre = -(error / abs(c)).log10() if c != 0 else -error.log10()
    return float(min(max(lre, Decimal(0)), Decimal(cap)))


# ---------------------------------------------------------------------------------------------
# scoring


def fit_numbers(fit: reference.Fit, intercept: bool) -> dict:
    theta = np.append(fit.coef, fit.intercept) if intercept else fit.coef
    se = np.append(fit.se_coef, fit.se_intercept) if intercept else fit.se_coef
    return {"theta": theta, "se": se, "r2": fit.r2, "sd": fit.resid_sd}


def numpy_lstsq(X, y, intercept: bool = True) -> dict:
    """The usual numpy route: lstsq (default rcond), its residuals, SEs from the SVD of A."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    A = np.column_stack([X, np.ones(len(y))]) if intercept else X
    n, p = A.shape
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    resid = y - A @ theta
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum()) if intercept else float(y @ y)
    sd = math.sqrt(rss / (n - p))
    _, s, Vt = np.linalg.svd(A, full_matrices=False)
    se = sd * np.sqrt(((Vt.T / s) ** 2).sum(axis=1))
    return {"theta": theta, "se": se, "r2": 1 - rss / tss, "sd": sd}


def certified_digits(numbers: dict, ds: strd.StrdDataset) -> dict:
    theta = np.append(ds.coef, ds.coef_intercept) if ds.intercept else ds.coef
    se = np.append(ds.se_coef, ds.se_intercept) if ds.intercept else ds.se_coef
    return {
        "coef": min(strd.digits(q, c) for q, c in zip(numbers["theta"], theta, strict=True)),
        "se": min(strd.digits(q, c) for q, c in zip(numbers["se"], se, strict=True)),
        "r2": strd.digits(numbers["r2"], ds.r2),
        "sd": strd.digits(numbers["sd"], ds.resid_sd),
    }


def truth_digits(numbers: dict, truth: dict) -> dict:
    theta = zip(numbers["theta"], truth["theta"], strict=True)
    se = zip(numbers["se"], truth["var"], strict=True)
    return {
        "coef": min(exact_digits(float(q), c) for q, c in theta),
        "se": min(exact_digits(float(q), sqrt_exact(v)) for q, v in se),
        "r2": exact_digits(numbers["r2"], truth["r2"]),
        "sd": exact_digits(numbers["sd"], sqrt_exact(truth["s2"])),
    }


def show(name: str, ours: dict, theirs: dict, record) -> None:
    line = "  ".join(f"{k} {ours[k]:4.1f} (lstsq {theirs[k]:4.1f})" for k in ours)
    print(f"\n{name:>18}: {line}")
    record("digits", {"ours": ours, "numpy_lstsq": theirs})


def assert_at_least(name: str, ours: dict, floors: dict, theirs: dict) -> None:
    for key, floor in floors.items():
        assert ours[key] >= floor, f"{name} {key}: {ours[key]:.1f} digits < {floor}"
        assert ours[key] >= theirs[key], (
            f"{name} {key}: {ours[key]:.1f} digits, numpy.linalg.lstsq {theirs[key]:.1f}")


# ---------------------------------------------------------------------------------------------
# NIST StRD files


@pytest.fixture
def strd_dir() -> Path:
    if not STRD.is_dir():
        pytest.skip(f"no StRD files at {STRD}")
    return STRD


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_strd_certified_values(strd_dir, name, record_property):
    """The floors against NIST's certified values; and against the exact answer for the float64
    data (the certified values are for the decimal data, which float64 rounds: `limit` digits
    is how far the exact float64 answer itself agrees with them), ours >= numpy's."""
    ds = strd.read(strd_dir / f"{name}.dat")
    X = ds.design()
    fit, lstsq = (fit_numbers(reference.least_squares(X, ds.y, ds.intercept), ds.intercept),
                  numpy_lstsq(X, ds.y, ds.intercept))
    truth = exact_fit(X, ds.y, ds.intercept)
    limit = certified_digits({"theta": [float(c) for c in truth["theta"]],
                              "se": [float(sqrt_exact(v)) for v in truth["var"]],
                              "r2": float(truth["r2"]), "sd": float(sqrt_exact(truth["s2"]))},
                             ds)
    ours, theirs = certified_digits(fit, ds), certified_digits(lstsq, ds)
    show(name, ours, theirs, record_property)
    print(f"{'':>18}  float64 data's exact answer: "
          + "  ".join(f"{k} {v:4.1f}" for k, v in limit.items()))
    for key, floor in zip(("coef", "se", "r2", "sd"), FLOORS[name], strict=True):
        assert ours[key] >= floor, f"{name} {key}: {ours[key]:.1f} digits < {floor}"
        assert ours[key] >= min(theirs[key], limit[key]) - 0.5, (
            f"{name} {key}: {ours[key]:.1f} digits, numpy.linalg.lstsq {theirs[key]:.1f}")
    ours, theirs = truth_digits(fit, truth), truth_digits(lstsq, truth)
    show(f"{name} vs exact", ours, theirs, record_property)
    assert_at_least(name, ours, dict.fromkeys(ours, EXACT_FLOOR), theirs)


def test_strd_reader(strd_dir):
    longley = strd.read(strd_dir / "Longley.dat")
    assert longley.name == "Longley" and longley.x.shape == (16, 6) and longley.intercept
    assert longley.degree is None and longley.design() is longley.x
    assert longley.coef_intercept == -3482258.63459582 and longley.coef[1] == -0.0358191792925910
    assert longley.se_intercept == 890420.383607373 and longley.resid_sd == 304.854073561965
    assert longley.r2 == 0.995479004577296 and longley.dof == 9
    assert longley.rss == 836424.055505915
    assert longley.y[0] == 60323 and longley.x[-1, -1] == 1962
    wampler = strd.read(strd_dir / "Wampler1.dat")
    assert wampler.degree == 5 and wampler.design().shape == (21, 5)
    assert wampler.design()[20, 4] == 20.0**5 and list(wampler.se_coef) == [0.0] * 5
    norris = strd.read(strd_dir / "Norris.dat")
    assert norris.x.shape == (36, 1) and norris.degree is None and norris.dof == 34


def test_strd_reader_rejects_other_files(tmp_path):
    path = tmp_path / "notes.dat"
    path.write_text("y x\n1 2\n")
    with pytest.raises(ValueError, match="notes.dat"):
        strd.read(path)


def test_digits():
    assert strd.digits(1.0, 1.0) == 15
    assert strd.digits(1.001, 1.0) == pytest.approx(3.0)
    assert strd.digits(1e-7, 0.0) == pytest.approx(7.0)
    assert strd.digits(math.nan, 1.0) == 0.0 and strd.digits(5.0, 1.0) == 0.0


# ---------------------------------------------------------------------------------------------
# StRD sets small enough to type in, with exact truth


# NoInt1: y = B1 x, x = 60..70, y = 130..140; NoInt2: (x, y) = (4, 3), (5, 4), (6, 4).
# NIST's certified values, as printed: B1, SE(B1), residual SD, R^2.
NOINT = {
    "NoInt1": (np.arange(60.0, 71.0), np.arange(130.0, 141.0),
               ("2.07438016528926", "0.165289256198347E-01", "3.56753034006338",
                "0.999365492298663")),
    "NoInt2": (np.array([4.0, 5.0, 6.0]), np.array([3.0, 4.0, 4.0]),
               ("0.727272727272727", "0.420827318078432E-01", "0.369274472937998",
                "0.993348115299335")),
}


@pytest.mark.parametrize("name", sorted(NOINT))
def test_no_intercept_strd(name, record_property):
    x, y, printed = NOINT[name]
    truth = exact_fit(x[:, None], y, intercept=False)
    # NIST's printed values agree with the exact answer, R^2 taken uncentred: 1 - rss / sum(y^2)
    exact = (truth["theta"][0], sqrt_exact(truth["var"][0]), sqrt_exact(truth["s2"]),
             truth["r2"])
    for value, c in zip(printed, exact, strict=True):
        assert exact_digits(float(value), c) >= 14
    fit = reference.least_squares(x[:, None], y, intercept=False)
    assert fit.intercept == 0.0 and fit.se_intercept is None and fit.rank == 1
    ours = truth_digits(fit_numbers(fit, False), truth)
    theirs = truth_digits(numpy_lstsq(x[:, None], y, False), truth)
    show(name, ours, theirs, record_property)
    assert_at_least(name, ours, dict.fromkeys(ours, EXACT_FLOOR), theirs)


def test_wampler2_from_its_formula(record_property):
    """Wampler2 is y = 1 + 0.1 x + ... + 0.00001 x^5 at x = 0..20, exactly (its data file
    prints these decimals): certified B = 1, 0.1, ..., 1e-5, SEs and residual SD 0, R^2 1."""
    x = np.arange(21.0)
    y = np.array([float(sum(Fraction(1, 10**k) * int(v) ** k for k in range(6))) for v in x])
    fit = reference.least_squares(reference.polynomial(x, 5), y)
    theta = np.append(fit.coef, fit.intercept)
    certified = [Fraction(1, 10**k) for k in (1, 2, 3, 4, 5, 0)]
    coef = min(exact_digits(float(q), c) for q, c in zip(theta, certified, strict=True))
    se = min(exact_digits(float(q), Fraction(0)) for q in np.append(fit.se_coef,
                                                                    fit.se_intercept))
    ours = {"coef": coef, "se": se, "r2": exact_digits(fit.r2, Fraction(1)),
            "sd": exact_digits(fit.resid_sd, Fraction(0))}
    record_property("digits", ours)
    print(f"\n{'Wampler2':>18}: " + "  ".join(f"{k} {v:4.1f}" for k, v in ours.items()))
    assert min(ours.values()) >= 9


# ---------------------------------------------------------------------------------------------
# synthetic hard problems, exact answers from Fractions


def filip_like(noise_sd: float = 100.0, seed: int = 0):
    """A degree-10 polynomial on x in [-9, -3] (Filip's range) with integer coefficients
    C(10, k) 6^(10-k), i.e. y = (x + 6)^10 + noise: terms of size 1e11 cancel to y <= 6e4, as
    Filip's do. x is a multiple of 2^-10, so the design's float64 powers are what we get."""
    rng = np.random.default_rng(seed)
    x = np.sort(-9.0 + rng.integers(0, 6 * 1024, 82) / 1024)
    noise = rng.normal(0.0, noise_sd, 82)
    y = np.array([float((Fraction(float(v)) + 6) ** 10 + Fraction(float(e)))
                  for v, e in zip(x, noise, strict=True)])
    return reference.polynomial(x, 10), y


def wampler_like(noise_sd: float, seed: int = 1):
    """Wampler's design (x = 0..20, degree 5, y = 1 + x + ... + x^5) with integer noise of this
    size added to y, as Wampler3 (2e3), Wampler4 (2e5) and Wampler5 (2e7) have."""
    rng = np.random.default_rng(seed)
    x = np.arange(21.0)
    y = sum(x**k for k in range(6)) + np.round(rng.normal(0.0, noise_sd, 21))
    return reference.polynomial(x, 5), y


def degree_14():
    """Past Filip: degree 14 on the same x, condition number 3e13 once centred and scaled."""
    X, _ = filip_like()
    rng = np.random.default_rng(9)
    return reference.polynomial(X[:, 0], 14), np.sin(X[:, 0]) + rng.normal(0.0, 1e-3, 82)


SYNTHETIC = {
    "degree 14": degree_14,
    "filip-like": lambda: filip_like(),
    "filip-like, exact": lambda: filip_like(noise_sd=0.0),
    "wampler4-like": lambda: wampler_like(2.4e5),
    "wampler5-like": lambda: wampler_like(2.4e7),
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_ill_conditioned(name, record_property):
    X, y = SYNTHETIC[name]()
    truth = exact_fit(X, y)
    fit = reference.least_squares(X, y)
    assert fit.rank == X.shape[1] + 1
    ours = truth_digits(fit_numbers(fit, True), truth)
    theirs = truth_digits(numpy_lstsq(X, y), truth)
    show(name, ours, theirs, record_property)
    assert_at_least(name, ours, dict.fromkeys(ours, EXACT_FLOOR), theirs)


def test_column_varying_in_its_last_bits(record_property):
    """x = 2^55 + 8 j (j = 0..7): scaled but not centred, x and the intercept column agree to
    15 digits and the design looks singular; centred (exactly, x - mean is Sterbenz-exact), it
    is an ordinary problem."""
    rng = np.random.default_rng(8)
    X = np.column_stack([2.0**55 + 8 * rng.integers(0, 8, 30), rng.normal(size=30)])
    y = 3 + 2 * (X[:, 0] - 2.0**55) + X[:, 1] + rng.normal(size=30)
    truth = exact_fit(X, y)
    fit = reference.least_squares(X, y)
    assert fit.rank == 3
    ours = truth_digits(fit_numbers(fit, True), truth)
    theirs = truth_digits(numpy_lstsq(X, y), truth)
    show("x = 2^55 + 8j", ours, theirs, record_property)
    assert_at_least("last bits", ours, dict.fromkeys(ours, EXACT_FLOOR), theirs)


def test_no_intercept_several_columns(record_property):
    rng = np.random.default_rng(2)
    X = np.round(rng.normal(50.0, 1.0, (25, 3)) * 256) / 256  # nearly collinear, no centring
    y = X @ [3.0, -2.0, 1.0] + np.round(rng.normal(0.0, 1.0, 25) * 64) / 64
    truth = exact_fit(X, y, intercept=False)
    fit = reference.least_squares(X, y, intercept=False)
    ours = truth_digits(fit_numbers(fit, False), truth)
    theirs = truth_digits(numpy_lstsq(X, y, False), truth)
    show("no intercept, d=3", ours, theirs, record_property)
    assert_at_least("no intercept", ours, dict.fromkeys(ours, EXACT_FLOOR), theirs)
    assert fit.r2 == pytest.approx(1 - fit.rss / float(y @ y), rel=1e-12)  # uncentred


def test_floors_reject_normal_equations(strd_dir):
    """The floors are not lenient: A^T A (solve, and pinv for the standard errors, as
    linreg's model.py does today) misses them on Longley and on the Filip-like polynomial."""

    def normal_equations(X, y):
        A = np.column_stack([X, np.ones(len(y))])
        G = A.T @ A
        theta = np.linalg.solve(G, A.T @ y)
        resid = y - A @ theta
        sd = math.sqrt(resid @ resid / (A.shape[0] - A.shape[1]))
        tss = ((y - y.mean()) ** 2).sum()
        return {"theta": theta, "se": sd * np.sqrt(np.abs(np.diag(np.linalg.pinv(G)))),
                "r2": 1 - resid @ resid / tss, "sd": sd}

    longley = strd.read(strd_dir / "Longley.dat")
    got = certified_digits(normal_equations(longley.design(), longley.y), longley)
    assert got["se"] < FLOORS["Longley"][1]
    X, y = filip_like()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LinAlgWarning-free numpy, but be safe
        got = truth_digits(normal_equations(X, y), exact_fit(X, y))
    assert got["coef"] < 7


# ---------------------------------------------------------------------------------------------
# ridge


@pytest.mark.parametrize("decay_bias", [True, False])
@pytest.mark.parametrize("penalty", [3.0, 1e-4])
def test_ridge_exact(strd_dir, penalty, decay_bias):
    """Longley (ill-conditioned) with a penalty: against the exact rational solution of
    (A^T A + penalty D) theta = A^T y."""
    ds = strd.read(strd_dir / "Longley.dat")
    truth = exact_fit(ds.x, ds.y, penalty=penalty, decay_bias=decay_bias)
    fit = reference.ridge(ds.x, ds.y, penalty, decay_bias=decay_bias)
    theta = np.append(fit.coef, fit.intercept)
    assert min(exact_digits(float(q), c) for q, c in zip(theta, truth["theta"], strict=True)
               ) >= EXACT_FLOOR
    assert exact_digits(fit.rss, truth["rss"]) >= EXACT_FLOOR
    assert exact_digits(fit.r2, truth["r2"]) >= EXACT_FLOOR
    assert fit.se_coef is None and fit.se_intercept is None
    assert fit.mse == fit.rss / len(ds.y)


def test_ridge_is_augmented_least_squares():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 1.0]
    y = X @ [1.0, -0.5, 2.0, 0.3] + 4.0 + rng.normal(size=40)
    A = np.column_stack([X, np.ones(40)])
    for decay_bias in (True, False):
        D = np.eye(5) if decay_bias else np.diag([1.0, 1.0, 1.0, 1.0, 0.0])
        penalty = 7.5
        augmented = np.linalg.lstsq(np.vstack([A, math.sqrt(penalty) * D]),
                                    np.concatenate([y, np.zeros(5)]), rcond=None)[0]
        fit = reference.ridge(X, y, penalty, decay_bias=decay_bias)
        np.testing.assert_allclose(np.append(fit.coef, fit.intercept), augmented, rtol=1e-12)
    no_bias = reference.ridge(X, y, 7.5, intercept=False)
    augmented = np.linalg.lstsq(np.vstack([X, math.sqrt(7.5) * np.eye(4)]),
                                np.concatenate([y, np.zeros(4)]), rcond=None)[0]
    np.testing.assert_allclose(no_bias.coef, augmented, rtol=1e-12)
    assert no_bias.intercept == 0.0
    plain = reference.least_squares(X, y)
    unpenalised = reference.ridge(X, y, 0.0)
    np.testing.assert_array_equal(unpenalised.coef, plain.coef)
    np.testing.assert_array_equal(unpenalised.se_coef, plain.se_coef)
    tiny = reference.ridge(X, y, 1e-12)
    np.testing.assert_allclose(tiny.coef, plain.coef, rtol=1e-9)
    with pytest.raises(ValueError, match="penalty"):
        reference.ridge(X, y, -1.0)


def test_ridge_is_where_sgd_with_weight_decay_goes():
    """Full-batch GD on mean(r^2) with torch's weight decay (bias included) converges to
    ridge(X, y, weight_decay_penalty(weight_decay, n))."""
    rng = np.random.default_rng(4)
    n, weight_decay = 50, 0.3
    X = rng.normal(size=(n, 3))
    y = X @ [2.0, -1.0, 0.5] + 1.5 + 0.1 * rng.normal(size=n)
    A = np.column_stack([X, np.ones(n)])
    theta = np.zeros(4)
    lr = 0.5 * reference.diagnostics(X)["lr_best"]
    for _ in range(5000):
        theta -= lr * ((2 / n) * A.T @ (A @ theta - y) + weight_decay * theta)
    fit = reference.ridge(X, y, reference.weight_decay_penalty(weight_decay, n))
    np.testing.assert_allclose(theta, np.append(fit.coef, fit.intercept), rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# diagnostics


def gd_error(A, y, lr, steps, momentum=0.0, start=None):
    """|theta_k - theta*| / |theta_0 - theta*| after full-batch (heavy-ball) GD on mean(r^2)."""
    n = A.shape[0]
    best = np.linalg.lstsq(A, y, rcond=None)[0]
    theta = np.zeros(A.shape[1]) if start is None else start.copy()
    first = np.linalg.norm(theta - best)
    buf = np.zeros_like(theta)
    for k in range(steps):
        grad = (2 / n) * A.T @ (A @ theta - y)
        buf = grad if k == 0 else momentum * buf + grad  # torch's SGD momentum
        theta = theta - lr * buf
        if np.linalg.norm(theta - best) > 1e12 * first:
            break  # diverged (and before overflowing)
    return np.linalg.norm(theta - best) / first


def small_problem():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3)) * [1.0, 2.0, 0.5] + [1.0, 0.0, -1.0]
    y = X @ [1.0, 2.0, 3.0] + 0.5 + rng.normal(size=40)
    return X, y, np.column_stack([X, np.ones(40)])


def test_diagnostics_spectrum():
    X, _, A = small_problem()
    info = reference.diagnostics(X)
    json.dumps(info, allow_nan=False)
    expected = np.linalg.eigvalsh((2 / 40) * A.T @ A)  # fine here: well-conditioned
    np.testing.assert_allclose(info["eigenvalues"], expected, rtol=1e-10)
    assert info["eig_min"] == info["eigenvalues"][0] and info["eig_max"] == info["eigenvalues"][-1]
    kappa = expected[-1] / expected[0]
    assert info["condition_number"] == pytest.approx(kappa, rel=1e-10)
    assert info["lr_max"] == pytest.approx(2 / expected[-1], rel=1e-10)
    assert info["lr_best"] == pytest.approx(2 / (expected[0] + expected[-1]), rel=1e-10)
    assert info["rate_best"] == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-10)
    assert info["rank"] == 4 and info["n_params"] == 4 and info["n_rows"] == 40
    wide = reference.diagnostics(np.random.default_rng(0).normal(size=(30, 25)))
    assert wide["eigenvalues"] is None and wide["n_params"] == 26


def test_lr_max_separates_converging_from_diverging_gd():
    X, y, A = small_problem()
    lr_max = reference.diagnostics(X)["lr_max"]
    assert gd_error(A, y, 0.99 * lr_max, 4000) < 1e-6
    assert gd_error(A, y, 1.01 * lr_max, 4000) > 1e6
    for beta in (0.5, 0.9):
        lr_max = reference.diagnostics(X, momentum=beta)["lr_max"]
        assert lr_max == pytest.approx(2 * (1 + beta) / reference.diagnostics(X)["eig_max"])
        assert gd_error(A, y, 0.99 * lr_max, 8000, momentum=beta) < 1e-6
        assert gd_error(A, y, 1.01 * lr_max, 8000, momentum=beta) > 1e6


def test_best_step_contracts_at_rate_best():
    """At lr_best the extreme eigen-directions both shrink by exactly rate_best per step; a
    step 10% smaller or larger shrinks one of them more slowly."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=40)
    A = np.column_stack([X, np.ones(40)])
    info = reference.diagnostics(X)
    _, V = np.linalg.eigh(A.T @ A)
    start = np.linalg.lstsq(A, y, rcond=None)[0] + V[:, 0] + V[:, -1]
    steps = 30
    got = gd_error(A, y, info["lr_best"], steps, start=start)
    assert got == pytest.approx(info["rate_best"] ** steps, rel=1e-6)
    for factor in (0.9, 1.1):
        assert gd_error(A, y, factor * info["lr_best"], steps, start=start) > 2 * got


def gd_decay_error(A, y, lr, steps, weight_decay, decayed, momentum=0.0):
    """gd_error's twin on mean(r^2) with torch's weight decay on the `decayed` parameters
    (a 0/1 mask): the distance to that loss's own minimum, relative to the start's."""
    n = A.shape[0]
    D = np.diag(decayed * weight_decay)
    best = np.linalg.solve((2 / n) * A.T @ A + D, (2 / n) * A.T @ y)
    theta, buf = np.zeros(A.shape[1]), np.zeros(A.shape[1])
    first = np.linalg.norm(theta - best)
    for k in range(steps):
        grad = (2 / n) * A.T @ (A @ theta - y) + D @ theta
        buf = grad if k == 0 else momentum * buf + grad
        theta = theta - lr * buf
        if np.linalg.norm(theta - best) > 1e12 * first:
            break
    return np.linalg.norm(theta - best) / first


@pytest.mark.parametrize("decay_bias", [True, False])
def test_weight_decay_is_in_the_hessian_and_its_limit(decay_bias):
    X, y, A = small_problem()
    weight_decay = 0.7  # of the order of the eigenvalues: it moves every number
    decayed = np.array([1.0, 1.0, 1.0, 1.0 if decay_bias else 0.0])
    info = reference.diagnostics(X, weight_decay=weight_decay, decay_bias=decay_bias)
    plain = reference.diagnostics(X)
    json.dumps(info, allow_nan=False)
    expected = np.linalg.eigvalsh((2 / 40) * A.T @ A + np.diag(weight_decay * decayed))
    np.testing.assert_allclose(info["eigenvalues"], expected, rtol=1e-12)
    if decay_bias:  # every eigenvalue moves up by the decay, exactly as computed
        assert info["eigenvalues"] == [v + weight_decay for v in plain["eigenvalues"]]
    assert info["condition_number"] == pytest.approx(expected[-1] / expected[0], rel=1e-12)
    assert info["lr_best"] == pytest.approx(2 / (expected[0] + expected[-1]), rel=1e-12)
    assert (info["weight_decay"], info["decay_bias"]) == (weight_decay, decay_bias)
    lr_max = info["lr_max"]
    assert lr_max == pytest.approx(2 / expected[-1], rel=1e-12) and lr_max < plain["lr_max"]
    assert gd_decay_error(A, y, 0.99 * lr_max, 4000, weight_decay, decayed) < 1e-6
    assert gd_decay_error(A, y, 1.01 * lr_max, 4000, weight_decay, decayed) > 1e6
    beta = 0.5
    lr_max = reference.diagnostics(X, momentum=beta, weight_decay=weight_decay,
                                   decay_bias=decay_bias)["lr_max"]
    assert gd_decay_error(A, y, 0.99 * lr_max, 8000, weight_decay, decayed, beta) < 1e-6
    assert gd_decay_error(A, y, 1.01 * lr_max, 8000, weight_decay, decayed, beta) > 1e6


def test_weight_decay_makes_a_singular_hessian_regular():
    X, _, _ = small_problem()
    info = reference.diagnostics(np.column_stack([X, X[:, 0]]), weight_decay=0.01)
    assert info["rank"] == 5 and info["eig_min"] == pytest.approx(0.01, rel=1e-6)
    assert info["condition_number"] == pytest.approx(info["eig_max"] / info["eig_min"])


def test_diagnostics_singular_and_bad_input():
    X, _, _ = small_problem()
    info = reference.diagnostics(np.column_stack([X, X[:, 0]]), momentum=0.9)
    json.dumps(info, allow_nan=False)
    assert info["rank"] == 4 and info["eig_min"] == 0.0 and info["condition_number"] is None
    assert info["eigenvalues"][0] == 0.0 and info["lr_best"] > 0 and 0 < info["rate_best"] < 1
    with pytest.raises(ValueError, match="momentum"):
        reference.diagnostics(X, momentum=1.0)
    with pytest.raises(ValueError):
        reference.diagnostics(X[:, 0])


# ---------------------------------------------------------------------------------------------
# rank deficiency, constant targets, bad input: no crash, no warning


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", ["constant column", "duplicated columns", "fewer rows",
                                  "zero column, no intercept"])
def test_rank_deficient_gives_minimum_norm(case):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 3)) + [0.0, 3.0, -1.0]
    y = X @ [1.0, 2.0, 3.0] + 0.5 + 0.1 * rng.normal(size=30)
    intercept = True
    if case == "constant column":
        X = np.column_stack([X, np.full(30, 0.1)])
    elif case == "duplicated columns":
        X = np.column_stack([X, X[:, 1]])
    elif case == "fewer rows":
        X, y = X[:3], y[:3]
    else:
        X, intercept = np.column_stack([X, np.zeros(30)]), False
    A = np.column_stack([X, np.ones(len(y))]) if intercept else X
    fit = reference.least_squares(X, y, intercept)
    assert fit.rank == np.linalg.matrix_rank(A) < A.shape[1]
    theta = np.append(fit.coef, fit.intercept) if intercept else fit.coef
    np.testing.assert_allclose(theta, np.linalg.pinv(A) @ y, rtol=1e-10, atol=1e-12)
    assert np.all(np.isnan(fit.se_coef))
    assert fit.dof == len(y) - fit.rank
    assert fit.rss == pytest.approx(float(((A @ theta - y) ** 2).sum()), abs=1e-9)


@pytest.mark.filterwarnings("error")
def test_constant_target_and_exact_fits():
    X, _, _ = small_problem()
    flat = reference.least_squares(X, np.full(40, 2.5))
    assert math.isnan(flat.r2)  # no variance to explain: undefined, as linreg.model.r2 says
    assert flat.intercept == pytest.approx(2.5) and np.allclose(flat.coef, 0.0, atol=1e-14)
    assert flat.rss < 1e-25
    zero = reference.least_squares(X, np.zeros(40), intercept=False)
    assert math.isnan(zero.r2) and np.all(zero.coef == 0.0)
    square = reference.least_squares(X[:4], np.arange(4.0))  # n = n_params: no residual dof
    assert square.dof == 0 and math.isnan(square.resid_sd) and np.all(np.isnan(square.se_coef))
    mean_only = reference.least_squares(np.zeros((5, 0)), np.arange(5.0))
    assert mean_only.intercept == 2.0 and mean_only.coef.shape == (0,)
    assert mean_only.se_intercept == pytest.approx(math.sqrt(2.5 / 5))


def test_bad_input_raises_value_error():
    X, y, _ = small_problem()
    with pytest.raises(ValueError, match="finite"):
        reference.least_squares(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="shape"):
        reference.least_squares(X, y[:-1])
    with pytest.raises(ValueError, match="2-D"):
        reference.least_squares(X[:, 0], y)
    with pytest.raises(ValueError, match="rescale"):
        reference.least_squares(X * 1e200, y)
    assert reference.least_squares(X, y[:, None]).coef.shape == (3,)


def test_polynomial():
    P = reference.polynomial(np.array([2.0, -3.0]), 3)
    np.testing.assert_array_equal(P, [[2.0, 4.0, 8.0], [-3.0, 9.0, -27.0]])
    with pytest.raises(ValueError):
        reference.polynomial(np.array([1.0]), 0)
