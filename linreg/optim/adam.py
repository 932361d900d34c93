"""Adam (Kingma and Ba, 2015): `optimizer=adam`, from scratch, and its twin
`optimizer=torch_adam`, torch.optim.Adam. Momentum (a moving average m of the gradients) and
RMSprop (a moving average v of their squares) together, with both averages corrected for
starting at 0: in the first steps they are too small by the factors 1 - beta^t.

    t = t + 1
    g = grad + weight_decay * p                  (adamw: p = p * (1 - lr * weight_decay))
    m = beta1 * m + (1 - beta1) * g              (lerp; m and v start at 0)
    v = beta2 * v + (1 - beta2) * g * g
    amsgrad: v_max = max(v_max, v), used for v below
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

In torch.optim.Adam's order of operations (its single-tensor code): bit-identical to it.
The step is about lr in every coordinate, whatever the size of the gradient: near the
minimum, where m and sqrt(v) shrink together, Adam keeps jittering at about lr.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from linreg.optim.base import ManualOptimizer, OptimizerConfig


@dataclass
class TorchAdamConfig(OptimizerConfig):
    """torch.optim.Adam, with its defaults."""

    name: str = "torch_adam"
    lr: float = field(default=0.001, metadata={"gt": 0})
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # each in [0, 1)
    eps: float = field(default=1e-8, metadata={"ge": 0})
    amsgrad: bool = False


@dataclass
class AdamConfig(TorchAdamConfig):
    name: str = "adam"


class Adam(ManualOptimizer):
    decoupled_weight_decay = False  # AdamW's (adamw.py)

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def update(self, p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0.0  # torch counts in a float tensor; its value is what counts
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if decay != 0:
            if self.decoupled_weight_decay:
                p.mul_(1 - lr * decay)
            else:
                grad = grad.add(p, alpha=decay)
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if group["amsgrad"]:
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = (v.sqrt() / bias_correction2_sqrt).add_(group["eps"])
        p.addcdiv_(m, denom, value=-step_size)
