"""Read a delimited text file into cells, and turn feature cells into numbers.

Errors name the file, the row (the line number in the file) and the column (1-based, with its
header name when there is one).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

__all__ = ["Table", "numeric_columns", "parse_number", "read_table"]


@dataclass
class Table:
    """The cells of a delimited file: an optional header and rows of equal length."""

    path: str
    header: list[str] | None
    rows: list[list[str]]
    lines: list[int]  # the file's line number of every row, for error messages

    @property
    def n_columns(self) -> int:
        """The number of cells of every row."""
        return len(self.header if self.header is not None else self.rows[0])

    def column_name(self, index: int) -> str:
        """``"column 3"``, or ``"column 3 ('petal_length')"`` when there is a header."""
        name = f"column {index + 1}"
        return name if self.header is None else f"{name} ({self.header[index]!r})"

    def where(self, row: int, column: int) -> str:
        """``"iris.csv, row 7, column 3"``: where a cell comes from."""
        return f"{self.path}, row {self.lines[row]}, {self.column_name(column)}"


def parse_number(text: str) -> float | None:
    """Return ``text`` as a finite float, or None when it is not one.

    Examples
    --------
    >>> parse_number(" 2.5 "), parse_number("setosa"), parse_number("nan")
    (2.5, None, None)
    """
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _cells(path: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    rows, lines = [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for row in reader:
            cells = [cell.strip() for cell in row]
            if any(cells):  # blank lines are skipped
                rows.append(cells)
                lines.append(reader.line_num)
    return rows, lines


def _looks_like_header(cells: list[str], feature_columns: list[int]) -> bool:
    """A first row none of whose feature cells is a number is a header."""
    return all(parse_number(cells[j]) is None for j in feature_columns)


def read_table(path: str | os.PathLike[str], *, header: bool | str, delimiter: str,
               feature_columns: Callable[[int], list[int]] | None = None) -> Table:
    """Read ``path`` into a :class:`Table`; ``header`` is True, False or ``"infer"``.

    With ``"infer"``, the first row is a header when none of its cells in
    ``feature_columns(n_columns)`` (a callable giving the feature column indices; all columns
    by default) is a number. Raises ``ValueError`` naming the row for ragged rows, and for a
    file with no data rows.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"no such file: {name}")
    rows, lines = _cells(name, delimiter)
    if not rows:
        raise ValueError(f"{name}: no rows (the file is empty)")
    width = len(rows[0])
    for cells, line in zip(rows, lines, strict=True):
        if len(cells) != width:
            raise ValueError(f"{name}, row {line}: {len(cells)} cells where row {lines[0]} has "
                             f"{width} (ragged rows; is the delimiter {delimiter!r} right?)")
    if header == "infer":
        columns = list(range(width)) if feature_columns is None else feature_columns(width)
        header = _looks_like_header(rows[0], columns)
    names = rows[0] if header else None
    table = Table(name, names, rows[1:] if header else rows, lines[1:] if header else lines)
    if not table.rows:
        raise ValueError(f"{name}: a header and no data rows")
    return table


def numeric_columns(table: Table, columns: list[int]) -> np.ndarray:
    """The cells of ``columns`` as float64, shape ``(n_rows, len(columns))``.

    Raises ``ValueError`` naming the first cell that is not a finite number.
    """
    cells = [[row[j] for j in columns] for row in table.rows]
    try:  # NumPy parses the whole block at once; the cell by cell pass only finds the culprit
        out = np.array(cells, dtype=np.float64).reshape(len(cells), len(columns))
    except ValueError:
        out = None
    if out is None or not np.all(np.isfinite(out)):
        _raise_first_bad_cell(table, columns)
    return out


def _raise_first_bad_cell(table: Table, columns: list[int]) -> NoReturn:
    for i, row in enumerate(table.rows):
        for j in columns:
            if parse_number(row[j]) is None:
                what = "an empty cell" if not row[j] else f"{row[j]!r} is not a finite number"
                raise ValueError(f"{table.where(i, j)}: {what}; features must be numbers "
                                 "(missing values are not supported)")
    raise ValueError(f"{table.path}: the features are not all finite numbers")
