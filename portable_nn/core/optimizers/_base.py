"""What an optimizer is: a pair of pure functions, ``init`` and ``update``.

In the manner of optax's gradient transformations: the hyperparameters (plain Python floats)
are closed over by the factory that builds the pair, the state is a dict shaped like the
parameters (``v{key}`` for ``key`` in ``W1, b1, ...``, plus Python ints such as a step count
``t``), and neither function writes into an array it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Optimizer", "Params", "State", "zeros_state"]

Params = dict[str, Any]
State = dict[str, Any]


class Optimizer(NamedTuple):
    """An optimizer's two functions.

    ``init(params, *, xp) -> state``: the starting state, built with ``xp.zeros_like`` of the
    parameters only (so that the state's names can be read without arrays, see
    :func:`portable_nn.core.optimizers.state_names`).

    ``update(params, grads, state, learning_rate, *, xp) -> (new_params, new_state)``: one
    step; ``grads`` holds ``d{key}`` for every parameter ``key``; ``learning_rate`` is a
    Python float or a 0-d array (a compiled block's rate), the only value not closed over.
    """

    init: Callable[..., State]
    update: Callable[..., tuple[Params, State]]


def zeros_state(prefix: str, params: Params, xp: Any) -> State:
    """``{prefix + key: zeros like params[key]}``: a moment buffer shaped like the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> sorted(zeros_state("v", {"W1": np.ones((1, 2)), "b1": np.ones((1, 1))}, np))
    ['vW1', 'vb1']
    """
    return {f"{prefix}{key}": xp.zeros_like(value) for key, value in params.items()}
