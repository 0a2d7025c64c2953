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
    cache: dict[str, Array] = {"A0": X}
    A = X
    for layer in range(1, L):
        A = g(params[f"W{layer}"] @ A + params[f"b{layer}"], xp=xp)
        cache[f"A{layer}"] = A
        if dropout_masks is not None and layer in dropout_masks:
            cache[f"D{layer}"] = dropout_masks[layer]
            A = A * dropout_masks[layer]
    ZL = params[f"W{L}"] @ A + params[f"b{L}"]
    AL = output_function(output)(ZL, xp=xp)
    cache[f"Z{L}"] = ZL
    cache[f"A{L}"] = AL
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
    xp : namespace, optional
        The array namespace; inferred from ``Y`` when omitted.

    Returns
    -------
    dict
        ``{"dW1": ..., "db1": ..., ...}``, each the shape of its parameter.

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
    L = num_layers(params)
    m = Y.shape[1]
    inv_m = 1.0 / m
    grads: dict[str, Array] = {}
    dZ = cache[f"A{L}"] - Y
    for layer in range(L, 0, -1):
        A_prev = cache[f"A{layer - 1}"]
        mask = cache.get(f"D{layer - 1}")
        seen = A_prev if mask is None else A_prev * mask
        dW = (dZ @ seen.T) * inv_m
        if l2:
            dW = dW + (l2 * inv_m) * params[f"W{layer}"]
        grads[f"dW{layer}"] = dW
        grads[f"db{layer}"] = xp.sum(dZ, axis=1, keepdims=True) * inv_m
        if layer > 1:
            dA = params[f"W{layer}"].T @ dZ
            if mask is not None:
                dA = dA * mask
            dZ = dA * g_prime(A_prev, xp=xp)
    return {key: grads[key] for key in sorted(grads, key=_grad_order)}


def _grad_order(key: str) -> tuple[int, str]:
    return int(key[2:]), key[:2]
