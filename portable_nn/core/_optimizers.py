"""Parameter updates as pure functions: the optimizers of :mod:`portable_nn.core.optimizers`.

Every update is functional (``W = W - lr * dW``): it returns new arrays and never writes into
the old ones, so it works on immutable arrays (JAX) as well as mutable ones. Optimizer state
is a plain dict of arrays on the parameters' device (plus the step count ``t`` for Adam and
AdamW). Each optimizer is an ``(init, update)`` pair of its own module, built by
:func:`portable_nn.core.optimizers.make_optimizer`; the functions here name it by a string.
Without ``xp``, the namespace is inferred from every array given (parameters, gradients,
state); arrays of different libraries are a ``TypeError`` naming them.
"""

from __future__ import annotations

from typing import Any

from portable_nn.core._namespace import infer_namespace
from portable_nn.core.optimizers import OPTIMIZERS, hyperparams_of, make_optimizer

__all__ = ["OPTIMIZERS", "init_optimizer_state", "optimizer_step", "update"]

Array = Any
Params = dict[str, Array]


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
    xp = infer_namespace(params=params, grads=grads)
    return make_optimizer("gd").update(params, grads, {}, learning_rate, xp=xp)[0]


def init_optimizer_state(optimizer: str, params: Params, /, *, xp: Any = None) -> dict[str, Any]:
    """Zero state for ``optimizer`` on the parameters' device and dtype.

    ``xp`` is inferred from the parameters when omitted. ``"gd"`` has no state (``{}``);
    ``"momentum"`` and ``"nesterov"`` have ``v{key}``; ``"adam"`` and ``"adamw"`` have
    ``v{key}``, ``s{key}`` and the step count ``t`` (a Python int).

    Examples
    --------
    >>> import numpy as np
    >>> sorted(init_optimizer_state("adam", {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}))
    ['sW1', 'sb1', 't', 'vW1', 'vb1']
    """
    names = hyperparams_of(optimizer)  # raises for an unknown optimizer
    if optimizer == "gd":  # no state: nothing to infer a namespace for
        return {}
    if xp is None:
        xp = infer_namespace(params=params)
    return make_optimizer(optimizer, **dict.fromkeys(names, 0.5)).init(params, xp=xp)


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
    weight_decay: float = 0.01,
    xp: Any = None,
) -> tuple[Params, dict[str, Any]]:
    """Apply one step of ``optimizer`` and return ``(new_params, new_state)``.

    - ``"gd"``: ``W = W - lr dW``.
    - ``"momentum"``: ``v = beta1 v + (1 - beta1) dW``; ``W = W - lr v``.
    - ``"nesterov"``: ``v = beta1 v + dW``; ``W = W - lr (dW + beta1 v)``
      (``torch.optim.SGD(momentum=beta1, nesterov=True)``).
    - ``"adam"``: ``v`` as momentum, ``s = beta2 s + (1 - beta2) dW**2``, bias-corrected
      ``v / (1 - beta1**t)`` and ``s / (1 - beta2**t)``; ``W = W - lr v_hat / (sqrt(s_hat) + eps)``.
    - ``"adamw"``: ``W = W (1 - lr weight_decay)`` for every parameter, then Adam's step
      (``torch.optim.AdamW``).

    Each optimizer reads only its own hyperparameters. ``xp`` is the array namespace: inferred
    from the parameters, gradients and state arrays when omitted (``TypeError`` when they mix
    libraries), unchecked when given.

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
    given = {"beta1": beta1, "beta2": beta2, "epsilon": epsilon, "weight_decay": weight_decay}
    names = hyperparams_of(optimizer)  # raises for an unknown optimizer
    if xp is None:
        xp = infer_namespace(params=params, grads=grads, state=state)
    transform = make_optimizer(optimizer, **{name: given[name] for name in names})
    return transform.update(params, grads, state, learning_rate, xp=xp)
