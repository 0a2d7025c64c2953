"""Nesterov momentum, as ``torch.optim.SGD(lr, momentum=beta1, nesterov=True)``.

``v = beta1 v + dW`` (no ``1 - beta1`` damping: torch's momentum buffer, unlike this
package's ``"momentum"``), then ``W = W - lr (dW + beta1 v)``. The state ``v{key}`` starts at
zeros, so the first step's ``v`` is ``dW``, torch's first buffer. scikit-learn's
``MLPClassifier`` uses this rule by default (``nesterovs_momentum=True``).
"""

from __future__ import annotations

from typing import Any

from portable_nn.core.optimizers._base import Optimizer, Params, State, zeros_state

NAME = "nesterov"
HYPERPARAMS = ("beta1",)


def make(*, beta1: float) -> Optimizer:
    """Nesterov momentum with coefficient ``beta1``; state ``v{key}``."""
    beta1 = float(beta1)

    def init(params: Params, *, xp: Any) -> State:
        return zeros_state("v", params, xp)

    def update(params: Params, grads: Params, state: State, learning_rate: Any, *,
               xp: Any) -> tuple[Params, State]:
        new_params: Params = {}
        new_state: State = {}
        for key, value in params.items():
            g = grads[f"d{key}"]
            v = beta1 * state[f"v{key}"] + g
            new_state[f"v{key}"] = v
            new_params[key] = value - learning_rate * (g + beta1 * v)
        return new_params, new_state

    return Optimizer(init, update)
