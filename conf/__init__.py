"""linreg's Hydra config tree, shipped inside the package as `linreg.conf`.

Installed, `pkg://linreg.conf` resolves from site-packages: no path relative to a checkout.
"""
