"""Sample chunks: column slices of in-memory arrays, or of out-of-core array-likes read lazily.

Training with ``chunk_size`` visits the samples (columns) of ``X`` and ``Y`` one chunk at a
time. An array of the run's backend is sliced in place (views, no copy). Any other 2-D
array-like whose columns can be sliced (a NumPy ``memmap``, an h5py ``Dataset``, a zarr
``Array``, ...) is *out of core*: it is never read whole, only ``array[:, start:stop]`` for one
chunk at a time, converted to the backend (moved to its device) with :func:`from_host`, while
the next chunk is read and moved on a background thread. On a GPU backend this overlaps the
disk read and host-to-device copy of chunk ``k + 1`` with the computation on chunk ``k``, so
host-resident (or on-disk) data larger than the GPU's memory trains.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj

from portable_nn.backend._convert import from_host, sparse_library, to_backend
from portable_nn.backend._selector import Backend

__all__ = ["ColumnReader", "column_bounds", "column_chunks", "is_out_of_core",
           "mapped_file_problem", "read_whole"]


def is_out_of_core(array: Any) -> bool:
    """Whether ``array`` is a 2-D array-like to read by column slices rather than load whole.

    True for a NumPy ``memmap`` and for any object with a 2-D ``shape``, a ``dtype`` and
    ``__getitem__`` that is not an array of an array-API library (h5py datasets, zarr arrays,
    user wrappers); False for in-memory arrays, lists, scalars and sparse arrays (which the
    conversion refuses by name).

    Examples
    --------
    >>> import numpy as np
    >>> is_out_of_core(np.zeros((2, 3))), is_out_of_core([[1.0, 2.0]])
    (False, False)
    """
    if isinstance(array, np.memmap):
        return True
    if isinstance(array, (np.ndarray, list, tuple)) or is_array_api_obj(array):
        return False
    if sparse_library(array) is not None:
        return False
    shape = getattr(array, "shape", None)
    return (shape is not None and len(shape) == 2 and hasattr(array, "dtype")
            and hasattr(array, "__getitem__"))


class ColumnReader:
    """An out-of-core ``(rows, m)`` array-like, read one column range at a time.

    Parameters
    ----------
    array : array-like
        Anything :func:`is_out_of_core` accepts; only ``array[:, start:stop]`` is ever asked.
    backend : Backend
        Where each chunk goes (dtype and device of the run).
    name : str
        The argument's name, for error messages.
    """

    def __init__(self, array: Any, backend: Backend, *, name: str) -> None:
        self.array, self.backend, self.name = array, backend, name
        self.shape = tuple(int(n) for n in array.shape)
        kind = np.dtype(array.dtype).kind
        if kind not in "fiub":
            raise TypeError(f"{name} must hold real numbers (float, int or bool), got dtype "
                            f"{array.dtype}; convert it to a numeric array first")

    def read(self, start: int, stop: int) -> Any:
        """Columns ``start:stop`` as an array of the backend, on its device.

        Raises
        ------
        ValueError
            Naming the array and the columns, when the array no longer has its shape (a
            dataset resized during the run), when the slice read back does not have the
            shape asked for (a reader returning short slices), or when a memmap's file is
            shorter than the mapping (truncated on disk: reading would kill the process with
            SIGBUS).
        """
        where = f"{self.name}: chunk of columns {start}:{stop}"
        now = tuple(int(n) for n in self.array.shape)
        if now != self.shape:
            raise ValueError(f"{where}: {self.name} changed shape from {self.shape} to {now} "
                             "during the run (a dataset resized or rewritten while training "
                             "reads it?)")
        _check_mapped_file(self.array, where)
        chunk = np.asarray(self.array[:, start:stop])
        wanted = (self.shape[0], stop - start)
        if chunk.shape != wanted:
            raise ValueError(f"{where}: reading {self.name}[:, {start}:{stop}] gave shape "
                             f"{chunk.shape}, expected {wanted}: the data shrank, or its "
                             "__getitem__ returns short slices")
        if not chunk.flags.writeable:  # a read-only mapping's view: never alias the file
            chunk = chunk.copy()
        ops = self.backend.ops
        if ops.on_gpu(self.backend.device):  # CuPy, PyTorch on CUDA: copied on a side stream
            if chunk.dtype.kind not in "fiub":
                return from_host(chunk, self.backend, name=self.name)  # raises naming it
            host = np.ascontiguousarray(chunk, dtype=np.dtype(self.backend.dtype_name))
            return ops.copy_on_side_stream(host, self.backend)
        return from_host(chunk, self.backend, name=self.name)

    @staticmethod
    def accepts(array: Any) -> bool:
        """Whether ``array`` is out of core: read by column ranges, never whole.

        True for a NumPy ``memmap`` and for any object with a 2-D ``shape``, a ``dtype`` and
        ``__getitem__`` that is not an array of an array-API library (h5py datasets, zarr
        arrays, user wrappers).
        """
        return is_out_of_core(array)

    @staticmethod
    def read_whole(array: Any, backend: Backend, *, name: str) -> Any:
        """An out-of-core ``array`` as one array of ``backend`` (runs without ``chunk_size``).

        A memmap is converted after its file is found to hold the whole mapping; an
        array-like without ``__array__`` is read as ``array[:, 0:m]``, its shape checked.
        """
        return read_whole(array, backend, name=name)

    @staticmethod
    def chunks(arrays: Sequence[Any], size: int) -> Iterator[tuple[Any, ...]]:
        """The columns of every array of ``arrays``, ``size`` at a time.

        Arrays of the backend are sliced (views); with a :class:`ColumnReader` among them,
        chunk ``k + 1`` is read and moved on a background thread while chunk ``k`` is used.
        """
        return column_chunks(arrays, size)


def read_whole(array: Any, backend: Backend, *, name: str) -> Any:
    """An out-of-core ``array`` (:func:`is_out_of_core`) as one array of ``backend``.

    For runs without ``chunk_size``. A memmap is converted as it is, after its file is found
    to hold the whole mapping (a truncated file would crash the process); an array-like that
    NumPy cannot convert (no ``__array__``: one that only answers ``array[:, start:stop]``) is
    read as ``array[:, 0:m]``, its shape checked; h5py and zarr arrays convert themselves.
    """
    if not hasattr(array, "__array__"):
        reader = ColumnReader(array, backend, name=name)
        return reader.read(0, reader.shape[1])
    _check_mapped_file(array, name)
    return to_backend(array, backend, name=name)


def mapped_file_problem(array: Any) -> str | None:
    """Why reading the NumPy ``memmap`` ``array`` would crash (None when it would not).

    A memmap whose file was truncated after it was opened maps pages past the end of the
    file: touching them kills the process with SIGBUS, which Python cannot catch. The file
    must still hold the whole mapping, ``offset + nbytes`` of the array it was opened as
    (views share that mapping).
    """
    filename = getattr(array, "filename", None)
    if not isinstance(array, np.memmap) or not filename:
        return None
    mapping = getattr(array, "_mmap", None)
    offset = int(getattr(array, "offset", 0) or 0)
    if mapping is not None:
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        needed = start + len(mapping)
    else:
        needed = offset + array.nbytes
    try:
        size = os.stat(filename).st_size
    except OSError as exc:
        return f"its file {filename!r} cannot be read any more ({exc.strerror})"
    if size < needed:
        return (f"its file {filename!r} has {size} bytes, fewer than the {needed} it "
                "had when mapped (truncated on disk?)")
    return None


def _check_mapped_file(array: Any, where: str) -> None:
    problem = mapped_file_problem(array)
    if problem is not None:
        raise ValueError(f"{where}: not read, {problem}; reading it would crash the process "
                         "(SIGBUS)")


def column_bounds(m: int, size: int) -> list[tuple[int, int]]:
    """``[(0, size), (size, 2 size), ...]`` covering ``range(m)``; the last may be shorter.

    Examples
    --------
    >>> column_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    return [(start, min(start + size, m)) for start in range(0, m, size)]


def column_chunks(arrays: Sequence[Any], size: int) -> Iterator[tuple[Any, ...]]:
    """Yield, chunk by chunk, the columns of every array of ``arrays`` (same column count).

    Arrays of the backend are sliced (views). With any :class:`ColumnReader` among them the
    chunks are read ahead: chunk ``k + 1`` is read and moved to the device on a background
    thread while chunk ``k`` is used, so at most two chunks are in memory at once.
    """
    bounds = column_bounds(arrays[0].shape[1], size)

    def take(start: int, stop: int) -> tuple[Any, ...]:
        return tuple(a.read(start, stop) if isinstance(a, ColumnReader) else a[:, start:stop]
                     for a in arrays)

    if not any(isinstance(a, ColumnReader) for a in arrays):
        for start, stop in bounds:
            yield take(start, stop)
        return
    yield from _read_ahead(take, bounds)


def _read_ahead(take: Any, bounds: list[tuple[int, int]]) -> Iterator[tuple[Any, ...]]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="portable_nn-read") as pool:
        pending = pool.submit(take, *bounds[0])
        for nxt in bounds[1:]:
            current = pending.result()
            pending = pool.submit(take, *nxt)
            yield current
            del current  # the consumer holds its own reference while it computes
        yield pending.result()
