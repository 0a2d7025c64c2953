"""AdamW: Adam with decoupled weight decay, as ``torch.optim.AdamW``.

Each step first shrinks every parameter, ``W = W (1 - lr weight_decay)``, then takes Adam's
step (:mod:`._adam`, the same state ``v{key}``, ``s{key}``, ``t``) from the shrunk value, in
torch's order (Loshchilov and Hutter, 2019). Every parameter decays, biases too: what
``torch.optim.AdamW(model.parameters(), ...)`` does with all of a model's parameters. The L2
option (``l2``) is separate: it adds ``l2 / m W`` to the weights' gradients.
"""

from __future__ import annotations

from typing import Any

from portable_nn.core.optimizers import _adam
from portable_nn.core.optimizers._base import Optimizer, Params, State

NAME = "adamw"
HYPERPARAMS = ("beta1", "beta2", "epsilon", "weight_decay")


def make(*, beta1: float, beta2: float, epsilon: float, weight_decay: float) -> Optimizer:
    """AdamW: ``W = W (1 - lr weight_decay)``, then Adam's step with ``beta1, beta2, epsilon``."""
    adam = _adam.make(beta1=beta1, beta2=beta2, epsilon=epsilon)
    weight_decay = float(weight_decay)

    def update(params: Params, grads: Params, state: State, learning_rate: Any, *,
               xp: Any) -> tuple[Params, State]:
        shrink = 1.0 - learning_rate * weight_decay
        decayed = {key: value * shrink for key, value in params.items()}
        return adam.update(decayed, grads, state, learning_rate, xp=xp)

    return Optimizer(adam.init, update)
