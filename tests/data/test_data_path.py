"""A data file that cannot be read is a problem with dataset.path, said in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

# root reads any file: without these capabilities it is refused as any user is
AS_ANY_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def unprivileged(probe) -> list[str]:
    """The command prefix under which `probe` cannot be read (nothing if it already cannot);
    skips the test where no such prefix exists."""
    if not os.access(probe, os.R_OK):
        return []
    if os.geteuid() == 0 and shutil.which("setpriv"):
        tried = subprocess.run([*AS_ANY_USER, sys.executable, "-c", f"open({str(probe)!r})"],
                               capture_output=True)
        if tried.returncode != 0 and b"PermissionError" in tried.stderr:
            return AS_ANY_USER
    pytest.skip("this user reads files without read permission (root without setpriv)")


def test_a_data_file_in_a_folder_without_permission(run_cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "data.csv").write_text("x,y\n1,2\n2,4\n")
    locked.chmod(0)
    try:
        prefix = unprivileged(locked / "data.csv")
        result = run_cli(tmp_path, "dataset=csv", "dataset.path=locked/data.csv",
                         command=[*prefix, sys.executable, "-m", "linreg"])
    finally:
        locked.chmod(0o700)  # for pytest to clean up
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line == (f"linreg: error: {tmp_path}/locked/data.csv: cannot be opened "
                    "(Permission denied) (dataset.path)")
    assert not (tmp_path / "outputs").exists()
