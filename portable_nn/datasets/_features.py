"""Read a CSV file of samples to predict on: the model's features, and maybe a label column."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from portable_nn.datasets._own import _column_index, _drop_arg
from portable_nn.datasets._table import (
    Table,
    check_encoding,
    numeric_columns,
    parse_number,
    read_table,
)

__all__ = ["read_features"]


def read_features(path: str | os.PathLike[str], n_features: int, *,
                  delimiter: str | None = ",", encoding: str | None = None,
                  drop: Sequence[int | str] = (), names: Sequence[str] | None = None,
                  target_name: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Read samples for a trained model from a CSV file: ``(X, labels or None)``.

    Each row is one sample: exactly ``n_features`` numbers, or one more cell, the sample's
    label (used to score predictions). A first row whose feature cells are not numbers is a
    header. When the model's feature ``names`` are all in that header, those columns are the
    features, in the model's order, whatever else the file holds, and the ``target_name``
    column (if there is one) holds the labels.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    n_features : int
        The model's number of input features.
    delimiter : str or None
        The cell separator; None detects it (as :func:`from_csv` does).
    encoding : str or None
        The file's text encoding (None: its byte-order mark's, else UTF-8).
    drop : sequence of int or str
        Columns to leave out first (indices from 0 or header names), such as an ID column.
    names : sequence of str, optional
        The model's feature names (``Dataset.feature_names`` of its training data).
    target_name : str, optional
        The name of its target column (``Dataset.target_name``).

    Returns
    -------
    X : numpy.ndarray, shape (n_features, m), float64
        One column per sample.
    labels : numpy.ndarray or None
        The label column, shape ``(1, m)``: numbers when every cell is one, else the cells'
        text; None when the file has no label column.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        For a wrong number of columns, ragged rows or a feature cell that is not a number
        (naming the row and column), and whatever :func:`from_csv` refuses in a file.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "new.csv")
    >>> _ = open(path, "w").write("x1,x2,kind\n0.5,1.0,cat\n1.5,0.0,dog\n")
    >>> X, labels = read_features(path, 2)
    >>> X.shape, labels.tolist()
    ((2, 2), [['cat', 'dog']])
    """
    dropped = _drop_arg(drop)
    check_encoding(encoding)
    named = any(isinstance(c, str) for c in dropped)

    def feature_columns(width: int) -> list[int]:
        skip = {int(c) % width for c in dropped if -width <= int(c) < width}
        return [j for j in range(width) if j not in skip][:n_features]

    table = read_table(path, header=True if named else "infer", delimiter=delimiter,
                       encoding=encoding, feature_columns=feature_columns)
    skip = {_column_index(c, table, "drop") for c in dropped}
    kept = [j for j in range(table.n_columns) if j not in skip]
    by_name = None if names is None or len(names) != n_features else _named_columns(
        table, names, target_name, skip)
    if by_name is not None:
        kept = by_name
    elif len(kept) not in (n_features, n_features + 1):
        left = f" ({len(kept)} after dropping {len(skip)})" if skip else ""
        raise ValueError(f"{table.path}: the model takes {n_features} features, so each row "
                         f"needs {n_features} numbers (or one more, the label); found "
                         f"{table.n_columns}{left}")
    X = np.ascontiguousarray(numeric_columns(table, kept[:n_features]).T)
    if len(kept) == n_features:
        return X, None
    cells = [row[kept[-1]] for row in table.rows]
    numbers = [parse_number(cell) for cell in cells]
    labels = np.asarray(numbers if None not in numbers else cells)
    return X, labels.reshape(1, -1)


def _named_columns(table: Table, names: Sequence[str] | None, target_name: str | None,
                   skip: set[int]) -> list[int] | None:
    """The columns of ``names`` (then of ``target_name``, if there) in the header, or None."""
    if names is None or table.header is None:
        return None
    header = [name if j not in skip else None for j, name in enumerate(table.header)]
    if not all(header.count(name) == 1 for name in names):
        return None
    columns = [header.index(name) for name in names]
    if target_name is not None and header.count(target_name) == 1 and \
            target_name not in names:
        columns.append(header.index(target_name))
    return columns
