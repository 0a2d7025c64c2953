"""Per-feature mean and standard deviation that stay finite for any finite input.

``xp.std`` squares ``X - mean``: a feature of ``1e200`` (float64) or ``1e20`` (float32)
overflows to ``inf`` there, and a sum of values near the largest float overflows in
``xp.mean`` itself. :func:`feature_statistics` first multiplies each feature by a power of
two ``1 / s`` with ``s`` about its largest magnitude (exact: only the exponent changes), so
every scaled value is at most 8 in magnitude; the mean and the two-pass variance of the scaled
values cannot overflow, and ``mean = s * mean_s`` and ``std = s * std_s`` are at most the
largest magnitude (finite). For data
that did not overflow before, the results equal the plain two-pass formulas up to rounding.

The passes go over ``X`` a column chunk at a time (:data:`CHUNK_BYTES` of ``X`` per chunk), so
the temporaries are the size of one chunk, never of ``X``.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

__all__ = ["CHUNK_BYTES", "feature_statistics", "standardized"]

CHUNK_BYTES = 8 * 2**20


def feature_statistics(X: Any, xp: ModuleType, *,
                       chunk_bytes: int | None = CHUNK_BYTES) -> tuple[Any, Any]:
    """Per-feature ``(mean, std)`` of ``X`` (shape ``(n_x, m)``), each of shape ``(n_x, 1)``.

    The population standard deviation (``ddof=0``, as ``xp.std``); a constant feature (all its
    values equal) gets ``std`` 1, so that ``(X - mean) / std`` is 0 there. Both are finite
    whenever ``X`` is, whatever its magnitude, on every backend and dtype.

    Parameters
    ----------
    X : array, shape (n_x, m)
        Finite values of a floating dtype, ``m >= 1``.
    xp : module
        The array namespace of ``X``.
    chunk_bytes : int or None
        Bytes of ``X`` read per pass and chunk (``None``: all columns at once).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1e300, -1e300, 3e300, 1e300], [2.0, 2.0, 2.0, 2.0]])
    >>> mean, std = feature_statistics(X, np)
    >>> mean.ravel().tolist(), std.ravel().tolist()
    ([1e+300, 2.0], [1.4142135623730952e+300, 1.0])
    """
    n_x, m = X.shape
    itemsize = 4 if X.dtype == xp.float32 else 8
    size = m if chunk_bytes is None else max(1, chunk_bytes // max(1, n_x * itemsize))
    bounds = [(start, min(start + size, m)) for start in range(0, m, size)]

    def total(values: Any) -> Any:
        return xp.sum(values, axis=1, keepdims=True)

    high: Any = None
    low: Any = None
    for start, stop in bounds:  # pass 1: each feature's range
        part = X[:, start:stop]
        top, bottom = xp.max(part, axis=1, keepdims=True), xp.min(part, axis=1, keepdims=True)
        high = top if high is None else xp.maximum(high, top)
        low = bottom if low is None else xp.minimum(low, bottom)
    largest = xp.maximum(high, -low)
    # a power of two 2**e about the largest magnitude (1 for an all-zero feature), with e in
    # [-1021, 1021] ([-125, 125] in float32): 2**e and 2**-e are both normal floats, so
    # multiplying by 2**-e is exact (no subnormal reciprocal, which XLA flushes to 0) and the
    # scaled values are at most 8 in magnitude (any finite value is below 2**1024)
    limit = float(math.frexp(float(xp.finfo(X.dtype).max))[1] - 3)  # 1021; float32 125
    exponent = xp.ceil(xp.log2(xp.where(largest > 0, largest, xp.ones_like(largest))))
    exponent = xp.clip(exponent, -limit, limit)
    scale, inverse = 2.0 ** exponent, 2.0 ** -exponent
    mean_s = None
    for start, stop in bounds:  # pass 2: the mean of the scaled values (|value| <= 8)
        part = total(X[:, start:stop] * inverse)
        mean_s = part if mean_s is None else mean_s + part
    mean_s = mean_s / m
    squares = None
    for start, stop in bounds:  # pass 3: squared deviations (at most 256 each)
        deviation = X[:, start:stop] * inverse - mean_s
        part = total(deviation * deviation)
        squares = part if squares is None else squares + part
    mean = mean_s * scale
    std = xp.sqrt(squares / m) * scale
    # constant features, and spreads that underflow to 0 (a feature of subnormal values)
    flat = (high == low) | (std == 0)
    return mean, xp.where(flat, xp.ones_like(std), std)


def standardized(X: Any, standardization: tuple[Any, Any] | None) -> Any:
    """``(X - mean) / std`` for ``standardization = (mean, std)``; ``X`` itself for None.

    Computed as ``(X / 2 - mean / 2) / (std / 2)``: the same bits (halving is exact), but the
    difference cannot overflow when ``X`` and ``mean`` are near the largest float with
    opposite signs.
    """
    if standardization is None:
        return X
    mean, std = standardization
    return (X * 0.5 - mean * 0.5) / (std * 0.5)
