"""Your own data: :func:`from_csv`, :func:`from_samples` and the :class:`Dataset` they return."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from portable_nn.datasets._encoding import encode_targets, integer_array
from portable_nn.datasets._table import (
    check_encoding,
    numeric_columns,
    parse_number,
    read_table,
)

__all__ = ["Dataset", "from_csv", "from_samples"]


class Dataset:
    """Samples in portable_nn's layout, with what is needed to map predictions back.

    It unpacks like a 2-tuple: ``X, Y = dataset``.

    Attributes
    ----------
    X : numpy.ndarray, shape (n_x, m), float64
        The features, one column per sample.
    Y : numpy.ndarray, float64
        ``(1, m)`` 0/1 for ``output="sigmoid"``, one-hot ``(C, m)`` for ``"softmax"``,
        ``(1, m)`` values for ``"linear"``.
    output : str
        The output layer to train with: ``"sigmoid"``, ``"softmax"`` or ``"linear"``.
    classes : numpy.ndarray or None
        The original labels in class-index order (class ``k`` is ``classes[k]``); None for
        linear.
    feature_names : list of str or None
        The features' names (a CSV header), or None.
    target_name : str or None
        The target column's name (a CSV header), or None.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, *, output: str,
                 classes: np.ndarray | None = None,
                 feature_names: Sequence[str] | None = None,
                 target_name: str | None = None) -> None:
        self.X = X
        self.Y = Y
        self.output = output
        self.classes = classes
        self.feature_names = None if feature_names is None else [str(n) for n in feature_names]
        self.target_name = target_name

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.Y))

    def __repr__(self) -> str:
        classes = "" if self.classes is None else f", classes={self.classes.tolist()!r}"
        return (f"Dataset(X: {self.X.shape}, Y: {self.Y.shape}, output={self.output!r}"
                f"{classes})")

    def labels(self, predictions: Any) -> np.ndarray:
        """Map ``model.predict(...)`` output (any backend) back to the original labels.

        Parameters
        ----------
        predictions : array-like
            Class indices or 0/1 labels of shape ``(1, m)`` (what ``Model.predict`` returns
            for softmax and sigmoid), one-hot or probabilities ``(C, m)``; for a linear
            output, the predicted values ``(1, m)``.

        Returns
        -------
        numpy.ndarray, shape (m,)
            The labels, taken from ``classes`` (the values for linear).

        Examples
        --------
        >>> import numpy as np
        >>> data = from_samples(np.zeros((3, 1)), ["cat", "dog", "cat"])
        >>> data.labels(np.array([[1, 0, 1]])).tolist()
        ['dog', 'cat', 'dog']
        """
        from portable_nn.backend import to_numpy

        values = np.asarray(to_numpy(predictions))
        if values.ndim == 1:
            values = values.reshape(1, -1)
        if values.ndim != 2:
            raise ValueError(f"predictions must have shape (1, m) or (C, m), got {values.shape}")
        if self.classes is None:
            if values.shape[0] != 1:
                raise ValueError(f"predictions of a linear output must be (1, m), got "
                                 f"{values.shape}")
            return values[0]
        if values.shape[0] > 1:
            indices = values.argmax(axis=0)
        else:
            indices = np.rint(values[0]).astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.classes.shape[0]):
            raise ValueError(f"predictions hold class indices outside 0..{len(self.classes) - 1}")
        return self.classes[indices]

    def split(self, test_fraction: float = 0.2, *, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Hold out a fraction of the samples: ``(train, test)``, reproducible from ``seed``.

        Classification data is split per class (stratified: each class keeps its share in
        both parts); regression data is shuffled. Samples keep their order within each part.

        Parameters
        ----------
        test_fraction : float
            The share of the samples held out, in (0, 1).
        seed : int
            Seeds the draw.

        Returns
        -------
        train, test : Dataset

        Examples
        --------
        >>> import numpy as np
        >>> data = from_samples(np.arange(10.0).reshape(10, 1), [0, 1] * 5)
        >>> train, test = data.split(0.2)
        >>> train.X.shape, test.X.shape
        ((1, 8), (1, 2))
        """
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or \
                not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
        rng = np.random.default_rng(seed)
        test = _held_out(self._groups(), float(test_fraction), rng)
        m = self.X.shape[1]
        if not 0 < test.size < m:
            raise ValueError(f"test_fraction={test_fraction} of {m} samples leaves no test or "
                             "no training sample")
        keep = np.setdiff1d(np.arange(m), test)
        return self._subset(keep), self._subset(test)

    def _groups(self) -> list[np.ndarray]:
        """Sample indices per class (one group of all samples for linear)."""
        m = self.X.shape[1]
        if self.classes is None:
            return [np.arange(m)]
        codes = self.Y.argmax(axis=0) if self.Y.shape[0] > 1 else self.Y[0]
        return [np.flatnonzero(codes == k) for k in range(self.classes.shape[0])]

    def _subset(self, columns: np.ndarray) -> Dataset:
        return Dataset(np.ascontiguousarray(self.X[:, columns]),
                       np.ascontiguousarray(self.Y[:, columns]), output=self.output,
                       classes=self.classes, feature_names=self.feature_names,
                       target_name=self.target_name)


def _held_out(groups: list[np.ndarray], fraction: float, rng: np.random.Generator) -> np.ndarray:
    picked = []
    for group in groups:
        n_test = round(group.size * fraction)
        picked.append(rng.permutation(group)[:n_test])
    return np.sort(np.concatenate(picked))


def _column_index(column: int | str, table: Any, what: str) -> int:
    """The index of ``column`` (a header name or an index, negative from the end)."""
    width = table.n_columns
    if isinstance(column, str):
        if table.header is None:
            raise ValueError(f"{table.path}: {what}={column!r} names a column, but the file has "
                             "no header row (pass header=True, or a column index)")
        if column not in table.header:
            raise ValueError(f"{table.path}: no column named {column!r}; the header has "
                             f"{table.header}")
        found = [j + 1 for j, name in enumerate(table.header) if name == column]
        if len(found) > 1:
            raise ValueError(f"{table.path}: {what}={column!r} is ambiguous: the header has it in "
                             f"columns {found}; pass the column's index instead (from 0)")
        return table.header.index(column)
    if not -width <= column < width:
        raise ValueError(f"{table.path}: {what}={column} is outside the file's {width} columns")
    return int(column) % width


def _check_column_arg(name: str, column: Any) -> None:
    if isinstance(column, bool) or not isinstance(column, (int, str, np.integer)):
        raise TypeError(f"{name} must be a column index (int) or a column name (str), got "
                        f"{type(column).__name__}: {column!r}")


def _drop_arg(drop: Any) -> list[int | str]:
    if isinstance(drop, (str, int, np.integer)) and not isinstance(drop, bool):
        drop = [drop]
    try:
        columns = list(drop)
    except TypeError:
        raise TypeError(f"drop must be a sequence of column indices or names, got "
                        f"{type(drop).__name__}: {drop!r}") from None
    for column in columns:
        _check_column_arg("each column of drop", column)
    return columns


#: Cells that read as NaN or an infinity (``float`` accepts them): missing values, not labels.
_NOT_FINITE = {f"{sign}{word}" for sign in ("", "+", "-")
               for word in ("nan", "inf", "infinity")}


def _target_values(table: Any, column: int) -> np.ndarray:
    """The target cells: exact integers, finite floats, or text (``ValueError`` for NaN/inf)."""
    cells = [row[column] for row in table.rows]
    for i, cell in enumerate(cells):
        if not cell:
            raise ValueError(f"{table.where(i, column)}: an empty target cell")
        if cell.lower() in _NOT_FINITE:
            raise ValueError(f"{table.where(i, column)}: the target {cell!r} is not a finite "
                             "number (NaN and infinities are missing values, not targets); "
                             "remove those rows")
    try:  # exact, however many digits: labels come back as they were
        return integer_array([int(cell) for cell in cells])
    except ValueError:
        pass
    numbers = [parse_number(cell) for cell in cells]
    if all(n is not None for n in numbers):
        return np.asarray(numbers, dtype=np.float64)
    return np.asarray(cells)


def from_csv(path: str | os.PathLike[str], *, target: int | str = -1,
             header: bool | str = "infer", output: str = "auto",
             delimiter: str | None = ",", encoding: str | None = None,
             drop: Sequence[int | str] = ()) -> Dataset:
    r"""Read a CSV file of samples (one per row) into a :class:`Dataset`.

    Parameters
    ----------
    path : str or path-like
        The file: one sample per row, the features as numbers, and one target column.
    target : int or str
        The target column: an index (from 0; ``-1``, the last, by default) or a header name.
    header : bool or "infer"
        Whether the first row holds column names. ``"infer"``: it does when none of its
        feature cells is a number.
    output : {"auto", "sigmoid", "softmax", "linear"}
        ``"auto"``: ``"linear"`` for targets that are numbers not all whole (or whole numbers
        with many distinct values, with a warning: see
        :func:`~portable_nn.datasets.from_samples`), else ``"sigmoid"`` for two classes and
        ``"softmax"`` for more. Class labels may be numbers or text (``"setosa"``).
    delimiter : str or None
        The cell separator; None detects it (one of ``, ; tab |``, by ``csv.Sniffer``).
    encoding : str or None
        The file's text encoding. None: the one its byte-order mark names (UTF-8, UTF-16,
        UTF-32), else UTF-8.
    drop : sequence of int or str
        Columns to leave out (indices or header names), such as an ID column; they need not
        hold numbers.

    Returns
    -------
    Dataset
        ``X`` float64 ``(n_x, m)``; ``Y`` as the output needs; ``classes``; ``feature_names``
        and ``target_name`` from the header.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        Naming the row and column: ragged rows, a feature cell that is not a number (empty
        cells included), a quote never closed, a cell over the csv module's size limit, a
        NaN or infinite target, a single class; naming the byte offset: text that is not
        in the encoding; an unknown or ambiguous (a header name used twice) ``target`` or
        ``drop`` column, an unknown ``output`` or ``encoding``, a folder.

    Warns
    -----
    UserWarning
        For whole-number targets with more than 20 distinct values (see ``output``).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> _ = open(path, "w").write("x1,x2,kind\n0.5,1.0,cat\n1.5,0.0,dog\n2.0,0.5,cat\n")
    >>> data = from_csv(path)
    >>> data.X.shape, data.Y.shape, data.output, data.classes.tolist()
    ((2, 3), (1, 3), 'sigmoid', ['cat', 'dog'])
    >>> X, Y = data
    """
    _check_column_arg("target", target)
    dropped = _drop_arg(drop)
    if header not in (True, False, "infer"):
        raise ValueError(f"header must be True, False or 'infer', got {header!r}")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise ValueError(f"delimiter must be one character or None (detect it), got "
                         f"{delimiter!r}")
    check_encoding(encoding)
    named = [c for c in (target, *dropped) if isinstance(c, str)]
    if named and header == "infer":
        header = True

    def feature_columns(width: int) -> list[int]:
        skip = {int(c) % width for c in (target, *dropped) if -width <= int(c) < width}
        return [j for j in range(width) if j not in skip]

    table = read_table(path, header=header, delimiter=delimiter, encoding=encoding,
                       feature_columns=None if named else feature_columns)
    column = _column_index(target, table, "target")
    skip = {_column_index(c, table, "drop") for c in dropped}
    if column in skip:
        raise ValueError(f"{table.path}: drop={dropped} includes the target "
                         f"{table.column_name(column)}")
    skip.add(column)
    features = [j for j in range(table.n_columns) if j not in skip]
    if not features:
        raise ValueError(f"{table.path}: {table.n_columns} column(s) and none left for features "
                         "(need at least one feature column and the target column)")
    X = numeric_columns(table, features)
    where = f"{table.path}, target {table.column_name(column)}"
    Y, output, classes = encode_targets(_target_values(table, column), output=output,
                                        where=where)
    names = None if table.header is None else [table.header[j] for j in features]
    target_name = None if table.header is None else table.header[column]
    return Dataset(np.ascontiguousarray(X.T), Y, output=output, classes=classes,
                   feature_names=names, target_name=target_name)


def from_samples(X: Any, y: Any, *, output: str = "auto",
                 feature_names: Sequence[str] | None = None) -> Dataset:
    """Build a :class:`Dataset` from arrays in scikit-learn's layout.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        One row per sample (transposed to portable_nn's ``(n_x, m)``).
    y : array-like, shape (n_samples,)
        One target per sample: class labels (numbers or text) or real values.
    output : {"auto", "sigmoid", "softmax", "linear"}
        As for :func:`from_csv`.
    feature_names : sequence of str, optional
        One name per feature.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For X that is not 2-D numbers, a y that does not match, non-finite values (NaN or
        infinities in X or y, None in y), text mixed with numbers in y, a single class, or the
        wrong number of feature names.

    Warns
    -----
    UserWarning
        For ``output="auto"`` and whole-number ``y`` with more than 20 distinct values: with
        fewer than 20 samples per value on average they are trained as a regression
        (``output="linear"``; pass ``output="softmax"`` for classes), else as that many
        classes (pass ``output="linear"`` for a regression, ``"softmax"`` to silence it).
        scikit-learn's ``type_of_target`` warns likewise.

    Examples
    --------
    >>> import numpy as np
    >>> data = from_samples(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), [2, 0, 1])
    >>> data.X.shape, data.Y.shape, data.output
    ((2, 3), (3, 3), 'softmax')
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, (n_samples, n_features), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X holds NaN or infinite values (first at sample {row}, feature "
                         f"{col}); clean the data first")
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), one target per row of X, got "
                         f"{y.shape}")
    if feature_names is not None and len(feature_names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(feature_names)} names for {X.shape[1]} "
                         "features")
    Y, output, classes = encode_targets(y, output=output, where="y")
    return Dataset(np.ascontiguousarray(X.T), Y, output=output, classes=classes,
                   feature_names=feature_names)
