"""Read and write ``.npz`` files of host arrays: atomic writes, loads that never unpickle.

This module holds the NumPy side of :mod:`portable_nn.training._persistence`, so that the
training layer never names NumPy. Arrays of any backend are brought to the host with
:func:`~portable_nn.backend.to_numpy` before writing; reads return NumPy arrays, which the
caller moves to a backend with :func:`~portable_nn.backend.from_host`.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import signal
import socket
import stat
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from portable_nn.backend import to_numpy

__all__ = [
    "NpzArchive",
    "NpzReadError",
    "interrupts_deferred",
    "open_regular_file",
    "read_npz",
    "remove_stale_temporaries",
    "write_atomic",
    "write_npz_atomic",
]


class NpzReadError(ValueError):
    """The file could not be read as an ``.npz`` archive of plain (non-object) arrays."""


def _write_npz(handle: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` archive into the open binary ``handle``."""
    np.savez(handle, **arrays)  # type: ignore[arg-type]  # the stub checks ** against allow_pickle


TEMP_PREFIX = ".pnn-"  # temporaries: .pnn-<hash of target>-<host>-<pid>-<random>.tmp
TEMP_SUFFIX = ".tmp"


def _short_hash(text: str) -> str:
    return hashlib.sha256(os.fsencode(text)).hexdigest()[:12]


def _temp_prefix(target: Path) -> str:
    """The temporary-file prefix of ``target``: short, whatever the target's name length."""
    return f"{TEMP_PREFIX}{_short_hash(os.path.abspath(target))}-"


def _host_tag() -> str:
    return _short_hash(socket.gethostname())[:6]


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap, safe probe: leave the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: the process exists (another user's)
        return True
    return True


def remove_stale_temporaries(target: Path) -> int:
    """Delete temporaries of saves to ``target`` whose process is gone; return how many.

    A save killed with SIGKILL (or a power cut) cannot remove its temporary file. Its name
    records the target (a hash), the host and the process id, so the next save to the same
    path removes exactly those left by dead processes of this host, never a live writer's.
    """
    folder = target.parent if str(target.parent) else Path(".")
    prefix = f"{_temp_prefix(target)}{_host_tag()}-"
    removed = 0
    try:
        entries = [e.name for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return 0
    for entry in entries:
        pid_text = entry[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or not entry.endswith(TEMP_SUFFIX):
            continue
        pid = int(pid_text)
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(folder / entry)
                removed += 1
    return removed


_pending_interrupts: list[Any] | None = None


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) for the duration of the block, then deliver it.

    Used around atomic writes, so that a second Ctrl-C arriving while an interrupted run's
    checkpoint is written lets the write finish before the interrupt propagates. A no-op
    outside the main thread, when nested, or when SIGINT is ignored or handled outside Python.
    """
    global _pending_interrupts
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if _pending_interrupts is not None or previous in (None, signal.SIG_IGN):
        yield
        return
    received: list[Any] = []
    _pending_interrupts = received
    signal.signal(signal.SIGINT, lambda signum, frame: received.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _pending_interrupts = None
    if received:
        if callable(previous):
            previous(*received[0])
        else:  # SIG_DFL: die of the signal as the default would have
            os.kill(os.getpid(), signal.SIGINT)


def write_npz_atomic(path: str | os.PathLike[str], arrays: Mapping[str, Any],
                     texts: Mapping[str, str]) -> Path:
    """Write ``arrays`` and ``texts`` to ``path`` as one ``.npz`` file, atomically.

    The archive is written to a temporary file in the target's folder, flushed and fsynced,
    then renamed over ``path`` with :func:`os.replace`. A crash at any point leaves either the
    old file or the new one, never a torn file; the temporary file is removed on failure, and
    temporaries left by killed processes are removed by the next save to the same path. The
    temporary's name is short (a hash of the target), so any legal target name works. Ctrl-C
    during the write is held back until the write is done.

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
    host = {name: np.ascontiguousarray(to_numpy(value)) for name, value in arrays.items()}
    host.update({name: np.asarray(text, dtype=np.str_) for name, text in texts.items()})
    return write_atomic(path, lambda handle: _write_npz(handle, host))


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file at ``path`` atomically: ``write(handle)`` fills a temporary, then a rename.

    The one atomic writer of every file format (``.npz``, ``.safetensors``, ``.onnx``): the
    temporary file in the target's folder is flushed and fsynced, then renamed over ``path``
    with :func:`os.replace`; a crash leaves the old file or the new one, never a torn file.
    Ctrl-C is held back until the write is done; temporaries of killed saves are removed.

    Parameters
    ----------
    path : str or path-like
        The target file, used as given.
    write : callable
        ``write(handle)`` writes the file's bytes into the open binary ``handle``.

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
    with interrupts_deferred():
        remove_stale_temporaries(target)
        prefix = f"{_temp_prefix(target)}{_host_tag()}-{os.getpid()}-"
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
        try:
            _set_mode(tmp, target)
            with os.fdopen(fd, "wb") as handle:
                write(handle)
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


_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_MAX_NPY_HEADER = 10_000  # bytes; NumPy's own limit for a trusted header
_MAX_DEFLATE_RATIO = 1032  # deflate never inflates one compressed byte to more than this
_CHUNK = 1 << 20  # members are inflated and copied this many bytes at a time
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _describe_kind(mode: int) -> str:
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def _refuse_special(name: str, mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise NpzReadError(f"{name!r} is a folder, not a {what}")
    if not stat.S_ISREG(mode):
        raise NpzReadError(f"{name!r} is {_describe_kind(mode)}, not a regular file: only "
                           "regular files are read")


def _os_problem(name: str, exc: OSError, what: str) -> Exception:
    if isinstance(exc, FileNotFoundError):
        return FileNotFoundError(f"no {what} at {name!r}")
    if isinstance(exc, PermissionError):
        return PermissionError(exc.errno, f"cannot read {what} {name!r}: permission denied "
                                          "(check the file's and its folders' permissions)")
    return NpzReadError(f"{name!r} cannot be opened: {exc.strerror or exc}")


def open_regular_file(name: str, *, what: str = "model file") -> IO[bytes]:
    """Open ``name`` for binary reading if, and only if, it is a regular file.

    The path is checked with :func:`os.stat` before opening and the open descriptor with
    :func:`os.fstat` after (a file swapped in between is caught); the open itself uses
    ``O_NONBLOCK`` where the platform has it, so a FIFO never blocks. Messages call the file
    ``what`` (``"model file"``, ``"data file"``).

    Raises
    ------
    FileNotFoundError
        When there is no file at ``name``.
    PermissionError
        When the file (or a folder on its path) may not be read.
    NpzReadError
        When ``name`` is a folder, a FIFO, a device or a socket, or cannot be opened.
    """
    try:
        _refuse_special(name, os.stat(name).st_mode, what)
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _os_problem(name, exc, what) from exc
    try:
        _refuse_special(name, os.fstat(fd).st_mode, what)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_zip_magic(name: str, head: bytes, what: str) -> None:
    if head[:4] in _ZIP_MAGICS:
        return
    if not head:
        raise NpzReadError(f"{name!r} is empty (0 bytes), not a {what} (truncated?)")
    if head.startswith(_NPY_MAGIC):
        raise NpzReadError(f"{name!r} holds a single array (.npy), not an .npz archive")
    if head[:1] == b"\x80":
        raise NpzReadError(f"{name!r} holds pickled data, not an .npz archive; loading it would "
                           "need unpickling, which portable_nn never does")
    raise NpzReadError(f"{name!r} is not a zip archive (a {what} is an .npz, which is a zip "
                       f"archive); it starts with {head[:16]!r}")


class NpzArchive:
    """An ``.npz`` file opened for checked reads: no size, header or entry is trusted.

    Each member is looked up in the zip directory, its declared uncompressed size compared with
    the most its expected array can take, and its NPY header (dtype, shape, fortran order)
    checked before a byte of its data is inflated; data are inflated in chunks into an array
    of the expected size. Every failure of the zip or NPY readers is an :class:`NpzReadError`
    naming the file. Use as a context manager.

    Parameters
    ----------
    path : str or path-like
        A regular file (see :func:`open_regular_file`).
    what : str
        What the file is, for messages: ``"model file"`` (the default) or ``"data file"``.
    """

    def __init__(self, path: str | os.PathLike[str], *, what: str = "model file") -> None:
        self.name = os.fspath(path)
        self._handle = open_regular_file(self.name, what=what)
        try:
            _check_zip_magic(self.name, self._handle.read(16), what)
            self._handle.seek(0)
            self._zip = zipfile.ZipFile(self._handle)
            self._infos = {info.filename: info for info in self._zip.infolist()}
        except NpzReadError:
            self._handle.close()
            raise
        except Exception as exc:
            self._handle.close()
            raise NpzReadError(_read_problem(self.name, exc)) from exc

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._zip.close()
        self._handle.close()

    @property
    def names(self) -> list[str]:
        """Entry names as ``np.load`` gives them (``"W1"`` for the member ``W1.npy``)."""
        return [key[:-4] if key.endswith(".npy") else key for key in self._infos]

    @property
    def array_names(self) -> list[str]:
        """The names of the archive's arrays (its ``.npy`` members), in the archive's order."""
        return [key[:-4] for key in self._infos if key.endswith(".npy")]

    def read_text(self, key: str, *, max_bytes: int) -> str:
        """The 0-d unicode entry ``key``, at most ``max_bytes`` bytes uncompressed."""
        with self._member(key, max_bytes) as (handle, dtype, shape, _):
            if dtype.kind != "U" or shape != ():
                raise NpzReadError(f"{self.name!r}: entry {key!r} is not a text entry (dtype "
                                   f"{dtype}, shape {shape})")
            data = self._data(handle, key, dtype, shape, False)
        return str(data[()])

    def read_array(self, key: str, shape: tuple[int, ...], dtype: str, *, why: str) -> np.ndarray:
        """The floating entry ``key``: refused unless its header says ``shape`` and ``dtype``.

        ``why`` names what needs that shape, for the message (``"layer_dims (2, 4, 1)"``).
        """
        wanted = np.dtype(dtype)
        limit = _MAX_NPY_HEADER + wanted.itemsize * math.prod(shape)
        with self._member(key, limit) as (handle, found, found_shape, fortran):
            if found.kind != "f" or found.itemsize != wanted.itemsize:
                raise NpzReadError(f"{self.name!r}: {key!r} has dtype {found}, but the model's "
                                   f"dtype is {dtype}")
            if found_shape != shape:
                raise NpzReadError(f"{self.name!r}: {key!r} has shape {found_shape}, but {why} "
                                   f"needs {shape}")
            data = self._data(handle, key, found, shape, fortran)
        return np.ascontiguousarray(data, dtype=wanted)

    def read_stored(self, key: str) -> np.ndarray:
        """The entry ``key`` as it was saved: any shape and any dtype but objects.

        Nothing is known beforehand of its size, so its declared uncompressed size may be at
        most what its compressed bytes can hold (their size when stored, 1032 times it when
        deflated: deflate's largest ratio); its NPY header must then agree with that size.
        """
        info = self._infos.get(key + ".npy")
        limit = 0 if info is None else info.compress_size * (
            1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO)
        with self._member(key, limit) as (handle, dtype, shape, fortran):
            return self._data(handle, key, dtype, shape, fortran)

    @contextlib.contextmanager
    def _member(self, key: str, limit: int) -> Iterator[tuple[IO[bytes], np.dtype, tuple, bool]]:
        info = self._infos.get(key + ".npy")
        if info is None:
            raise KeyError(key)
        self._check_info(key, info, limit)
        try:
            with self._zip.open(info) as handle:
                yield (handle, *self._header(key, handle, info))
        except (NpzReadError, KeyError):
            raise
        except Exception as exc:
            raise NpzReadError(_read_problem(self.name, exc, key)) from exc

    def _check_info(self, key: str, info: zipfile.ZipInfo, limit: int) -> None:
        where = f"{self.name!r}: entry {key!r}"
        if info.flag_bits & 0x1:
            raise NpzReadError(f"{where} is encrypted; model files never are")
        if info.compress_type not in _METHODS:
            raise NpzReadError(f"{where} uses zip compression method {info.compress_type}; "
                               f"only {sorted(_METHODS.values())} are read")
        if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
            raise NpzReadError(f"{where} needs zip version {info.extract_version / 10:.1f} to "
                               "extract, which is not supported")
        if info.file_size > limit:
            raise NpzReadError(f"{where} declares {info.file_size} bytes uncompressed, more "
                               f"than the {limit} bytes it can need: refused before inflating")

    def _header(self, key: str, handle: IO[bytes],
                info: zipfile.ZipInfo) -> tuple[np.dtype, tuple, bool]:
        version = np.lib.format.read_magic(handle)
        readers = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise NpzReadError(f"{self.name!r}: entry {key!r} has NPY format version {version}, "
                               "not 1.0 or 2.0")
        shape, fortran, dtype = readers[version](handle, max_header_size=_MAX_NPY_HEADER)
        if dtype.hasobject:
            raise NpzReadError(f"{self.name!r}: entry {key!r} is an object array (it would need "
                               "unpickling, which portable_nn never does)")
        size = handle.tell() + dtype.itemsize * math.prod(shape)
        if info.file_size != size:
            raise NpzReadError(f"{self.name!r}: entry {key!r} declares {info.file_size} bytes "
                               f"but its header implies {size} (truncated or corrupted?)")
        return dtype, tuple(shape), bool(fortran)

    def _data(self, handle: IO[bytes], key: str, dtype: np.dtype, shape: tuple,
              fortran: bool) -> np.ndarray:
        buffer = bytearray(dtype.itemsize * math.prod(shape))
        view = memoryview(buffer)
        done = 0
        while done < len(buffer):
            chunk = handle.read(min(_CHUNK, len(buffer) - done))
            if not chunk:
                raise NpzReadError(f"{self.name!r}: entry {key!r} ends early (truncated?)")
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        if handle.read(1):  # reaching the end also checks the member's CRC
            raise NpzReadError(f"{self.name!r}: entry {key!r} is longer than its header says")
        array = np.frombuffer(buffer, dtype=dtype)
        return array.reshape(shape, order="F" if fortran else "C")


def _read_problem(name: str, exc: BaseException, key: str | None = None) -> str:
    text = str(exc)
    where = repr(name) if key is None else f"{name!r} (entry {key!r})"
    return f"{where} is not a readable .npz archive (truncated or corrupted?): " \
           f"{type(exc).__name__}: {text}"


def read_npz(path: str | os.PathLike[str], *, what: str = "data file") -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file, as :func:`numpy.load` would, but checked.

    Only a regular file is opened (a FIFO or a device is refused without blocking), nothing is
    unpickled (object arrays are refused), and no entry may declare more bytes than its
    compressed data can hold (see :meth:`NpzArchive.read_stored`).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    what : str
        What the file is, for messages (``"data file"`` by default).

    Returns
    -------
    dict
        ``{name: numpy.ndarray}`` for every ``.npy`` entry of the archive, in the archive's
        order.

    Raises
    ------
    FileNotFoundError, PermissionError
        When the file is absent or may not be read.
    NpzReadError
        When it is not a regular file, not an ``.npz`` archive, or an entry is corrupted,
        truncated or an object array.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "data.npz")
    >>> np.savez(path, X=np.zeros((2, 3)), Y=np.ones((1, 3), dtype=np.int64))
    >>> {key: value.shape for key, value in read_npz(path).items()}
    {'X': (2, 3), 'Y': (1, 3)}
    """
    with NpzArchive(path, what=what) as archive:
        return {key: archive.read_stored(key) for key in archive.array_names}
