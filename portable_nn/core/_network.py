"""Forward and backward propagation for a fully-connected network, in the lesson's layout.

Shapes (``m`` samples, layer sizes ``n_0 = n_x, n_1, ..., n_L``):

- ``X = A0``: ``(n_0, m)``; ``W{l}``: ``(n_l, n_{l-1})``; ``b{l}``: ``(n_l, 1)``;
- ``Z{l} = W{l} @ A{l-1} + b{l}`` and ``A{l} = g(Z{l})``: ``(n_l, m)``;
- ``dW{l}`` and ``db{l}`` have the shapes of ``W{l}`` and ``b{l}``.

The cache holds ``A0 ... AL`` and ``Z{L}`` (the output's pre-activation, for a stable cost).
Hidden derivatives are read off ``A{l}``, so hidden ``Z{l}`` need not be kept. With dropout the
cache also holds the scaled masks ``D{l}``; ``A{l}`` stays the unmasked activation.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from array_api_compat import array_namespace

from portable_nn.core._activations import activation, activation_derivative
from portable_nn.core._outputs import output_function

__all__ = ["backward", "forward", "num_layers"]

Array = Any
Params = dict[str, Array]


def num_layers(params: Params) -> int:
    """Number of layers ``L`` (the input layer is not counted)."""
    return len(params) // 2


def forward(
    params: Params,
    X: Array,
    /,
    *,
    hidden_activation: str = "tanh",
    output: str = "sigmoid",
    dropout_masks: dict[int, Array] | None = None,
    xp: ModuleType | None = None,
) -> tuple[Array, dict[str, Array]]:
    """Forward propagation: ``Z[l] = W[l] A[l-1] + b[l]``, ``A[l] = g[l](Z[l])``.

    Parameters
    ----------
    params : dict
        ``{"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL": ..., "bL": ...}``.
    X : array
        Inputs of shape ``(n_0, m)``, one column per sample.
    hidden_activation : str
        ``"tanh"``, ``"relu"``, ``"leaky_relu"`` or ``"sigmoid"``, for every hidden layer.
    output : str
        ``"sigmoid"``, ``"softmax"`` or ``"linear"``.
    dropout_masks : dict, optional
        ``{l: D}`` for hidden layers ``l``: ``A[l] * D`` is what layer ``l + 1`` sees
        (inverted dropout: ``D`` holds ``0`` or ``1 / keep_prob``).
    xp : namespace, optional
        The array namespace; inferred from ``X`` when omitted.

    Returns
    -------
    AL : array
        Output of shape ``(n_L, m)``.
    cache : dict
        ``A0 ... AL`` (each ``(n_l, m)``), ``Z{L}`` and, with dropout, ``D{l}``.

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> params = pnn.init_params((2, 4, 1), seed=0)
    >>> AL, cache = pnn.forward(params, np.zeros((2, 5)))
    >>> AL.shape, cache["A1"].shape
    ((1, 5), (4, 5))
    """
    xp = array_namespace(X) if xp is None else xp
    g = activation(hidden_activation)
    L = num_layers(params)
    keys = _keys(L)
    cache: dict[str, Array] = {"A0": X}
    A = X
    for layer in range(1, L):
        Z = params[keys.W[layer]] @ A
        Z += params[keys.b[layer]]  # in place on the fresh product: one (n_l, m) temporary fewer
        A = g(Z, xp=xp)
        cache[keys.A[layer]] = A
        if dropout_masks is not None and layer in dropout_masks:
            cache[keys.D[layer]] = dropout_masks[layer]
            A = A * dropout_masks[layer]
    ZL = params[keys.W[L]] @ A
    ZL += params[keys.b[L]]
    AL = output_function(output)(ZL, xp=xp)
    cache[keys.Z[L]] = ZL
    cache[keys.A[L]] = AL
    return AL, cache


def backward(
    params: Params,
    cache: dict[str, Array],
    Y: Array,
    /,
    *,
    hidden_activation: str = "tanh",
    output: str = "sigmoid",
    l2: float = 0.0,
    scale: Any = 1.0,
    xp: ModuleType | None = None,
) -> dict[str, Array]:
    """Backward propagation of the mean cost through the whole network.

    ``dZ[L] = A[L] - Y`` (true for sigmoid + cross-entropy, softmax + categorical
    cross-entropy and linear + half squared error), then for ``l = L ... 1``:
    ``dW[l] = (1/m) dZ[l] A[l-1]^T (+ (l2/m) W[l])``,
    ``db[l] = (1/m) sum(dZ[l], axis=1, keepdims=True)``,
    ``dZ[l-1] = W[l]^T dZ[l] * g'(A[l-1])``.

    Parameters
    ----------
    params : dict
        The parameters the forward pass used.
    cache : dict
        The cache returned by :func:`forward`.
    Y : array
        Targets of shape ``(n_L, m)``.
    hidden_activation, output : str
        As given to :func:`forward`.
    l2 : float
        L2 regularization strength (``0.0``: none).
    scale : float or 0-d array
        Every gradient is multiplied by ``scale`` (default 1). ``train`` passes the learning
        rate of plain gradient descent: one multiplication of the output error replaces one
        per parameter.
    xp : namespace, optional
        The array namespace; inferred from ``Y`` when omitted.

    Returns
    -------
    dict
        ``{"dW1": ..., "db1": ..., ...}``, each the shape of its parameter (times ``scale``).

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> params = pnn.init_params((2, 3, 1), seed=0)
    >>> X, Y = np.ones((2, 4)), np.ones((1, 4))
    >>> AL, cache = pnn.forward(params, X)
    >>> grads = pnn.backward(params, cache, Y)
    >>> grads["dW1"].shape, grads["db2"].shape
    ((3, 2), (1, 1))
    """
    xp = array_namespace(Y) if xp is None else xp
    g_prime = activation_derivative(hidden_activation)
    times_g_prime = _TIMES_DERIVATIVE.get(hidden_activation)
    L = num_layers(params)
    m = Y.shape[1]
    inv_m = 1.0 / m
    grads: dict[str, Array] = {}
    # dZ carries the 1/m of the mean cost from the top: scaling the (n_L, m) output error once
    # makes every dW, db and lower dZ come out already divided by m (no per-layer scaling).
    keys = _keys(L)
    dZ = cache[keys.A[L]] - Y
    dZ *= inv_m * scale
    # db = sum(dZ, axis=1) as dZ @ ones: one matrix-vector product is cheaper than a reduction
    ones = xp.ones_like(dZ[:1, :]).T
    for layer in range(L, 0, -1):
        A_prev = cache[keys.A[layer - 1]]
        mask = cache.get(keys.D[layer - 1])
        seen = A_prev if mask is None else A_prev * mask
        W = params[keys.W[layer]]
        dW = dZ @ seen.T
        if l2:
            dW = dW + ((l2 * inv_m) * scale) * W
        grads[keys.dW[layer]] = dW
        grads[keys.db[layer]] = dZ @ ones
        if layer > 1:
            # dA is a fresh product owned here, so it is updated in place (standard in-place
            # operators; JAX rebinds): no (n_l, m) temporaries beyond the derivative's.
            dA = W.T @ dZ
            if mask is not None:
                dA *= mask
            if times_g_prime is not None:
                dZ = times_g_prime(dA, A_prev)
            else:
                dA *= g_prime(A_prev, xp=xp)
                dZ = dA
    return {key: grads[key] for key in keys.grad_order}


class _Keys:
    """The dict keys of an ``L``-layer network, built once per depth (no f-strings per step)."""

    def __init__(self, L: int) -> None:
        layers = range(L + 1)
        self.W = [f"W{i}" for i in layers]
        self.b = [f"b{i}" for i in layers]
        self.A = [f"A{i}" for i in layers]
        self.Z = [f"Z{i}" for i in layers]
        self.D = [f"D{i}" for i in layers]
        self.dW = [f"dW{i}" for i in layers]
        self.db = [f"db{i}" for i in layers]
        self.grad_order = [key for i in range(1, L + 1) for key in (self.dW[i], self.db[i])]


_KEYS: dict[int, _Keys] = {}


def _keys(L: int) -> _Keys:
    keys = _KEYS.get(L)
    if keys is None:
        keys = _KEYS[L] = _Keys(L)
    return keys


def _times_tanh_derivative(dA: Array, a: Array) -> Array:
    """``dA * (1 - a**2)`` as ``dA - (dA a) a``, overwriting ``dA``: one temporary, not three."""
    t = dA * a
    t *= a
    dA -= t
    return dA


# dA * g'(a) for activations with a cheaper fused form; the others use activation_derivative.
_TIMES_DERIVATIVE = {"tanh": _times_tanh_derivative}
