"""linreg: config-driven linear regression experiments with PyTorch, Hydra and TensorBoard.

From Python (and in a notebook), with the command's overrides as arguments:

    import linreg
    result = linreg.run("optimizer.lr=0.1")     # .metrics, .history, .run_dir, .figures
    runs = linreg.sweep("optimizer.lr=0.01,0.1")
    cfg = linreg.compose("loss=huber")          # validated, not run

See linreg/api.py.
"""

__version__ = "0.1.0"

from linreg.api import Result, Sweep, compose, run, sweep  # noqa: E402
from linreg.errors import LinregError  # noqa: E402

__all__ = ["LinregError", "Result", "Sweep", "compose", "run", "sweep", "__version__"]
