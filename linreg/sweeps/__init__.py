"""Sweeps (`linreg -m`) and comparing runs: the Hydra callback around a sweep (callback.py), its
plan (plan.py), job folder names (folders.py), the summary and `linreg-compare` (compare.py),
and the watchdog of a launcher's worker (watchdog.py). linreg's Hydra sweeper itself lives in
linreg/hydra_plugins/, where Hydra finds plugins."""
