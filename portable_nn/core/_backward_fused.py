"""The training loop's backward pass: :func:`portable_nn.core.backward` with four rewrites.

It returns ``scale`` times the lesson's gradients (a test proves it equal to
``scale * backward(...)`` to 1e-12), computed with four rewrites, each named here once:

1. **1/m hoisted onto dZ[L]**: the mean's ``1/m`` multiplies the small ``(n_L, m)`` output
   error once, so every ``dW``, ``db`` and lower ``dZ`` comes out already divided by ``m``
   (no per-layer scaling).
2. **scale folded in**: ``scale`` (plain gradient descent's learning rate, or a chunk's share
   ``m_chunk / m_total``) rides on the same multiplication, so ``W - lr dW`` needs no
   per-parameter ``lr * dW``.
3. **sum(dZ) as dZ @ ones**: ``db = dZ @ ones((m, 1))``, one matrix-vector product, is cheaper
   than a reduction over the columns.
4. **fused in-place tanh derivative**: ``dA * (1 - A**2)`` as ``dA -= (dA * A) * A`` on the
   fresh product ``dA``: one ``(n_l, m)`` temporary instead of three (JAX rebinds).

The dropout mask multiplies the fresh ``dA`` in place too. Nothing the caller passed is written.

The training step runs the positional pair :func:`~portable_nn.core.forward_layers` /
:func:`backward_layers`:
the same arithmetic as :func:`~portable_nn.core.forward` and :func:`backward_fused`, with the
weights, biases and activations in lists, so no ``"A1"``/``"dW1"`` key is built per step (the
step looks its parameters up with names it builds once per run). :func:`backward_fused` is the
same backward on the lesson's dict cache.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from portable_nn.core._activations import activation_derivative
from portable_nn.core._namespace import infer_namespace
from portable_nn.core._network import num_layers
from portable_nn.core._outputs import output_function

__all__ = ["backward_fused", "backward_layers"]

Array = Any


def backward_fused(
    params: dict[str, Array],
    cache: dict[str, Array],
    Y: Array,
    /,
    *,
    hidden_activation: str,
    output: str,
    l2: float = 0.0,
    scale: Any = 1.0,
    xp: ModuleType | None = None,
) -> dict[str, Array]:
    """``scale`` times :func:`portable_nn.core.backward`'s gradients, by the fused formulas.

    Parameters
    ----------
    params, cache, Y
        As for :func:`portable_nn.core.backward`.
    hidden_activation, output : str
        As given to :func:`portable_nn.core.forward`.
    l2 : float
        L2 regularization strength (``0.0``: none).
    scale : float or 0-d array
        Every gradient is multiplied by ``scale`` (default 1): the training loop passes plain
        gradient descent's learning rate, ``portable_nn.core.chunk_gradients`` a chunk's
        share of the samples.
    xp : namespace, optional
        The array namespace; inferred from every array (``TypeError`` when they mix libraries)
        when omitted, unchecked when given.

    Returns
    -------
    dict
        ``{"dW1": ..., "db1": ..., ...}``, each the shape of its parameter (times ``scale``).

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> from portable_nn.core import backward_fused
    >>> params = pnn.init_params((2, 3, 1), seed=0)
    >>> X, Y = np.arange(8.0).reshape(2, 4), np.array([[0.0, 1.0, 1.0, 0.0]])
    >>> _, cache = pnn.forward(params, X)
    >>> steps = backward_fused(params, cache, Y, hidden_activation="tanh", output="sigmoid",
    ...                        scale=0.5)
    >>> bool(np.allclose(steps["dW1"], 0.5 * pnn.backward(params, cache, Y)["dW1"], rtol=1e-12))
    True
    """
    if xp is None:
        xp = infer_namespace(params=params, cache=cache, Y=Y)
    output_function(output)  # dZ[L] = A[L] - Y holds for each known output: refuse the others
    L = num_layers(params)
    activations = [cache[f"A{layer}"] for layer in range(L + 1)]
    masks = {layer: cache[f"D{layer}"] for layer in range(1, L) if f"D{layer}" in cache}
    weights = [params[f"W{layer}"] for layer in range(1, L + 1)]
    grads = backward_layers(weights, activations, Y, dropout_masks=masks or None,
                            hidden_activation=hidden_activation, l2=l2, scale=scale, xp=xp)
    return {f"{kind}{layer}": grads[2 * (layer - 1) + k]
            for layer in range(1, L + 1) for k, kind in enumerate(("dW", "db"))}


def backward_layers(
    weights: list[Array],
    activations: list[Array],
    Y: Array,
    /,
    *,
    dropout_masks: dict[int, Array] | None,
    hidden_activation: str,
    l2: float,
    scale: Any,
    xp: ModuleType,
) -> list[Array]:
    """``scale`` times the gradients as a list ``[dW1, db1, ..., dWL, dbL]``, with rewrites 1-4.

    ``weights[l - 1]`` is ``W[l]`` and ``activations[l]`` is ``A[l]`` (from
    :func:`~portable_nn.core.forward_layers`); ``dropout_masks`` is ``{l: D[l]}`` for masked
    hidden layers.
    """
    # tanh takes rewrite 4; the others multiply by their derivative (an unknown name is refused)
    g_prime = None if hidden_activation == "tanh" else activation_derivative(hidden_activation)
    L = len(weights)
    inv_m = 1.0 / Y.shape[1]
    from_top: list[Array] = []  # db, dW of layers L ... 1
    dZ = activations[L] - Y
    dZ *= inv_m * scale  # rewrites 1 and 2: 1/m and scale once, on the output error
    ones = xp.ones_like(dZ[:1, :]).T  # rewrite 3: db = dZ @ ones
    for layer in range(L, 0, -1):
        A_prev, W = activations[layer - 1], weights[layer - 1]
        mask = None if dropout_masks is None else dropout_masks.get(layer - 1)
        dW = dZ @ (A_prev if mask is None else A_prev * mask).T
        if l2:
            dW = dW + ((l2 * inv_m) * scale) * W
        from_top += (dZ @ ones, dW)
        if layer > 1:
            dA = W.T @ dZ  # a fresh product owned here: updated in place (JAX rebinds)
            if mask is not None:
                dA *= mask
            if g_prime is None:  # rewrite 4: dA (1 - A**2) as dA - (dA A) A, one temporary
                t = dA * A_prev
                t *= A_prev
                dA -= t
            else:
                dA *= g_prime(A_prev, xp=xp)
            dZ = dA
    return from_top[::-1]
