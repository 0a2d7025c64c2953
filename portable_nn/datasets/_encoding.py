"""Target encoding shared by the data loaders, the command line and the estimators.

Class labels become ``(1, m)`` 0/1 rows (two classes, a sigmoid output) or one-hot ``(C, m)``
columns (more classes, a softmax output); the original labels are kept in class-index order.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["MANY_VALUES", "OUTPUTS", "SAMPLES_PER_VALUE", "encode_targets", "integer_array",
           "one_hot"]

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


#: Whole-number targets with more distinct values than this, and fewer than
#: ``SAMPLES_PER_VALUE`` samples per value on average, are quantities (a regression) for
#: ``output="auto"``; more values with enough samples each are classes, with a warning.
MANY_VALUES = 20
SAMPLES_PER_VALUE = 20


def _is_numeric(values: np.ndarray) -> bool:
    """Numbers: a numeric dtype, or Python integers too large for one (an object array)."""
    return values.dtype.kind in "biuf" or (
        values.dtype.kind == "O" and all(isinstance(v, int) for v in values.tolist()))


def _whole(values: np.ndarray) -> bool:
    """Numbers that are all whole (class labels written as numbers)."""
    if values.dtype.kind in "biuO":
        return True
    return bool(np.all(values == np.round(values)))


def integer_array(numbers: list[int]) -> np.ndarray:
    """Whole numbers, exactly: int64 when they fit, else uint64, else Python ints (object).

    Examples
    --------
    >>> integer_array([1, -2]).dtype, integer_array([2**63]).dtype, integer_array([-1, 2**64])
    (dtype('int64'), dtype('uint64'), array([-1, 18446744073709551616], dtype=object))
    """
    if all(-2**63 <= n < 2**63 for n in numbers):
        return np.asarray(numbers, dtype=np.int64)
    if all(0 <= n < 2**64 for n in numbers):
        return np.asarray(numbers, dtype=np.uint64)
    out = np.empty(len(numbers), dtype=object)
    out[:] = numbers
    return out


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _checked(values: np.ndarray, where: str) -> np.ndarray:
    """The targets as text, exact integers or finite floats; ``ValueError`` naming the sample.

    NaN, infinities and None are missing values, not labels; a mix of text and numbers has no
    order. Integer labels keep their exact value (uint64 and Python ints included).
    """
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        i = _first(~np.isfinite(values))
        raise ValueError(f"{where}: sample {i} is {float(values[i])}, not a finite number (NaN and "
                         "infinities are missing values, not targets); remove those samples")
    if values.dtype.kind == "c":
        raise ValueError(f"{where}: complex targets are not supported, got {values.dtype}")
    if values.dtype.kind != "O":
        return values
    items = values.tolist()
    for i, item in enumerate(items):
        if item is None:
            raise ValueError(f"{where}: sample {i} is None (a missing target); remove those "
                             "samples or give them a label")
    numbers = [isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
               for v in items]
    if all(isinstance(v, str) for v in items):
        return np.asarray(items, dtype=str)
    if not all(numbers):
        kinds = sorted({type(v).__name__ for v in items})
        raise ValueError(f"{where}: targets of mixed types ({', '.join(kinds)}); give them all "
                         "as text or all as numbers")
    if all(isinstance(v, (int, np.integer)) for v in items):
        return integer_array([int(v) for v in items])
    return _checked(np.asarray(items, dtype=np.float64), where)


def _classes_of_whole(values: np.ndarray) -> np.ndarray:
    """Whole floats (``1.0, 2.0`` read from a file) as exact integers; integers as they are."""
    if values.dtype.kind != "f":
        return values
    return integer_array([int(v) for v in values.tolist()])


def encode_targets(values: Any, *, output: str = "auto",
                   where: str = "y") -> tuple[np.ndarray, str, np.ndarray | None]:
    """Encode one target per sample for the output layer that fits it.

    Parameters
    ----------
    values : array-like, shape (m,)
        Class labels (numbers or strings) or real-valued targets.
    output : {"auto", "sigmoid", "softmax", "linear"}
        ``"auto"``: ``"linear"`` when the targets are numbers that are not all whole, or
        whole numbers with more than ``MANY_VALUES`` (20) distinct values and fewer than
        ``SAMPLES_PER_VALUE`` (20) samples per value on average (with a warning); else
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
        The original labels in class-index order (sorted), exactly as given (integers keep
        their value: int64, uint64, or Python ints beyond those); None for linear.

    Raises
    ------
    ValueError
        A single class, more than two classes for sigmoid, non-numeric linear targets; NaN,
        infinite or None targets, or text mixed with numbers (naming the first sample).

    Warns
    -----
    UserWarning
        For ``output="auto"`` on whole numbers with more than 20 distinct values: trained as a
        regression (few samples per value) or as that many classes, and how to ask for the
        other.

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
    values = _checked(values, where)
    numeric = _is_numeric(values)
    real_valued = numeric and not _whole(values)
    if output == "linear" or (output == "auto" and real_valued):
        if not numeric:
            raise ValueError(f"{where}: output='linear' needs numeric targets, got "
                             f"{values.dtype} values such as {values[0]!r}")
        return values.astype(np.float64).reshape(1, -1), "linear", None
    if numeric:
        values = _classes_of_whole(values)  # labels 1.0, 2.0 read from a file are classes 1, 2
    classes, indices = np.unique(values, return_inverse=True)
    indices = indices.reshape(-1)
    if classes.shape[0] < 2:
        raise ValueError(f"{where}: only one class ({classes.tolist()[0]!r}) in {values.size} "
                         "samples; a classifier needs at least two")
    if output == "auto" and numeric and classes.shape[0] > MANY_VALUES and \
            _many_values(classes.shape[0], values.size, where):
        return values.astype(np.float64).reshape(1, -1), "linear", None
    if output == "auto":
        output = "sigmoid" if classes.shape[0] == 2 else "softmax"
    if output == "sigmoid":
        if classes.shape[0] > 2:
            raise ValueError(f"{where}: output='sigmoid' needs two classes, found "
                             f"{classes.shape[0]}; use output='softmax'")
        return indices.astype(np.float64).reshape(1, -1), output, classes
    return one_hot(indices, classes.shape[0]), output, classes


def _many_values(n_values: int, m: int, where: str) -> bool:
    """Warn about whole-number targets with many values; True: train them as a regression.

    Like scikit-learn's ``type_of_target`` check, which warns when the distinct values are
    more than half the samples: here fewer than ``SAMPLES_PER_VALUE`` samples per value on
    average make the targets quantities (counts, scores, prices), more make them classes.
    """
    regression = n_values * SAMPLES_PER_VALUE > m
    if regression:
        message = (f"{where}: {n_values} distinct whole numbers in {m} samples (fewer than "
                   f"{SAMPLES_PER_VALUE} samples per value) are treated as quantities: a "
                   "regression, output='linear'; pass output='softmax' to train them as classes")
    else:
        message = (f"{where}: {n_values} distinct whole numbers are trained as {n_values} "
                   "classes (output='softmax'); pass output='linear' if they are quantities, "
                   "or output='softmax' to silence this warning")
    warnings.warn(message, UserWarning, stacklevel=4)
    return regression
