"""Hydra config tree; shipped inside the package as `linreg.conf` so `pkg://linreg.conf` resolves once installed."""
