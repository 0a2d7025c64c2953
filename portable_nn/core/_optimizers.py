"""Parameter updates: plain gradient descent, momentum and Adam, as pure functions.

Every update is functional (``W = W - lr * dW``): it returns new arrays and never writes into
the old ones, so it works on immutable arrays (JAX) as well as mutable ones. Optimizer state
is a plain dict of arrays on the parameters' device (plus the step count ``t`` for Adam).
Without ``xp``, the namespace is inferred from every array given (parameters, gradients,
state); arrays of different libraries are a ``TypeError`` naming them.
"""

from __future__ import annotations

from typing import Any

from portable_nn.core._namespace import infer_namespace

__all__ = ["OPTIMIZERS", "init_optimizer_state", "optimizer_step", "update"]

Array = Any
Params = dict[str, Array]

OPTIMIZERS = ("gd", "momentum", "adam")


def update(params: Params, grads: dict[str, Array], learning_rate: float) -> Params:
    """One gradient-descent step: ``W = W - learning_rate * dW`` for every parameter.

    Parameters
    ----------
    params : dict
        ``{"W1": ..., "b1": ..., ...}``.
    grads : dict
        ``{"dW1": ..., "db1": ..., ...}``, each the shape of its parameter.
    learning_rate : float
        The step size.

    Returns
    -------
    dict
        New parameters; the old arrays are left untouched.

    Raises
    ------
    TypeError
        When the parameters and gradients come from more than one array library.

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> pnn.update({"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))},
    ...            {"dW1": np.ones((1, 1)), "db1": np.ones((1, 1))}, 0.5)["W1"]
    array([[0.5]])
    """
    infer_namespace(params=params, grads=grads)
    return _descend(params, grads, learning_rate)


def _descend(params: Params, grads: dict[str, Array], learning_rate: Any) -> Params:
    return {key: value - learning_rate * grads[f"d{key}"] for key, value in params.items()}


def init_optimizer_state(optimizer: str, params: Params, /, *, xp: Any = None) -> dict[str, Any]:
    """Zero state for ``optimizer`` on the parameters' device and dtype.

    ``xp`` is inferred from the parameters when omitted. ``"gd"`` has no state (``{}``);
    ``"momentum"`` has ``v{key}``; ``"adam"`` has ``v{key}``, ``s{key}`` and the step count
    ``t`` (a Python int).

    Examples
    --------
    >>> import numpy as np
    >>> sorted(init_optimizer_state("adam", {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}))
    ['sW1', 'sb1', 't', 'vW1', 'vb1']
    """
    if optimizer == "gd":
        return {}
    if xp is None:
        xp = infer_namespace(params=params)
    zeros = {f"v{key}": xp.zeros_like(value) for key, value in params.items()}
    if optimizer == "momentum":
        return zeros
    if optimizer == "adam":
        squares = {f"s{key}": xp.zeros_like(value) for key, value in params.items()}
        return {**zeros, **squares, "t": 0}
    raise ValueError(f"optimizer={optimizer!r} is unknown; expected one of {list(OPTIMIZERS)}")


def optimizer_step(
    optimizer: str,
    params: Params,
    grads: dict[str, Array],
    state: dict[str, Any],
    learning_rate: float,
    /,
    *,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    xp: Any = None,
) -> tuple[Params, dict[str, Any]]:
    """Apply one step of ``optimizer`` and return ``(new_params, new_state)``.

    - ``"gd"``: ``W = W - lr dW``.
    - ``"momentum"``: ``v = beta1 v + (1 - beta1) dW``; ``W = W - lr v``.
    - ``"adam"``: ``v`` as momentum, ``s = beta2 s + (1 - beta2) dW**2``, bias-corrected
      ``v / (1 - beta1**t)`` and ``s / (1 - beta2**t)``; ``W = W - lr v_hat / (sqrt(s_hat) + eps)``.

    ``xp`` is the array namespace: inferred from the parameters, gradients and state arrays
    when omitted (``TypeError`` when they mix libraries), unchecked when given.

    Examples
    --------
    >>> import numpy as np
    >>> params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
    >>> grads = {"dW1": np.ones((1, 1)), "db1": np.ones((1, 1))}
    >>> state = init_optimizer_state("adam", params)
    >>> new, state = optimizer_step("adam", params, grads, state, 0.1)
    >>> new["W1"].round(6), state["t"]
    (array([[0.9]]), 1)
    """
    if xp is None:
        xp = infer_namespace(params=params, grads=grads, state=state)
    if optimizer == "gd":
        return _descend(params, grads, learning_rate), state
    new_params: Params = {}
    new_state: dict[str, Any] = {}
    if optimizer == "momentum":
        for key, value in params.items():
            v = beta1 * state[f"v{key}"] + (1.0 - beta1) * grads[f"d{key}"]
            new_state[f"v{key}"] = v
            new_params[key] = value - learning_rate * v
        return new_params, new_state
    if optimizer == "adam":
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
    raise ValueError(f"optimizer={optimizer!r} is unknown; expected one of {list(OPTIMIZERS)}")


