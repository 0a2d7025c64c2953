"""Target encoding shared by the data loaders, the command line and the estimators.

Class labels become ``(1, m)`` 0/1 rows (two classes, a sigmoid output) or one-hot ``(C, m)``
columns (more classes, a softmax output); the original labels are kept in class-index order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["OUTPUTS", "encode_targets", "one_hot"]

OUTPUTS = ("auto", "sigmoid", "softmax", "linear")


def one_hot(indices: Any, n_classes: int, *, dtype: Any = np.float64) -> np.ndarray:
    """Return the one-hot ``(n_classes, m)`` encoding of class indices ``0`` to ``n_classes - 1``.

    Parameters
    ----------
    indices : array-like of int, shape (m,)
        One class index per sample.
    n_classes : int
        The number of rows of the result.
    dtype : dtype
        The result's dtype (float64 by default).

    Returns
    -------
    numpy.ndarray, shape (n_classes, m)

    Examples
    --------
    >>> one_hot([0, 2, 1], 3).astype(int).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    """
    indices = np.asarray(indices).reshape(-1)
    return (np.arange(n_classes)[:, None] == indices[None, :]).astype(dtype)


def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "biuf"


def _whole(values: np.ndarray) -> bool:
    """Numbers that are all whole (class labels written as numbers)."""
    as_float = values.astype(np.float64)
    return bool(np.all(as_float == np.round(as_float)))


def encode_targets(values: Any, *, output: str = "auto",
                   where: str = "y") -> tuple[np.ndarray, str, np.ndarray | None]:
    """Encode one target per sample for the output layer that fits it.

    Parameters
    ----------
    values : array-like, shape (m,)
        Class labels (numbers or strings) or real-valued targets.
    output : {"auto", "sigmoid", "softmax", "linear"}
        ``"auto"``: ``"linear"`` when the targets are numbers that are not all whole, else
        ``"sigmoid"`` for two classes and ``"softmax"`` for more.
    where : str
        Names the targets in error messages (a file and column, or ``"y"``).

    Returns
    -------
    Y : numpy.ndarray, float64
        ``(1, m)`` 0/1 for sigmoid, one-hot ``(C, m)`` for softmax, ``(1, m)`` values for
        linear.
    output : str
        The output layer to train with.
    classes : numpy.ndarray or None
        The original labels in class-index order (sorted); None for linear.

    Raises
    ------
    ValueError
        A single class, more than two classes for sigmoid, non-numeric linear targets.

    Examples
    --------
    >>> Y, output, classes = encode_targets(["b", "a", "b"])
    >>> Y.tolist(), output, classes.tolist()
    ([[1.0, 0.0, 1.0]], 'sigmoid', ['a', 'b'])
    """
    if output not in OUTPUTS:
        raise ValueError(f"output={output!r} is unknown; expected one of {list(OUTPUTS)}")
    values = np.asarray(values).reshape(-1)
    if values.size == 0:
        raise ValueError(f"{where}: no samples")
    real_valued = _is_numeric(values) and not _whole(values)
    if output == "linear" or (output == "auto" and real_valued):
        if not _is_numeric(values):
            raise ValueError(f"{where}: output='linear' needs numeric targets, got "
                             f"{values.dtype} values such as {values[0]!r}")
        return values.astype(np.float64).reshape(1, -1), "linear", None
    if _is_numeric(values) and not real_valued:
        values = values.astype(np.int64)  # labels 1.0, 2.0 read from a file are classes 1, 2
    classes, indices = np.unique(values, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(f"{where}: only one class ({classes.tolist()[0]!r}) in {values.size} "
                         "samples; a classifier needs at least two")
    if output == "auto":
        output = "sigmoid" if classes.shape[0] == 2 else "softmax"
    if output == "sigmoid":
        if classes.shape[0] > 2:
            raise ValueError(f"{where}: output='sigmoid' needs two classes, found "
                             f"{classes.shape[0]}; use output='softmax'")
        return indices.astype(np.float64).reshape(1, -1), output, classes
    return one_hot(indices, classes.shape[0]), output, classes
