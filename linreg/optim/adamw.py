"""AdamW (Loshchilov and Hutter, 2019): `optimizer=adamw`, from scratch, and its twin
`optimizer=torch_adamw`, torch.optim.AdamW. Adam (adam.py) with the weight decay taken out of
the gradient: each step first shrinks the parameters, p = p * (1 - lr * weight_decay), and
Adam's step then uses the loss's gradient alone. Bit-identical to torch.optim.AdamW.

Why it matters: in Adam, a decay added to the gradient is divided by sqrt(v) like the rest of
it, so coordinates with large gradients are barely decayed. Decoupled, every coordinate
shrinks at the same rate. Its fixed point is no longer ridge regression's (there the gradient
of mean(r^2) + (weight_decay / 2) |p|^2 is 0); at AdamW's, weight_decay * p balances Adam's
normalised step m / (sqrt(v) + eps), which is about sign(gradient): so reference.ridge in
metrics.json is null for AdamW with weight decay (reference.ridge_note says why).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from linreg.optim.adam import Adam, TorchAdamConfig


@dataclass
class TorchAdamWConfig(TorchAdamConfig):
    """torch.optim.AdamW, with its defaults (weight_decay 0.01, where Adam's is 0)."""

    name: str = "torch_adamw"
    weight_decay: float = field(default=0.01, metadata={"ge": 0})


@dataclass
class AdamWConfig(TorchAdamWConfig):
    name: str = "adamw"


class AdamW(Adam):
    decoupled_weight_decay = True

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
