"""Read a delimited text file into cells, and turn feature cells into numbers.

Errors name the file, the row (the line number in the file) and the column (1-based, with its
header name when there is one).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

__all__ = ["Table", "check_encoding", "numeric_columns", "parse_number", "read_table", "read_text",
           "sniff_delimiter"]


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


#: Byte-order marks and the codec that reads past them (UTF-32's before UTF-16's: FF FE 00 00
#: starts with FF FE).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))

#: The delimiters :func:`sniff_delimiter` chooses from.
SNIFFED = ",;\t|"

_ENCODING_HINT = ("pass encoding= with the file's encoding (for example encoding='latin-1', "
                  "'cp1252' or 'utf-16'; the command line's --encoding)")


def check_encoding(encoding: str | None) -> None:
    """Raise ``ValueError`` unless ``encoding`` is None or a text codec Python knows."""
    if encoding is None:
        return
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a codec name such as 'utf-8' or 'latin-1', or None, "
                        f"got {type(encoding).__name__}: {encoding!r}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"encoding={encoding!r} is not a text encoding Python knows") from None


def read_text(path: str, encoding: str | None) -> str:
    """The file's text: decoded from ``encoding``, or (None) from its byte-order mark or UTF-8.

    Raises ``ValueError`` naming the file and the byte offset of the first byte that does not
    decode, with a hint to pass ``encoding=``.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    bom = next((codec for mark, codec in _BOMS if data.startswith(mark)), None)
    if encoding is None:
        codec = bom or "utf-8"
        if bom is None and b"\x00" in data:
            offset = data.index(b"\x00")
            line = data.count(b"\n", 0, offset) + 1
            raise ValueError(f"{path}: byte offset {offset} (line {line}) is a NUL byte and "
                             "the file starts with no byte-order mark: UTF-16 or UTF-32 text "
                             "without one? "
                             f"{_ENCODING_HINT.replace('utf-16', 'utf-16-le')}")
    else:
        utf8 = codecs.lookup(encoding).name == "utf-8"
        codec = "utf-8-sig" if utf8 and bom == "utf-8-sig" else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        found = "BOM-detected " if encoding is None and bom else ""
        raise ValueError(f"{path}: byte offset {exc.start} (line {line}) is not valid "
                         f"{found}{codec} text ({data[exc.start:exc.start + 4]!r}...); "
                         f"{_ENCODING_HINT}") from None


def sniff_delimiter(text: str) -> str:
    r"""The delimiter of ``text`` (one of ``SNIFFED``), by ``csv.Sniffer``; ``","`` if unsure.

    Examples
    --------
    >>> sniff_delimiter("a;b;c\n1;2;3\n4;5;6\n"), sniff_delimiter("1\n2\n")
    (';', ',')
    """
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[:sample.rindex("\n") + 1]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFFED).delimiter
    except csv.Error:
        return ","


def _scan_record(text: str, delimiter: str) -> tuple[list[int], bool]:
    """Walk one record of ``text`` as the csv module does (quotes doubled, not strict).

    Returns the length of each of its cells and whether the text ends inside quotes (a quote
    that is never closed). Only error messages use it.
    """
    lengths, quoted, at_start, i = [0], False, True, 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1:i + 2] == '"':
                i += 1
                lengths[-1] += 1
            elif char == '"':
                quoted = False
            else:
                lengths[-1] += 1
        elif char == delimiter:
            lengths.append(0)
            at_start = True
            i += 1
            continue
        elif char in "\r\n":
            break
        elif char == '"' and at_start:
            quoted = True
        else:
            lengths[-1] += 1
        at_start = False
        i += 1
    return lengths, quoted


def _record_text(text: str, line: int) -> str:
    """The text from line ``line`` (1-based, as ``csv.reader.line_num`` counts) to the end."""
    return "".join(itertools.islice(io.StringIO(text, newline=""), line - 1, None))


def _unclosed(path: str, line: int, column: int) -> str:
    return (f"{path}, row {line}, column {column}: a quote (\") opened here is never closed, so "
            "the cell runs on to the end of the file; close it, or remove it")


def _csv_error(path: str, text: str, line: int, delimiter: str, exc: csv.Error) -> ValueError:
    """The csv module's error, as a ``ValueError`` naming the file, row and (if known) column."""
    if "field limit" not in str(exc):
        return ValueError(f"{path}, row {line}: {exc}")
    limit = csv.field_size_limit()
    lengths, quoted = _scan_record(_record_text(text, line), delimiter)
    column = next((j for j, n in enumerate(lengths) if n > limit), len(lengths) - 1) + 1
    if quoted:
        return ValueError(_unclosed(path, line, column))
    return ValueError(f"{path}, row {line}, column {column}: a cell longer than the csv "
                      f"module's limit of {limit} characters")


def _cells(path: str, delimiter: str | None,
           encoding: str | None) -> tuple[list[list[str]], list[int], str]:
    text = read_text(path, encoding)
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    rows, lines, line = [], [], 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if any(cells):  # blank lines are skipped
                rows.append(cells)
                lines.append(line)  # the line the row starts on
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _csv_error(path, text, line, delimiter, exc) from None
    if rows:  # non-strict csv ends a never-closed quote at the end of the file, silently
        lengths, quoted = _scan_record(_record_text(text, lines[-1]), delimiter)
        if quoted:
            raise ValueError(_unclosed(path, lines[-1], len(lengths)))
    return rows, lines, delimiter


def _looks_like_header(cells: list[str], feature_columns: list[int]) -> bool:
    """A first row none of whose feature cells is a number is a header."""
    return all(parse_number(cells[j]) is None for j in feature_columns)


def read_table(path: str | os.PathLike[str], *, header: bool | str, delimiter: str | None,
               encoding: str | None = None,
               feature_columns: Callable[[int], list[int]] | None = None) -> Table:
    """Read ``path`` into a :class:`Table`; ``header`` is True, False or ``"infer"``.

    ``delimiter`` None: detected (:func:`sniff_delimiter`). ``encoding`` None: the byte-order
    mark's, else UTF-8 (:func:`read_text`). With ``"infer"``, the first row is a header when
    none of its cells in ``feature_columns(n_columns)`` (a callable giving the feature column
    indices; all columns by default) is a number. Raises ``ValueError`` naming the row for
    ragged rows, a quote never closed or a cell over the csv module's limit, naming the byte
    offset for text that does not decode, and for a folder or a file with no data rows.
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise ValueError(f"{name}: is a folder, not a CSV file")
    if not os.path.isfile(name):
        raise FileNotFoundError(f"no such file: {name}")
    rows, lines, delimiter = _cells(name, delimiter, encoding)
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
