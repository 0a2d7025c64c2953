"""Forward and backward propagation for a fully-connected network, in the lesson's layout.

Shapes (``m`` samples, layer sizes ``n_0 = n_x, n_1, ..., n_L``):

- ``X = A0``: ``(n_0, m)``; ``W{l}``: ``(n_l, n_{l-1})``; ``b{l}``: ``(n_l, 1)``;
- ``Z{l} = W{l} @ A{l-1} + b{l}`` and ``A{l} = g(Z{l})``: ``(n_l, m)``;
- ``dW{l}`` and ``db{l}`` have the shapes of ``W{l}`` and ``b{l}``.

The cache holds ``A0 ... AL`` and ``Z{L}`` (the output's pre-activation, for a stable cost).
Hidden derivatives are read off ``A{l}``, so hidden ``Z{l}`` need not be kept. With dropout the
cache also holds the scaled masks ``D{l}``; ``A{l}`` stays the unmasked activation.

:func:`backward` is the lesson's backpropagation, one line per formula; the training loop runs
:func:`portable_nn.core.backward_fused`, the same gradients with four rewrites for speed
(listed in its module), and a test proves the two equal.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from portable_nn.core._activations import activation, activation_derivative
from portable_nn.core._namespace import infer_namespace
from portable_nn.core._outputs import output_function

__all__ = ["backward", "forward", "forward_layers", "num_layers"]

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
        The array namespace. When omitted it is inferred from ``X``, every parameter and every
        mask, and arrays of different libraries are a ``TypeError``; when given, nothing is
        checked (the caller vouches that every array belongs to ``xp``).

    Returns
    -------
    AL : array
        Output of shape ``(n_L, m)``.
    cache : dict
        ``A0 ... AL`` (each ``(n_l, m)``), ``Z{L}`` and, with dropout, ``D{l}``.

    Raises
    ------
    TypeError
        Without ``xp``, when ``X``, the parameters and the masks are not all arrays of one
        library.

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> params = pnn.init_params((2, 4, 1), seed=0)
    >>> AL, cache = pnn.forward(params, np.zeros((2, 5)))
    >>> AL.shape, cache["A1"].shape
    ((1, 5), (4, 5))
    """
    if xp is None:
        xp = infer_namespace(X=X, params=params, dropout_masks=dropout_masks)
    L = num_layers(params)
    activations, ZL = forward_layers([params[f"W{layer}"] for layer in range(1, L + 1)],
                                     [params[f"b{layer}"] for layer in range(1, L + 1)], X,
                                     hidden_activation=hidden_activation, output=output,
                                     dropout_masks=dropout_masks, xp=xp)
    cache = {f"A{layer}": A for layer, A in enumerate(activations)}
    cache[f"Z{L}"] = ZL
    for layer in range(1, L):
        if dropout_masks is not None and layer in dropout_masks:
            cache[f"D{layer}"] = dropout_masks[layer]
    return activations[L], cache


def forward_layers(
    weights: list[Array],
    biases: list[Array],
    X: Array,
    /,
    *,
    hidden_activation: str,
    output: str,
    dropout_masks: dict[int, Array] | None,
    xp: ModuleType,
) -> tuple[list[Array], Array]:
    """:func:`forward` kept positionally: ``(activations, Z_L)``, no dict keys built.

    ``weights[l - 1]`` is ``W[l]``, ``biases[l - 1]`` is ``b[l]``; ``activations[l]`` is
    ``A[l]`` (``activations[0]`` is ``X``), unmasked.
    """
    g = activation(hidden_activation)
    activations = [X]
    A = X
    for layer in range(1, len(weights)):
        Z = weights[layer - 1] @ A
        Z += biases[layer - 1]  # in place on the fresh product: one (n_l, m) temporary fewer
        A = g(Z, xp=xp)
        activations.append(A)
        if dropout_masks is not None and layer in dropout_masks:
            A = A * dropout_masks[layer]
    ZL = weights[-1] @ A
    ZL += biases[-1]
    activations.append(output_function(output)(ZL, xp=xp))
    return activations, ZL


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
    """Backward propagation of the mean cost, written as the lesson's formulas.

    ``dZ[L] = A[L] - Y`` (true for sigmoid + cross-entropy, softmax + categorical
    cross-entropy and linear + half squared error), then for ``l = L ... 1``:
    ``dW[l] = (1/m) dZ[l] A[l-1]^T (+ (l2/m) W[l])``,
    ``db[l] = (1/m) sum(dZ[l], axis=1, keepdims=True)``,
    ``dZ[l-1] = W[l]^T dZ[l] (* D[l-1] with dropout) * g'(A[l-1])``.
    With dropout, ``A[l-1]`` in ``dW[l]`` is what layer ``l`` saw, ``A[l-1] * D[l-1]``.
    :func:`portable_nn.core.backward_fused` computes the same gradients faster (the training
    loop's form); ``update(params, backward(...), lr)`` is one step of plain gradient descent.

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
        The array namespace. When omitted it is inferred from every parameter, every cache
        array and ``Y`` (arrays of different libraries are a ``TypeError``); when given,
        nothing is checked.

    Returns
    -------
    dict
        ``{"dW1": ..., "db1": ..., ...}``, each the shape of its parameter.

    Raises
    ------
    TypeError
        Without ``xp``, when the arrays come from more than one library.

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
    if xp is None:
        xp = infer_namespace(params=params, cache=cache, Y=Y)
    g_prime = activation_derivative(hidden_activation)
    output_function(output)  # dZ[L] = A[L] - Y holds for each known output: refuse the others
    L = num_layers(params)
    m = Y.shape[1]
    grads: dict[str, Array] = {}
    dZ = cache[f"A{L}"] - Y  # dZ[L] = A[L] - Y
    for l in range(L, 0, -1):  # noqa: E741 (the lesson's layer index)
        W, A_prev, D = params[f"W{l}"], cache[f"A{l - 1}"], cache.get(f"D{l - 1}")
        A_seen = A_prev if D is None else A_prev * D  # what layer l saw: A[l-1] (* D[l-1])
        dW = (1 / m) * (dZ @ A_seen.T)  # dW[l] = (1/m) dZ[l] A[l-1]^T
        if l2:
            dW = dW + (l2 / m) * W  # (+ (l2/m) W[l])
        grads[f"dW{l}"] = dW
        grads[f"db{l}"] = (1 / m) * xp.sum(dZ, axis=1, keepdims=True)  # db[l] = (1/m) sum(dZ[l])
        if l > 1:
            dA = W.T @ dZ if D is None else (W.T @ dZ) * D  # dA[l-1] = W[l]^T dZ[l] (* D[l-1])
            dZ = dA * g_prime(A_prev, xp=xp)  # dZ[l-1] = dA[l-1] * g'(A[l-1])
    return _in_layer_order(grads, L)


def _in_layer_order(grads: dict[str, Array], L: int) -> dict[str, Array]:
    """``grads`` reordered ``dW1, db1, ..., dWL, dbL`` (backprop fills them from the top)."""
    return {key: grads[key] for layer in range(1, L + 1) for key in (f"dW{layer}", f"db{layer}")}
