"""Read and write ``.npz`` files of host arrays: atomic writes, loads that never unpickle.

This module holds the NumPy side of :mod:`portable_nn.training._persistence`, so that the
training layer never names NumPy. Arrays of any backend are brought to the host with
:func:`~portable_nn.backend.to_numpy` before writing; reads return NumPy arrays, which the
caller moves to a backend with :func:`~portable_nn.backend.from_host`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from portable_nn.backend._convert import to_numpy

__all__ = ["NpzReadError", "read_npz", "write_npz_atomic"]


class NpzReadError(ValueError):
    """The file could not be read as an ``.npz`` archive of plain (non-object) arrays."""


def _write_npz(handle: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` archive into the open binary ``handle``."""
    np.savez(handle, **arrays)


def write_npz_atomic(path: str | os.PathLike[str], arrays: Mapping[str, Any],
                     texts: Mapping[str, str]) -> Path:
    """Write ``arrays`` and ``texts`` to ``path`` as one ``.npz`` file, atomically.

    The archive is written to a temporary file in the target's folder, flushed and fsynced,
    then renamed over ``path`` with :func:`os.replace`. A crash at any point leaves either the
    old file or the new one, never a torn file; the temporary file is removed on failure.

    Parameters
    ----------
    path : str or path-like
        The target file. Its name is used as given (no ``.npz`` is appended).
    arrays : mapping
        ``{name: array}``; arrays of any supported backend (brought to the host first).
    texts : mapping
        ``{name: str}``; each stored as a NumPy unicode scalar under ``name``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileNotFoundError
        When the target's folder does not exist.
    """
    target = Path(os.fspath(path))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cannot save to {str(target)!r}: the folder {str(folder)!r} does not exist"
        )
    host = {name: np.ascontiguousarray(to_numpy(value)) for name, value in arrays.items()}
    host.update({name: np.asarray(text, dtype=np.str_) for name, text in texts.items()})
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        _set_mode(tmp, target)
        with os.fdopen(fd, "wb") as handle:
            _write_npz(handle, host)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)
    return target


def _set_mode(tmp: str, target: Path) -> None:
    """Give the new file the old file's permissions, else the usual ``0o666 & ~umask``.

    ``mkstemp`` creates files readable by their owner only; a plain ``open`` would not.
    """
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows opening a folder (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_npz(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every entry of the ``.npz`` file at ``path``, never unpickling.

    Returns
    -------
    arrays : dict
        ``{name: numpy.ndarray}`` for the numeric entries.
    texts : dict
        ``{name: str}`` for the unicode-string entries (0-d).

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    NpzReadError
        When the file is not an ``.npz`` archive, is truncated or corrupted, or holds object
        (pickled) arrays: ``allow_pickle=False`` refuses them without running any code.
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"no model file at {name!r}")
    if os.path.isdir(name):
        raise NpzReadError(f"{name!r} is a folder, not a model file")
    arrays: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    try:
        loaded = np.load(name, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise NpzReadError(f"{name!r} holds a single array (.npy), not an .npz archive")
        with loaded as archive:
            for key in archive.files:
                value = archive[key]
                if value.dtype.kind == "U" and value.ndim == 0:
                    texts[key] = str(value[()])
                else:
                    arrays[key] = value
    except NpzReadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            KeyError, UnicodeDecodeError) as exc:
        raise NpzReadError(_read_problem(name, exc)) from exc
    return arrays, texts


def _read_problem(name: str, exc: BaseException) -> str:
    text = str(exc)
    if "pickle" in text.lower():
        return (f"{name!r} is not an .npz archive of plain arrays (it would need unpickling, "
                f"which portable_nn never does): {text}")
    return f"{name!r} is not a readable .npz archive (truncated or corrupted?): " \
           f"{type(exc).__name__}: {text}"
