"""What kind of targets ``Y`` holds, read on the host: the output layer ``train`` infers."""

from __future__ import annotations

from typing import Any

import numpy as np

from portable_nn.backend._columns import is_out_of_core
from portable_nn.backend._convert import to_numpy

__all__ = ["infer_output"]


def infer_output(Y: Any, columns: int = 65_536) -> tuple[str, list[float] | None]:
    """The output layer the targets ``Y`` (shape ``(n_y, m)``) ask for, and a doubt.

    One row of 0/1: ``"sigmoid"``; several rows with exactly one 1 per column (one-hot):
    ``"softmax"``; several rows of 0/1 otherwise: ``"sigmoid"`` (several binary labels);
    anything else: ``"linear"``. ``Y`` that cannot be read or is not a finite 2-D array of
    numbers gives ``"sigmoid"``, whose checks then say what is wrong. The second item is, for
    one row of at most 10 distinct whole numbers other than 0/1 (class indices, perhaps), the
    values; ``None`` otherwise. An out-of-core ``Y`` (memmap, h5py, zarr) is read ``columns``
    columns at a time, never whole.

    Examples
    --------
    >>> infer_output([[0.0, 1.0, 1.0]])
    ('sigmoid', None)
    >>> infer_output([[1.0, 0.0], [0.0, 1.0]])
    ('softmax', None)
    >>> infer_output([[0.5, 2.5, 151.0]])
    ('linear', None)
    >>> infer_output([[0.0, 2.0, 1.0]])
    ('linear', [0.0, 1.0, 2.0])
    """
    try:
        values = _sliced(Y, columns) if is_out_of_core(Y) else to_numpy(Y)
    except (TypeError, ValueError):
        try:
            values = np.asarray(Y)
        except Exception:
            return "sigmoid", None
    if (values.ndim != 2 or values.size == 0 or not np.issubdtype(values.dtype, np.number)
            or not np.isfinite(values).all()):
        return "sigmoid", None
    binary = bool(np.isin(values, (0, 1)).all())
    if binary:
        one_hot = values.shape[0] > 1 and bool((values.sum(axis=0) == 1).all())
        return ("softmax" if one_hot else "sigmoid"), None
    distinct = np.unique(values)
    whole = bool((distinct == np.round(distinct)).all())
    if values.shape[0] == 1 and distinct.size <= 10 and whole:
        return "linear", [float(v) for v in distinct]
    return "linear", None


def _sliced(Y: Any, columns: int) -> np.ndarray:
    """An out-of-core ``Y`` (memmap, h5py, zarr) read a block of columns at a time, never whole."""
    blocks = [np.asarray(Y[:, start:start + columns]) for start in range(0, Y.shape[1], columns)]
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((Y.shape[0], 0))
