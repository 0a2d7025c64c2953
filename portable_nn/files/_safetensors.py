"""Model files in the safetensors format: atomic writes, checked reads through the library.

The safetensors side of :mod:`portable_nn.training._persistence` (a model saved to a path
ending in ``.safetensors``). A safetensors file is an 8-byte header length, a JSON header
(each tensor's dtype, shape and byte range, plus a ``__metadata__`` object of strings) and
the raw little-endian data. The model's JSON metadata is one string of ``__metadata__``;
parameters, optimizer state and standardisation are tensors, named as in an ``.npz`` file.

:class:`SafetensorsArchive` reads such a file with the interface of
:class:`~portable_nn.files.NpzArchive` (``names``, ``read_text``, ``read_array``), so the
loader's checks (which members a model needs, their shapes and dtypes) are written once for
both formats. The safetensors library validates the header when the file is opened (its
length, its JSON, every byte range inside the data and the data fully covered); every
failure is an :class:`~portable_nn.files.NpzReadError` naming the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from portable_nn.backend import to_numpy
from portable_nn.files._io import NpzReadError, open_regular_file, write_atomic

__all__ = ["SafetensorsArchive", "write_safetensors_atomic"]

INSTALL_HINT = ("install the extra: pip install 'portable-nn[safetensors]' (from a clone: "
                "pip install -e '.[safetensors]')")
_DTYPES = {"F32": np.dtype(np.float32), "F64": np.dtype(np.float64)}


def _library() -> Any:
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError(f".safetensors model files need the safetensors library: "
                          f"{INSTALL_HINT}") from exc
    return safetensors


def write_safetensors_atomic(path: str | os.PathLike[str], arrays: Mapping[str, Any],
                             texts: Mapping[str, str]) -> Path:
    """Write ``arrays`` and ``texts`` to ``path`` as one safetensors file, atomically.

    Parameters
    ----------
    path : str or path-like
        The target file, used as given.
    arrays : mapping
        ``{name: array}`` of any supported backend (brought to the host first).
    texts : mapping
        ``{name: str}``, stored in the header's ``__metadata__``.

    Returns
    -------
    pathlib.Path
        The path written (see :func:`~portable_nn.files.write_atomic` for the guarantees).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> write_safetensors_atomic(path, {"W1": np.ones((2, 3))}, {"note": "hi"}).name
    'm.safetensors'
    >>> with SafetensorsArchive(path) as archive:
    ...     sorted(archive.names), archive.read_text("note", max_bytes=10)
    (['W1', 'note'], 'hi')
    """
    library = _library()
    host = {name: np.ascontiguousarray(to_numpy(value)) for name, value in arrays.items()}
    data = library.numpy.save(host, metadata=dict(texts))
    return write_atomic(path, lambda handle: handle.write(data))


class SafetensorsArchive:
    """A safetensors model file opened for checked reads (the interface of ``NpzArchive``).

    The file must be a regular file (see :func:`~portable_nn.files.open_regular_file`);
    the safetensors library then checks its header. Each tensor's dtype and shape are read
    from the header and compared with what the model needs before its data is read.

    Parameters
    ----------
    path : str or path-like
        The ``.safetensors`` file.
    what : str
        What the file is, for messages (``"model file"``).
    """

    def __init__(self, path: str | os.PathLike[str], *, what: str = "model file") -> None:
        library = _library()
        self.name = os.fspath(path)
        with open_regular_file(self.name, what=what) as handle:
            if not handle.read(8):
                raise NpzReadError(f"{self.name!r} is empty (0 bytes), not a {what} "
                                   "(truncated?)")
        try:
            self._file = library.safe_open(self.name, framework="numpy")
            self._handle = self._file.__enter__()
            self._keys = list(self._handle.keys())
            self._meta = dict(self._handle.metadata() or {})
        except Exception as exc:
            raise NpzReadError(f"{self.name!r} is not a readable .safetensors file (truncated "
                               f"or corrupted?): {type(exc).__name__}: {exc}") from exc

    def __enter__(self) -> SafetensorsArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.__exit__(None, None, None)

    @property
    def names(self) -> list[str]:
        """The tensors' names and the header metadata's keys."""
        return [*self._keys, *self._meta]

    def read_text(self, key: str, *, max_bytes: int) -> str:
        """The header metadata's string ``key``, at most ``max_bytes`` bytes (UTF-8)."""
        text = self._meta[key]
        if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise NpzReadError(f"{self.name!r}: metadata entry {key!r} is longer than the "
                               f"{max_bytes} bytes a model's metadata can take")
        return text

    def read_array(self, key: str, shape: tuple[int, ...], dtype: str, *, why: str) -> np.ndarray:
        """The tensor ``key``: refused unless its header says ``shape`` and ``dtype``."""
        if key not in self._keys:
            raise KeyError(key)
        wanted = np.dtype(dtype)
        try:
            view = self._handle.get_slice(key)
            found, found_shape = view.get_dtype(), tuple(int(n) for n in view.get_shape())
        except Exception as exc:
            raise NpzReadError(f"{self.name!r}: tensor {key!r} cannot be read: {exc}") from exc
        if found not in _DTYPES or _DTYPES[found] != wanted:  # (np.dtype(None) is float64)
            raise NpzReadError(f"{self.name!r}: {key!r} has dtype {found}, but the model's "
                               f"dtype is {dtype}")
        if found_shape != shape:
            raise NpzReadError(f"{self.name!r}: {key!r} has shape {found_shape}, but {why} "
                               f"needs {shape}")
        try:
            data = self._handle.get_tensor(key)
        except Exception as exc:
            raise NpzReadError(f"{self.name!r}: tensor {key!r} cannot be read: {exc}") from exc
        if data.shape != shape or data.nbytes != wanted.itemsize * math.prod(shape):
            raise NpzReadError(f"{self.name!r}: tensor {key!r} holds {data.nbytes} bytes, not "
                               f"the {wanted.itemsize * math.prod(shape)} of shape {shape}")
        return np.ascontiguousarray(data, dtype=wanted)
