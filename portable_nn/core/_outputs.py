"""Output layers and their costs, computed stably from the pre-activation ``Z[L]``.

Every output here is paired with the cost whose gradient with respect to ``Z[L]`` is
``dZ[L] = A[L] - Y`` (divided by ``m`` in ``dW``/``db``):

- ``"sigmoid"``: mean binary cross-entropy, Y holds 0/1;
- ``"softmax"``: mean categorical cross-entropy, Y is one-hot of shape (C, m);
- ``"linear"``: half the mean squared error, ``1/(2m) * sum((A - Y)**2)`` (regression).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from portable_nn.core._activations import sigmoid
from portable_nn.core._namespace import infer_namespace

__all__ = [
    "OUTPUTS",
    "compute_cost",
    "cost_from_logits",
    "cost_from_probabilities",
    "l2_penalty",
    "output_function",
]

Array = Any


def softmax(z: Array, /, *, xp: ModuleType) -> Array:
    """Column-wise softmax, shifted by each column's maximum so that ``exp`` cannot overflow."""
    e = xp.exp(z - xp.max(z, axis=0, keepdims=True))
    return e / xp.sum(e, axis=0, keepdims=True)


def linear(z: Array, /, *, xp: ModuleType) -> Array:
    """Identity output, for regression."""
    return z


OUTPUTS = {"sigmoid": sigmoid, "softmax": softmax, "linear": linear}


def output_function(name: str) -> Any:
    """Return the output activation called ``name`` (``sigmoid``, ``softmax`` or ``linear``)."""
    try:
        return OUTPUTS[name]
    except (KeyError, TypeError):
        raise ValueError(f"output={name!r} is unknown; expected one of {sorted(OUTPUTS)}") from None


def _log_sum_exp(z: Array, /, *, xp: ModuleType) -> Array:
    top = xp.max(z, axis=0, keepdims=True)
    return top + xp.log(xp.sum(xp.exp(z - top), axis=0, keepdims=True))


def cost_from_logits(ZL: Array, Y: Array, /, *, output: str, xp: ModuleType) -> Array:
    """Mean cost over the ``m`` columns, computed from the pre-activation ``Z[L]``.

    Uses ``log(sigmoid(z)) = -softplus(-z)`` and log-softmax, so the cost stays finite even
    when the probabilities round to exactly 0 or 1. Returns a 0-d array on ``ZL``'s device.
    """
    m = ZL.shape[1]
    if output == "sigmoid":
        losses = xp.clip(ZL, min=0.0) - ZL * Y + xp.log1p(xp.exp(-xp.abs(ZL)))
        return xp.sum(losses) / m
    if output == "softmax":
        return xp.sum(Y * (_log_sum_exp(ZL, xp=xp) - ZL)) / m
    if output == "linear":
        diff = ZL - Y
        return xp.sum(diff * diff) / (2 * m)
    output_function(output)  # raises the ValueError naming the argument
    raise AssertionError("unreachable")


def cost_from_probabilities(AL: Array, Y: Array, /, *, output: str, xp: ModuleType) -> Array:
    """The lesson's cost from the output ``A[L]`` (probabilities for sigmoid and softmax).

    Probabilities are clipped into ``[tiny, 1 - eps]`` of their dtype before the logarithm, so a
    saturated output gives a large finite cost instead of ``inf``/``nan``. Prefer
    :func:`cost_from_logits` when ``Z[L]`` is at hand: it needs no clipping.
    """
    m = AL.shape[1]
    if output == "linear":
        return cost_from_logits(AL, Y, output=output, xp=xp)
    info = xp.finfo(AL.dtype)
    P = xp.clip(AL, min=float(info.smallest_normal), max=1.0 - float(info.eps))
    if output == "sigmoid":
        return -xp.sum(Y * xp.log(P) + (1.0 - Y) * xp.log1p(-P)) / m
    if output == "softmax":
        return -xp.sum(Y * xp.log(P)) / m
    output_function(output)
    raise AssertionError("unreachable")


def l2_penalty(params: dict[str, Array], l2: float, m: int, /, *, xp: ModuleType) -> Array:
    """The L2 cost term ``l2 / (2m) * sum of squared weights`` (biases are not penalised)."""
    total = 0.0
    for key, W in params.items():
        if key.startswith("W"):
            total = total + xp.sum(W * W)
    return (l2 / (2 * m)) * total


def compute_cost(
    AL: Array,
    Y: Array,
    /,
    *,
    output: str = "sigmoid",
    logits: Array | None = None,
    params: dict[str, Array] | None = None,
    l2: float = 0.0,
) -> float:
    """Mean cost of the predictions ``AL`` (shape ``(n_y, m)``) against ``Y``, as a Python float.

    Parameters
    ----------
    AL : array
        The network's output ``A[L]``.
    Y : array
        Targets of the same shape: 0/1 for sigmoid, one-hot for softmax, real for linear.
    output : str
        ``"sigmoid"`` (binary cross-entropy), ``"softmax"`` (categorical cross-entropy) or
        ``"linear"`` (half mean squared error).
    logits : array, optional
        ``Z[L]`` (``cache["Z{L}"]`` from :func:`forward`). When given, the cost is computed
        from it with log-sigmoid / log-softmax and stays finite however saturated ``AL`` is.
        Without it the probabilities are clipped away from 0 and 1 before the logarithm.
    params : dict, optional
        Needed with ``l2 > 0``: the weights whose squares are penalised.
    l2 : float
        L2 regularization strength: adds ``l2 / (2m) * sum(W**2)``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> round(pnn.compute_cost(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])), 6)
    0.693147
    """
    xp = infer_namespace(AL=AL, Y=Y, logits=logits, params=params)
    if tuple(AL.shape) != tuple(Y.shape):
        raise ValueError(f"AL and Y must have the same shape, got {tuple(AL.shape)} and "
                         f"{tuple(Y.shape)}")
    if logits is not None:
        cost = cost_from_logits(logits, Y, output=output, xp=xp)
    else:
        cost = cost_from_probabilities(AL, Y, output=output, xp=xp)
    if l2:
        if params is None:
            raise ValueError("compute_cost with l2 > 0 needs params= (the weights to penalise)")
        cost = cost + l2_penalty(params, l2, AL.shape[1], xp=xp)
    return float(cost)
