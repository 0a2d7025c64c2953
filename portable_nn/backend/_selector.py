"""Turn ``backend=``, ``device=`` and ``dtype=`` into one resolved :class:`Backend`."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from portable_nn.backend import _compile, _host_memory, _random
from portable_nn.backend._libraries import Ops, ops_for
from portable_nn.backend._registry import KNOWN_BACKENDS, BackendUnavailableError

__all__ = ["DTYPE_NAMES", "Backend", "device_name", "dtype_name", "resolve_backend"]

#: The floating dtypes portable_nn trains in, by name: the one list every check and choice uses.
DTYPE_NAMES = ("float32", "float64")


@dataclass(frozen=True)
class Backend:
    """A resolved backend: an array-API namespace, a device, a floating dtype, its library's ops.

    Training computes with ``xp`` alone; what its library does its own way (moving arrays to
    and from the host, compiling a step, drawing dropout uniforms on the device, sharding
    samples, Dask's chunk sums) is asked of ``ops``, the one object of that library, or of
    the methods below, which go through it.

    Attributes
    ----------
    name : str
        The backend's name (``"numpy"``, ``"torch"``, ...), or the namespace module's name.
    xp : module
        The array-API namespace every computation of a run goes through.
    device : object
        The device every array of the run lives on.
    dtype : object
        The real floating dtype every array of the run has.
    ops : object
        What the namespace's library does its own way (picked from ``xp`` when not given).
    """

    name: str
    xp: ModuleType
    device: Any
    dtype: Any
    ops: Ops = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.ops is None:
            object.__setattr__(self, "ops", ops_for(self.xp))

    @property
    def dtype_name(self) -> str:
        """The dtype as a plain string, such as ``"float32"``."""
        return dtype_name(self.xp, self.dtype)

    @property
    def compiler(self) -> str | None:
        """How :meth:`compile_steps` compiles here, in words; None where it cannot.

        Examples
        --------
        >>> from portable_nn.backend import resolve_backend
        >>> resolve_backend("numpy").compiler is None
        True
        """
        return _compile.compiler_of(self)

    def compile_steps(self, step: Callable[..., Any], *, key: Hashable | None = None) -> Any:
        """The training ``step`` compiled here: ``.step``, and ``.block`` (or None).

        JAX: ``jax.jit`` and ``lax.scan`` (cached by ``key``); PyTorch on a CUDA device: CUDA
        graphs. Raises :class:`ValueError` naming the reason on every other backend.
        """
        return _compile.compile_steps(self, step, key=key)

    def epoch_permutation(self, seed: int, epoch: int, m: int) -> Any:
        """The sample order of mini-batch epoch ``epoch``, from ``(seed, epoch)`` alone."""
        return _random.epoch_permutation(seed, epoch, m, self)

    def mask_sampler(self, seed: int) -> Callable[..., list[Any]]:
        """``sample(iteration, shapes, keep_prob) -> masks``: dropout masks on the device."""
        return _random.mask_sampler(self, seed)

    def chunk_mask_sampler(self, seed: int) -> Callable[..., list[Any]]:
        """``sample(iteration, chunk, shapes, keep_prob) -> masks`` for sample chunks."""
        return _random.chunk_mask_sampler(self, seed)

    def shard_samples(self, array: Any, *, name: str = "array") -> Any:
        """``array`` split by columns across a multi-device JAX run's devices; else unchanged.

        Raises :class:`ValueError` when the samples do not split evenly over the devices.
        """
        return self.ops.shard_samples(array, self, name=name)

    @staticmethod
    def host_standard_normal(seed: int, shapes: list[tuple[int, int]]) -> list[Any]:
        """N(0, 1) float64 host arrays of ``shapes`` from NumPy's legacy ``seed`` stream.

        The lesson's stream (``np.random.seed(seed); np.random.randn(...)``): the same seed
        gives the same initial weights on every backend.
        """
        return _random.host_standard_normal(seed, shapes)

    @staticmethod
    def keep_freed_memory() -> None:
        """Keep the host's freed temporaries in the process (glibc), once per process."""
        _host_memory.keep_freed_memory_in_process()

    @staticmethod
    def device_name(device: Any) -> str:
        """A device's name as a user writes it in ``device=``.

        Examples
        --------
        >>> Backend.device_name("cuda:0")
        'cuda:0'
        """
        return device_name(device)

    def full_precision(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which matrix products keep the dtype's full precision.

        JAX on a GPU multiplies float32 matrices in TF32 (10-bit mantissas) by default; inside
        this context it uses full float32 (``jax.default_matmul_precision("highest")``). Every
        other backend already does (PyTorch keeps ``allow_tf32`` off by default, CuPy needs
        ``CUPY_TF32=1``): a no-op for them.
        """
        return self.ops.full_precision()

    def float_warnings_silenced(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which floating-point warnings of the array library are not shown.

        NumPy (and array-api-strict and Dask, which compute with it) warns about overflow in
        a matrix product or an invalid value in a multiply when training diverges; inside this
        context those warnings are neither computed (``numpy.errstate``) nor shown (including
        from Dask's worker threads): training reports divergence with one clear error
        instead. Other warnings are shown as usual.
        """
        return _float_warnings_silenced()


_FLOAT_WARNING = r".*(overflow|invalid value|divide by zero|underflow) encountered"


@contextlib.contextmanager
def _float_warnings_silenced() -> Iterator[None]:
    import numpy as np

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_FLOAT_WARNING, category=RuntimeWarning)
        yield


def dtype_name(xp: ModuleType, dtype: Any) -> str:
    """Return ``"float32"`` or ``"float64"`` for a floating dtype of ``xp``."""
    for name in DTYPE_NAMES:
        if hasattr(xp, name) and dtype == getattr(xp, name):
            return name
    return str(dtype)


def _namespace_name(xp: ModuleType) -> str:
    module = xp.__name__
    for name, spec in KNOWN_BACKENDS.items():
        if module in (spec.module, f"array_api_compat.{spec.module}", f"{spec.module}.numpy"):
            return name
    return module


def _from_module(module: ModuleType) -> tuple[str, ModuleType]:
    """Resolve a module given as ``backend=`` to ``(name, namespace)``.

    A known library, raw or wrapped, becomes its array-API namespace (``torch`` ->
    ``array_api_compat.torch``); another module must itself be an array-API namespace.
    """
    name = _namespace_name(module)
    if name in KNOWN_BACKENDS:
        return name, KNOWN_BACKENDS[name].load()
    if not all(hasattr(module, attr) for attr in ("__array_namespace_info__", "asarray",
                                                  "matmul", "astype")):
        known = ", ".join(repr(n) for n in KNOWN_BACKENDS)
        raise TypeError(
            f"backend={module.__name__!r} is a module but not an array-API namespace (it lacks "
            f"__array_namespace_info__, asarray, matmul or astype): pass a backend name "
            f"({known}) or an array-API namespace, such as "
            f"array_api_compat.array_namespace(your_array)"
        )
    return name, module


def _load_namespace(backend: str | ModuleType) -> tuple[str, ModuleType]:
    if isinstance(backend, ModuleType):
        return _from_module(backend)
    if not isinstance(backend, str):
        raise TypeError(
            f"backend must be a name such as 'numpy' or an array namespace module, "
            f"got {type(backend).__name__}: {backend!r}"
        )
    if backend == "auto":
        try:
            return "cupy", KNOWN_BACKENDS["cupy"].load()
        except BackendUnavailableError:
            return "numpy", KNOWN_BACKENDS["numpy"].load()
    spec = KNOWN_BACKENDS.get(backend)
    if spec is None:
        known = ", ".join(repr(n) for n in (*KNOWN_BACKENDS, "auto"))
        raise ValueError(f"unknown backend={backend!r}; expected one of {known} or a namespace")
    return backend, spec.load()


def _resolve_device(name: str, xp: ModuleType, device: Any) -> Any:
    info = xp.__array_namespace_info__()
    if device is None:
        default = info.default_device()
        if default is None:  # JAX: "default placement"; name the device a new array lands on
            from array_api_compat import device as device_of

            default = device_of(xp.empty((0,)))
        return default
    special = ops_for(xp).special_device(device)  # JAX device groups, PyTorch strings
    if special is not None:
        return special
    devices = [d for d in info.devices() if d is not None]
    for candidate in devices:
        if device == candidate or str(device) == str(candidate) or _cuda_index(candidate) == device:
            return candidate
    for candidate in devices:  # a platform name ("cpu", "gpu" for JAX): its first device
        if isinstance(device, str) and getattr(candidate, "platform", None) == device:
            return candidate
    for candidate in devices:  # a bare device name: "device1" for Device('device1')
        if isinstance(device, str) and device_name(candidate) == device:
            return candidate
    raise ValueError(
        f"device={device!r} is not a device of backend={name!r}; "
        f"its devices here are {[str(d) for d in devices]}"
    )


def device_name(device: Any) -> str:
    """Return a device's name as a user writes it in ``device=``.

    array-api-strict's devices print as ``Device('device1')``: their name is the quoted part.
    Every other device is named by its ``str`` (``cpu``, ``cuda:0``, ``TFRT_CPU_0``, ...).

    Parameters
    ----------
    device : object
        A device of any backend.

    Returns
    -------
    str

    Examples
    --------
    >>> import array_api_strict
    >>> device_name(array_api_strict.Device("device1"))
    'device1'
    >>> device_name("cuda:0")
    'cuda:0'
    """
    text = str(device)
    quoted = re.fullmatch(r"[\w.]*Device\('([^']+)'\)", text)
    return quoted.group(1) if quoted else text


def _cuda_index(device: Any) -> Any:
    return getattr(device, "id", None)


def _resolve_dtype(name: str, xp: ModuleType, device: Any, dtype: Any) -> Any:
    info = xp.__array_namespace_info__()
    supported = info.dtypes(device=device, kind="real floating")
    if dtype is None:
        return info.default_dtypes(device=device)["real floating"]
    if isinstance(dtype, str):
        if dtype not in DTYPE_NAMES:
            raise ValueError(f"dtype={dtype!r} is not supported; expected one of "
                             f"{list(DTYPE_NAMES)}")
        wanted: str | None = dtype
    else:
        wanted = next((n for n, d in supported.items() if d == dtype), None)
        if wanted is None and dtype_name(xp, dtype) not in DTYPE_NAMES:
            raise ValueError(
                f"dtype={dtype!r} is not a real floating dtype; expected float32 or float64"
            )
        wanted = wanted or dtype_name(xp, dtype)
    if wanted not in supported:
        hint = ops_for(xp).dtype_hint(wanted)
        raise ValueError(
            f"dtype={wanted!r} is not supported by backend={name!r} on device={str(device)!r}; "
            f"it supports {sorted(supported)}.{hint}"
        )
    return supported[wanted]


def resolve_backend(
    backend: str | ModuleType | Backend = "numpy", device: Any = None, dtype: Any = None
) -> Backend:
    """Resolve a backend name (or namespace), a device and a dtype into a :class:`Backend`.

    Parameters
    ----------
    backend : str, module or Backend
        ``"numpy"``, ``"array_api_strict"``, ``"torch"``, ``"jax"``, ``"cupy"``, ``"dask"``,
        ``"auto"``, or an array-API namespace module. Here, without the size of the work,
        ``"auto"`` is CuPy when a CUDA device is usable, else NumPy; :func:`portable_nn.train`
        resolves ``"auto"`` by the work per iteration instead (see
        :func:`~portable_nn.backend.choose_auto_backend`). A :class:`Backend` is returned
        unchanged when device and dtype are None.
    device : object, optional
        A device of that backend (``"cuda:0"`` for PyTorch, ``0`` for CuPy, ...).
        Default: the namespace's default device. For JAX, a list of devices or a
        ``jax.sharding.Mesh``: the device becomes a replicated ``NamedSharding`` and ``train``
        splits the samples across the devices.
    dtype : str or dtype, optional
        ``"float32"``, ``"float64"`` or a floating dtype of the namespace. Default: the
        namespace's default real floating dtype on that device.

    Returns
    -------
    Backend

    Raises
    ------
    ValueError
        Unknown backend name, missing device, or a dtype the device does not support.
    BackendUnavailableError
        The backend is known but not installed or (CuPy) has no usable CUDA device.

    Examples
    --------
    >>> from portable_nn.backend import resolve_backend
    >>> resolve_backend("numpy", dtype="float32").dtype_name
    'float32'
    """
    if isinstance(backend, Backend):
        if device is None and dtype is None:
            return backend
        backend = backend.xp
    name, xp = _load_namespace(backend)
    resolved_device = _resolve_device(name, xp, device)
    resolved_dtype = _resolve_dtype(name, xp, resolved_device, dtype)
    return Backend(name=name, xp=xp, device=resolved_device, dtype=resolved_dtype)
