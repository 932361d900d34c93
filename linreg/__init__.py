"""linreg: config-driven linear regression experiments with PyTorch, Hydra and TensorBoard."""

__version__ = "0.1.0"
