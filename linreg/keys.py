"""Config keys and their values as text: `optimizer.lr`, `+optimizer.lr=0.1`, `lr`, `0.01`.

Shared by what reads runs back (records/runs.py), names job folders and ranks runs (sweeps/)
and labels summary.png (figures/summary.py); the standard library only.
"""

from __future__ import annotations

from typing import Any


def flatten(node: dict, prefix: str = "") -> dict[str, Any]:
    """{"optimizer": {"lr": 0.01}} -> {"optimizer.lr": 0.01}."""
    flat: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def split_override(override: str) -> tuple[str, str | None]:
    """`+optimizer.lr=0.1` -> ("optimizer.lr", "0.1"); `~seed` -> ("seed", None)."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value if _ else None


def short_names(keys: list[str]) -> dict[str, str]:
    """`optimizer.lr` -> `lr`, unless two keys end alike; for labels and job folder names."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: s if last.count(s) == 1 else k for k, s in zip(keys, last, strict=True)}


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
