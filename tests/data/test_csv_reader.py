"""The CSV reader's two passes: the fast one (Arrow, csvfast.py) reads clean files, and where it
reads a file at all, it reads what the slow one (the csv module and float(), csvrows.py) reads,
to the bit; everything else goes to the slow pass, which names the line and column."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linreg.data import csvfile
from linreg.data.csvfast import CannotRead
from linreg.errors import DataError


def read(path: Path, *, slow: bool = False, **options):
    """read_csv's (names, X, y), or its DataError's text; `slow`: the slow pass alone."""
    args = dict(target=None, features=None, delimiter=",", header=True, dtype="float32")
    args.update(options)
    with pytest.MonkeyPatch.context() as patch:
        if slow:
            patch.setattr(csvfile, "read_numbers", refuse)
        try:
            _, names, X, y = csvfile.read_csv(str(path), **args)
        except DataError as exc:
            return str(exc)
    return names, X, y


def refuse(*args, **kwargs):
    raise CannotRead("the test asks for the slow pass")


def same(a, b) -> bool:
    """The same error, or the same names and the same float64 bits."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a[0] == b[0] and all(x.dtype == y.dtype and x.shape == y.shape
                                and x.tobytes() == y.tobytes()
                                for x, y in zip(a[1:], b[1:], strict=True))


def test_a_clean_file_is_read_by_the_fast_pass_alone(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(30_000, 4)) * 10.0 ** rng.integers(-30, 30, size=(30_000, 4))
    path = tmp_path / "clean.csv"
    np.savetxt(path, table, delimiter=",", fmt="%.17g", header="a,b,c,y", comments="")
    monkeypatch.setattr(csvfile, "read_slowly", refuse)  # a slow pass would fail the test
    names, X, y = read(path)
    assert names == ["a", "b", "c"] and X.flags.c_contiguous and y.flags.c_contiguous
    assert X.tobytes() == table[:, :3].tobytes() and y.tobytes() == table[:, 3].tobytes()


def test_blank_lines_and_a_quoted_header_are_skipped_by_the_fast_pass(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text('\n\n"x\n(m)",y\r\n1,2\r\n\r\n3,4\r\n')
    monkeypatch.setattr(csvfile, "read_slowly", refuse)
    names, X, y = read(path)
    assert names == ["x\n(m)"] and X.tolist() == [[1], [3]] and y.tolist() == [2, 4]


# What Arrow alone would read differently, or not complain about: each is the slow pass's
HOLES = [
    ("x,y\nTrue,1\nFalse,2\n", {}, "line 2, column 'x': 'True' is not a number"),
    ("n,x,y\na,1,2\nb,3\n", {"target": "x", "features": ["y"]}, "line 3: 2 fields, expected 3"),
    ("x,y\n1,2,3\n4,5,6\n", {}, "line 2: 3 fields, expected 2"),
    # past the header's read (8 KB of text), in a column not read as numbers
    (b"n,x,y\n" + b"a,1,2\n" * 5000 + b"\xe9,1,2\n", {"target": "y", "features": ["x"]},
     "not a UTF-8 text file"),
    ("x,y\n0x10,1\n", {}, "'0x10' is not a number"),
    ("x,y\nnan(1),1\n", {}, "'nan(1)' is not a number"),
    ("x,y\n1,2\n   \n3,4\n", {}, ["x"], ),
    ("x,y\n1_000,2\n3,4\n", {}, ["x"]),
    ("\n\nx,y\n1,2\n", {}, ["x"]),
    ('x,y\n"1\n",2\n', {}, ["x"]),
    ("\n\nx,x,y\n1,2,3\n", {}, "line 3: column name 'x' appears twice"),
]


@pytest.mark.parametrize(("text", "options", "expected"), HOLES,
                         ids=[str(h[2]) for h in HOLES])
def test_what_arrow_reads_otherwise_is_read_as_row_by_row(tmp_path, text, options, expected):
    path = tmp_path / "data.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    fast, slow = read(path, **options), read(path, slow=True, **options)
    assert same(fast, slow)
    if isinstance(expected, str):
        assert isinstance(fast, str) and expected in fast, fast
    else:
        assert fast[0] == expected


def many_rows(path: Path, rows: int, bad: str | None = None, at: int | None = None) -> None:
    lines = [f"{i % 97}.25,{i % 89}.5\n" for i in range(rows)]
    if bad is not None:
        lines[at] = bad
    path.write_text("x,y\n" + "".join(lines))


@pytest.mark.parametrize(("bad", "says"), [
    ("1,oops\n", ", column 'y': 'oops' is not a number"),
    ("1e39,1\n", ", column 'x': '1e39' is beyond float32's range, ±3.4e+38 (training computes "
                 "in float32); train.dtype=float64 holds up to ±1.8e+308"),
    ("1,2,3\n", ": 3 fields, expected 2 (dataset.delimiter is ',')"),
])
def test_a_fault_far_into_a_large_file_is_found_at_its_line(tmp_path, bad, says):
    path = tmp_path / "big.csv"
    many_rows(path, 300_000, bad, at=250_000)  # many blocks past the first
    assert read(path) == f"{path}, line 250002{says}"


def test_rows_shorter_than_the_first_blocks_grow_the_arrays(tmp_path):
    long = "".join(f"{i}.123456789012345,{i}.98765432109876\n" for i in range(40_000))
    short = "".join(f"{i % 10},{i % 7}\n" for i in range(400_000))
    path = tmp_path / "mixed.csv"
    path.write_text("x,y\n" + long + short)
    names, X, y = read(path)
    assert X.shape == (440_000, 1) and y.shape == (440_000,)
    assert X[0, 0] == 0.123456789012345 and X[39_999, 0] == 39999.123456789012345
    assert X[-1, 0] == 399_999 % 10 and y[-1] == 399_999 % 7


def test_float64_training_reads_what_float32_refuses(tmp_path):
    path = tmp_path / "wide.csv"
    many_rows(path, 30_000, "1e300,2\n", at=20_000)
    assert "beyond float32's range" in read(path)
    names, X, y = read(path, dtype="float64")
    assert X[20_000, 0] == 1e300


FIELDS = st.sampled_from(["1", "-0", "2.5", "1e5", "1e-400", "1e400", "3.4e38", "3.5e38",
                          "nan", "inf", "-Infinity", "True", "1_0", " 7 ", '"8"', '"9', "",
                          "abc", "0x10", "\u0661", "1.5e", ".", "+.5", "0.1000000000000000055",
                          "é"])


@st.composite
def csv_texts(draw) -> str:
    width = draw(st.integers(2, 3))
    header = ",".join(f"c{j}" for j in range(width))
    body = draw(st.lists(st.one_of(
        st.lists(FIELDS, min_size=width, max_size=width).map(",".join),
        st.lists(FIELDS, min_size=1, max_size=4).map(",".join),  # ragged, sometimes
        st.sampled_from(["", "  ", ",,"])), min_size=0, max_size=6))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join([header, *body]) + draw(st.sampled_from(["", ending]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=csv_texts(), dtype=st.sampled_from(["float32", "float64"]))
def test_the_fast_pass_never_reads_a_file_otherwise_than_the_slow_one(text, dtype):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_text(text, encoding="utf-8", newline="")
        fast, slow = read(path, dtype=dtype), read(path, slow=True, dtype=dtype)
    assert same(fast, slow), (text, fast, slow)


def test_a_stop_during_arrows_import_waits_for_the_import_to_end():
    """STOP.held: inside the reader's interruptible block, a stop asked while pyarrow is being
    imported is raised only once the import is whole (a half-imported C extension would
    break the next run in the same process, a notebook's)."""
    import signal

    from linreg.errors import Interrupted
    from linreg.process.stopping import StopRequest

    stop = StopRequest()
    with pytest.raises(Interrupted), stop.interruptible():
        with stop.held():
            stop.ask(signal.SIGINT)  # would raise here, inside interruptible() alone
            finished = True
        pytest.fail("not raised when the held block ended")
    assert finished
