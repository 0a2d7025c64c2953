"""Adam: bias-corrected first and second moments of the gradients."""

from __future__ import annotations

from typing import Any

from portable_nn.core.optimizers._base import Optimizer, Params, State, zeros_state

NAME = "adam"
HYPERPARAMS = ("beta1", "beta2", "epsilon")


def make(*, beta1: float, beta2: float, epsilon: float) -> Optimizer:
    """Adam (Kingma and Ba, 2015).

    ``v = beta1 v + (1 - beta1) dW``, ``s = beta2 s + (1 - beta2) dW**2``, bias-corrected
    ``v / (1 - beta1**t)`` and ``s / (1 - beta2**t)``;
    ``W = W - lr v_hat / (sqrt(s_hat) + epsilon)``. State: ``v{key}``, ``s{key}`` (zeros at
    first) and the step count ``t`` (a Python int, 0 at first).
    """
    beta1, beta2, epsilon = float(beta1), float(beta2), float(epsilon)

    def init(params: Params, *, xp: Any) -> State:
        zeros = zeros_state("v", params, xp)
        squares = zeros_state("s", params, xp)
        return {**zeros, **squares, "t": 0}

    def update(params: Params, grads: Params, state: State, learning_rate: Any, *,
               xp: Any) -> tuple[Params, State]:
        new_params: Params = {}
        new_state: State = {}
        t = state["t"] + 1
        v_scale = 1.0 / (1.0 - beta1**t)
        s_scale = 1.0 / (1.0 - beta2**t)
        for key, value in params.items():
            g = grads[f"d{key}"]
            v = beta1 * state[f"v{key}"] + (1.0 - beta1) * g
            s = beta2 * state[f"s{key}"] + (1.0 - beta2) * (g * g)
            new_state[f"v{key}"], new_state[f"s{key}"] = v, s
            step = (v * v_scale) / (xp.sqrt(s * s_scale) + epsilon)
            new_params[key] = value - learning_rate * step
        new_state["t"] = t
        return new_params, new_state

    return Optimizer(init, update)
