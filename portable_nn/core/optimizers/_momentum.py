"""Momentum (an exponential average of the gradients): ``v = beta1 v + (1 - beta1) dW``."""

from __future__ import annotations

from typing import Any

from portable_nn.core.optimizers._base import Optimizer, Params, State, zeros_state

NAME = "momentum"
HYPERPARAMS = ("beta1",)


def make(*, beta1: float) -> Optimizer:
    """``v = beta1 v + (1 - beta1) dW``; ``W = W - lr v``; state ``v{key}`` (zeros at first)."""
    beta1 = float(beta1)

    def init(params: Params, *, xp: Any) -> State:
        return zeros_state("v", params, xp)

    def update(params: Params, grads: Params, state: State, learning_rate: Any, *,
               xp: Any) -> tuple[Params, State]:
        new_params: Params = {}
        new_state: State = {}
        for key, value in params.items():
            v = beta1 * state[f"v{key}"] + (1.0 - beta1) * grads[f"d{key}"]
            new_state[f"v{key}"] = v
            new_params[key] = value - learning_rate * v
        return new_params, new_state

    return Optimizer(init, update)
