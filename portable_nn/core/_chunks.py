"""One chunk's share of the full-batch gradient, so gradients can be summed over sample chunks.

The mean cost over ``m_total`` samples is a sum over the samples, so its gradient is the sum,
over any split of the columns of ``X`` into chunks, of each chunk's summed gradient divided by
``m_total``. :func:`chunk_gradients` runs the core's own :func:`forward` and
:func:`backward_fused` (its ``scale`` the chunk's share) on one chunk and returns that share:
only one chunk's activations exist at a time, on whatever array library holds the chunk.
"""

from __future__ import annotations

import operator
from types import ModuleType
from typing import Any

from portable_nn.core._backward_fused import backward_fused
from portable_nn.core._namespace import infer_namespace
from portable_nn.core._network import forward, num_layers
from portable_nn.core._outputs import cost_from_logits

__all__ = ["chunk_gradients"]

Array = Any


def chunk_gradients(
    params: dict[str, Array],
    X: Array,
    Y: Array,
    *,
    m_total: int,
    hidden_activation: str,
    output: str,
    dropout_masks: dict[int, Array] | None = None,
    with_cost: bool = False,
    xp: ModuleType | None = None,
) -> tuple[dict[str, Array], Array | None]:
    """One chunk's share of the gradient of the mean cost over ``m_total`` samples.

    Parameters
    ----------
    params : dict
        ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}``.
    X : array
        The chunk's inputs, shape ``(n_0, m_chunk)``: some columns of the full ``X``.
    Y : array
        The chunk's targets, shape ``(n_L, m_chunk)``.
    m_total : int
        The number of samples of the whole batch the shares are summed over.
    hidden_activation, output : str
        As for :func:`forward`.
    dropout_masks : dict, optional
        ``{l: D}``, the chunk's columns of the hidden layers' inverted-dropout masks.
    with_cost : bool
        Also return the chunk's share of the cost.
    xp : namespace, optional
        The array namespace; inferred from every array (``params``, ``X``, ``Y``, the masks;
        ``TypeError`` when they mix libraries) when omitted, unchecked when given.

    Returns
    -------
    grads : dict
        ``{"dW1": ..., "db1": ..., ...}``: the chunk's summed gradient divided by ``m_total``,
        so the sum over all chunks is the mean gradient :func:`backward` computes. No L2 term:
        add ``l2 / m_total * W`` once to the sum.
    cost_share : array or None
        With ``with_cost``, a 0-d array: the chunk's summed loss divided by ``m_total`` (no L2
        penalty), so the shares sum to the mean cost. Otherwise ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> params = pnn.init_params((2, 3, 1), seed=0)
    >>> X, Y = np.arange(10.0).reshape(2, 5), np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    >>> parts = [chunk_gradients(params, X[:, i:i + 2], Y[:, i:i + 2], m_total=5,
    ...                          hidden_activation="tanh", output="sigmoid")[0]
    ...          for i in range(0, 5, 2)]
    >>> _, cache = pnn.forward(params, X)
    >>> full = pnn.backward(params, cache, Y)
    >>> bool(np.allclose(sum(p["dW1"] for p in parts), full["dW1"], rtol=1e-12))
    True
    """
    m_total = _check_m_total(m_total, X)
    if xp is None:
        xp = infer_namespace(X=X, Y=Y, params=params, dropout_masks=dropout_masks)
    m_chunk = X.shape[1]
    share = m_chunk / m_total  # backprop divides by m_chunk: scale its mean into a share
    _, cache = forward(params, X, hidden_activation=hidden_activation, output=output,
                       dropout_masks=dropout_masks, xp=xp)
    cost = None
    if with_cost:
        ZL = cache[f"Z{num_layers(params)}"]
        cost = cost_from_logits(ZL, Y, output=output, xp=xp) * share
    grads = backward_fused(params, cache, Y, hidden_activation=hidden_activation, output=output,
                           scale=share, xp=xp)
    return grads, cost


def _check_m_total(m_total: Any, X: Array) -> int:
    try:
        value = operator.index(m_total)
    except TypeError:
        raise TypeError(f"m_total must be an int, got {m_total!r}") from None
    if value < 1 or value < X.shape[1]:
        raise ValueError(
            f"m_total={value} must be >= 1 and at least the chunk's {X.shape[1]} columns")
    return value
