"""Plain gradient descent: ``W = W - lr dW``, no state."""

from __future__ import annotations

from typing import Any

from portable_nn.core.optimizers._base import Optimizer, Params, State

NAME = "gd"
HYPERPARAMS: tuple[str, ...] = ()


def descend(params: Params, grads: Params, learning_rate: Any) -> Params:
    """``value - learning_rate * d{key}`` for every parameter: new arrays, none written."""
    return {key: value - learning_rate * grads[f"d{key}"] for key, value in params.items()}


def make() -> Optimizer:
    """Plain gradient descent (no hyperparameters, empty state)."""

    def init(params: Params, *, xp: Any) -> State:
        return {}

    def update(params: Params, grads: Params, state: State, learning_rate: Any, *,
               xp: Any) -> tuple[Params, State]:
        return descend(params, grads, learning_rate), state

    return Optimizer(init, update)
