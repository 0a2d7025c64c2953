"""What each array library does its own way: one ``Ops`` object per library.

Everything portable_nn computes goes through the array API; what is left differs by library
and lives here, in one object per library (as thinc's ``Ops`` subclasses do): moving arrays
to and from the host, device forms of ``device=``, compiling a step, sharding samples,
copying on a side stream, drawing dropout uniforms on the device, and Dask's chunk sums.
:class:`Ops` itself serves any other array-API namespace (array-api-strict, ndonnx, a
user's): host draws moved to the namespace, no compiler, no sharding.

This module is the one place that tells libraries apart: :func:`ops_for` picks the object
of a namespace and :func:`ops_of_array` that of an array, with array-api-compat's
``is_*_namespace`` and ``is_*_array``. Everything else asks a :class:`~portable_nn.backend.Backend`
for its ``ops`` and never names a library.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
from array_api_compat import (
    is_array_api_strict_namespace,
    is_cupy_array,
    is_cupy_namespace,
    is_dask_array,
    is_dask_namespace,
    is_jax_array,
    is_jax_namespace,
    is_numpy_array,
    is_numpy_namespace,
    is_torch_array,
    is_torch_namespace,
)

from portable_nn.backend import _dask_steps, _jax_devices, _random
from portable_nn.backend._compile import jax_chunk_loop
from portable_nn.backend._graphs import TorchCapture, divisor_block

__all__ = ["CupyOps", "DaskOps", "JaxOps", "NumpyOps", "Ops", "StrictOps", "TorchOps",
           "host_copy", "ops_for", "ops_of_array"]

Uniforms = Callable[[Any, list[tuple[int, int]]], list[Any]]  # i: an int or (iteration, chunk)


class Ops:
    """An array-API namespace with nothing of its own: the defaults every library starts from.

    Attributes
    ----------
    host_indices : bool
        Whether a mini-batch epoch's sample order stays a host NumPy array.
    lazy : bool
        Whether arrays are lazy task graphs that training sums chunk by chunk where the data
        live (Dask).
    chunk_loop : callable or None
        A traceable loop over the column chunks of a compiled step (JAX), or None.
    """

    host_indices = False
    lazy = False
    chunk_loop: Callable[..., tuple[dict[str, Any], Any]] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- host <-> device ---------------------------------------------------------------------
    def to_numpy(self, array: Any) -> np.ndarray:
        """A NumPy copy (or view) of ``array``, an array of this library."""
        return np.asarray(array)

    def from_host(self, host: np.ndarray, backend: Any) -> Any:
        """The host array ``host`` (already of the run's dtype) on ``backend``'s device."""
        return backend.xp.asarray(host, dtype=backend.dtype, device=backend.device)

    def sparse_layout(self, array: Any) -> str | None:
        """The library and layout of a sparse array of this library; None when dense."""
        return None

    def on_gpu(self, device: Any) -> bool:
        """Whether arrays on ``device`` live on a CUDA GPU (chunks are copied ahead there)."""
        return False

    def copy_on_side_stream(self, host: np.ndarray, backend: Any) -> Any:
        """Copy ``host`` to the GPU from a read-ahead thread (see ``_columns.ColumnReader``).

        Finished before the array is returned. Written without a GPU at hand:
        tests/test_chunked_gpu.py covers the CuPy and PyTorch versions.
        """
        raise NotImplementedError(f"{self!r} has no GPU")

    # -- devices and precision ---------------------------------------------------------------
    def special_device(self, device: Any) -> Any:
        """``device=`` in a form of this library's own, resolved; None for the standard forms."""
        return None

    def dtype_hint(self, wanted: str | None) -> str:
        """What to do when the dtype ``wanted`` is not supported (appended to the error)."""
        return ""

    def full_precision(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which matrix products keep the dtype's full precision."""
        return contextlib.nullcontext()

    # -- compiling ---------------------------------------------------------------------------
    def compiler(self, device: Any) -> str | None:
        """How a step is compiled on ``device``, in words; None where it cannot be."""
        return None

    def no_compiler(self, name: str) -> str:
        """Why ``compile=True`` is refused on a backend called ``name``."""
        return f"backend={name!r} has no compiler; use compile=False"

    def graph_capture(self, backend: Any) -> Any:
        """The CUDA-graph capture of ``backend`` (a ``_graphs.Capture``), or None."""
        return None

    def jit_steps(self, backend: Any, step: Callable[..., Any]) -> tuple[Any, Any] | None:
        """``(compiled step, compiled block)`` of ``step``, or None without a compiler."""
        return None

    # -- samples and random numbers ----------------------------------------------------------
    def shard_samples(self, array: Any, backend: Any, *, name: str) -> Any:
        """``array`` with its samples split over the run's devices; unchanged on one device."""
        return array

    def uniform_source(self, backend: Any, seed: int) -> Uniforms:
        """``draws(i, shapes)``: uniforms in ``[0, 1)`` on the device, from ``(seed, i)``.

        The standard has no random module: drawn on the host and moved (these namespaces'
        arrays live on the host, so the move costs no device transfer).
        """
        host_draws = _host_draws(backend, seed)
        xp, device = backend.xp, backend.device
        return lambda i, shapes: [xp.asarray(u, device=device) for u in host_draws(i, shapes)]


def _host_draws(backend: Any, seed: int) -> Uniforms:
    host_dtype = np.dtype(backend.dtype_name)

    def host_draws(i: Any, shapes: list[tuple[int, int]]) -> list[Any]:
        rng = np.random.default_rng(_random.seed_words(seed, i))
        return [rng.random(s, dtype=host_dtype) for s in shapes]

    return host_draws


class NumpyOps(Ops):
    """NumPy: the host itself; mini-batch orders stay NumPy index arrays."""

    host_indices = True

    def from_host(self, host: np.ndarray, backend: Any) -> Any:
        return host

    def uniform_source(self, backend: Any, seed: int) -> Uniforms:
        return _host_draws(backend, seed)


class StrictOps(Ops):
    """array-api-strict: host arrays on several named devices, read back from ``CPU_DEVICE``."""

    def to_numpy(self, array: Any) -> np.ndarray:
        import array_api_strict

        if str(array.device) != "CPU_DEVICE":
            array = array_api_strict.asarray(array, device=array_api_strict.Device("CPU_DEVICE"))
        return np.from_dlpack(array)


class DaskOps(Ops):
    """Dask: lazy arrays; training sums the gradients of the column chunks on the workers.

    The Dask building blocks of ``training/_dask_train`` are this object's: rechunking and
    persisting ``X`` and ``Y``, the tree sum over chunks, the small-work warning and the
    host-drawn masks of a chunk.
    """

    host_indices = True  # host indices keep the batches' chunks known
    lazy = True
    rechunk_columns = staticmethod(_dask_steps.rechunk_columns)
    warn_if_small = staticmethod(_dask_steps.warn_if_small)
    chunk_masks = staticmethod(_random.chunk_masks)
    chunk_blocks = staticmethod(_dask_steps.sum_over_chunks.blocks)  # type: ignore[attr-defined]

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array.compute())

    @staticmethod
    def sum_over_chunks(fn: Callable[..., dict[str, Any]], X: Any, Y: Any,
                        params: dict[str, np.ndarray], **kwargs: Any) -> dict[str, np.ndarray]:
        """``_dask_steps.sum_over_chunks``, chunks of any library brought to NumPy."""
        return _dask_steps.sum_over_chunks(fn, X, Y, params, to_host=host_copy, **kwargs)


class CupyOps(Ops):
    """CuPy: arrays on a CUDA GPU; no compiler (stream capture refuses cuBLAS)."""

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.get()

    def on_gpu(self, device: Any) -> bool:
        return True

    def copy_on_side_stream(self, host: np.ndarray, backend: Any) -> Any:
        """On a *blocking* stream, ordered after the kernels already queued.

        CuPy's pools have no ``record_stream``: so a block the main thread just freed is never
        overwritten early; the file read and host staging overlap the compute, the copy
        itself does not. Finished before the array is returned.
        """
        import cupy

        with cupy.cuda.Device(getattr(backend.device, "id", backend.device)):
            stream = cupy.cuda.Stream(non_blocking=False)
            with stream:
                out = cupy.asarray(host)
            stream.synchronize()
        return out

    def no_compiler(self, name: str) -> str:
        return ("CUDA-graph capture is refused by CuPy itself: CuPy 14.2 raises 'calling cuBLAS "
                "API during stream capture is currently unsupported' at the step's first matrix "
                "product; use compile=False (the eager CuPy loop keeps every array on the GPU), "
                "or backend='torch' with device='cuda:0' and compile=True")

    def uniform_source(self, backend: Any, seed: int) -> Uniforms:
        """CuPy's generator: a stream from ``seed`` (one per run), not from the iteration."""
        import cupy

        dtype = backend.dtype
        with cupy.cuda.Device(getattr(backend.device, "id", backend.device)):
            gen = cupy.random.default_rng(seed)
        return lambda _i, shapes: [gen.random(s, dtype=dtype) for s in shapes]


class TorchOps(Ops):
    """PyTorch: tensors detached to the host, ``torch.device`` forms, CUDA graphs on a GPU."""

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.detach().cpu().numpy()

    def sparse_layout(self, array: Any) -> str | None:
        import torch

        if isinstance(array, torch.Tensor) and array.layout != torch.strided:
            return f"torch ({array.layout})"
        return None

    def on_gpu(self, device: Any) -> bool:
        return getattr(device, "type", None) == "cuda"

    def copy_on_side_stream(self, host: np.ndarray, backend: Any) -> Any:
        """From pinned memory on a side stream, so the copy overlaps the kernels running.

        ``record_stream`` keeps the allocator from reusing the block while the default stream
        may still read it. Finished before the tensor is returned.
        """
        import torch

        stream = torch.cuda.Stream(device=backend.device)
        with torch.cuda.stream(stream):
            out = torch.from_numpy(host).pin_memory().to(backend.device, non_blocking=True)
        out.record_stream(torch.cuda.default_stream(backend.device))
        stream.synchronize()
        return out

    def special_device(self, device: Any) -> Any:
        """A string or an index (``"cuda:0"``, ``0``) as a checked ``torch.device``."""
        if not isinstance(device, (str, int)):
            return None
        import torch

        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device={device!r} is not a PyTorch device: {exc}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={str(device)!r} was asked of backend='torch', but PyTorch sees no CUDA "
                "device here (torch.cuda.is_available() is False)"
            )
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise ValueError(f"device={str(device)!r} does not exist for backend='torch'")
        return _check_torch_device(device)

    def compiler(self, device: Any) -> str | None:
        if self.on_gpu(device):
            return "CUDA graphs of the iterations between two record points"
        return None

    def no_compiler(self, name: str) -> str:
        return ("torch.compile is not offered on the CPU: its first compilation of the step took "
                "53 s on a 2-core CPU and the compiled step ran slower than the eager one; on a "
                "CUDA device (device='cuda:0') compile=True captures CUDA graphs")

    def graph_capture(self, backend: Any) -> Any:
        return TorchCapture(backend) if self.on_gpu(backend.device) else None

    def uniform_source(self, backend: Any, seed: int) -> Uniforms:
        """A ``torch.Generator`` on the device, seeded from ``(seed, iteration)``."""
        import torch

        dtype, device = backend.dtype, backend.device
        gen = torch.Generator(device=device)

        def torch_draws(i: Any, shapes: list[tuple[int, int]]) -> list[Any]:
            gen.manual_seed(_random.iteration_seed(seed, i))
            return [torch.rand(s, generator=gen, device=device, dtype=dtype) for s in shapes]

        return torch_draws


def _check_torch_device(device: Any) -> Any:
    """Refuse a PyTorch device that cannot hold data or is not present.

    ``meta`` holds no data; ``mps`` needs MPS; any other non-CPU, non-CUDA device (``xpu``,
    ...) must run a tiny computation.
    """
    import torch

    if device.type == "meta":
        raise ValueError("device='meta' holds no data (PyTorch's shape-only device): it cannot "
                         "train; use 'cpu' or 'cuda'")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={str(device)!r} was asked of backend='torch', but MPS is not "
                         "available here (torch.backends.mps.is_available() is False)")
    if device.type not in ("cpu", "cuda"):
        try:
            float(torch.ones(1, device=device).sum())
        except Exception as exc:
            raise ValueError(f"device={str(device)!r} is not usable by backend='torch' here: "
                             f"{type(exc).__name__}: {exc}") from exc
    return device


class JaxOps(Ops):
    """JAX: ``jax.jit`` and ``lax.scan``, several devices as one sharding, full-precision TF32."""

    chunk_loop = staticmethod(jax_chunk_loop)

    def special_device(self, device: Any) -> Any:
        """A list of JAX devices or a ``jax.sharding.Mesh``: a replicated ``NamedSharding``."""
        if _jax_devices.is_device_group(device):  # several devices: samples sharded
            return _jax_devices.replicated_sharding(device)
        return None

    def dtype_hint(self, wanted: str | None) -> str:
        if wanted != "float64":
            return ""
        return (" JAX needs its x64 mode for float64: set the environment variable "
                "JAX_ENABLE_X64=1 before JAX is imported (or call "
                "jax.config.update('jax_enable_x64', True) first), or use dtype='float32'.")

    def full_precision(self) -> contextlib.AbstractContextManager[Any]:
        """Full float32 matrix products (JAX on a GPU multiplies float32 in TF32 by default)."""
        import jax

        return jax.default_matmul_precision("highest")

    def compiler(self, device: Any) -> str | None:
        return "jax.jit of the step and lax.scan over the iterations between two record points"

    def jit_steps(self, backend: Any, step: Callable[..., Any]) -> tuple[Any, Any]:
        """``jax.jit`` of ``step``, and a jitted ``lax.scan`` over a block of iterations."""
        import jax

        jitted = jax.jit(step, static_argnames=("with_cost",))

        def run_block(params: Any, state: Any, X: Any, Y: Any, lrs: Any) -> tuple[Any, Any]:
            def body(carry: tuple[Any, Any], lr: Any) -> tuple[tuple[Any, Any], None]:
                new_params, new_state, _ = step(carry[0], carry[1], X, Y, lr, None,
                                                with_cost=False)
                return (new_params, new_state), None

            # unrolling lets XLA fuse across iterations: 10 us instead of 20 us per planar step
            unroll = divisor_block(lrs.shape[0])
            (params, state), _ = jax.lax.scan(body, (params, state), lrs, unroll=unroll)
            return params, state

        compiled_block = jax.jit(run_block)

        def block(params: Any, state: Any, X: Any, Y: Any, lrs: list[float]) -> tuple[Any, Any]:
            rates = backend.xp.asarray(lrs, dtype=backend.dtype, device=backend.device)
            return compiled_block(params, state, X, Y, rates)

        return jitted, block

    def shard_samples(self, array: Any, backend: Any, *, name: str) -> Any:
        return _jax_devices.shard_samples(array, backend, name=name)

    def uniform_source(self, backend: Any, seed: int) -> Uniforms:
        """Keys folded from ``seed``, the iteration (and chunk) and the layer index."""
        import jax

        key = jax.random.key(seed)
        dtype = backend.dtype

        def jax_draws(i: Any, shapes: list[tuple[int, int]]) -> list[Any]:
            if isinstance(i, tuple):  # (iteration, chunk), possibly traced in a compiled step
                step_key = jax.random.fold_in(jax.random.fold_in(key, i[0]),
                                              _random.CHUNKS + i[1])
            else:
                step_key = jax.random.fold_in(key, i)
            return [jax.random.uniform(jax.random.fold_in(step_key, layer), s, dtype)
                    for layer, s in enumerate(shapes)]

        return jax_draws


GENERIC, NUMPY, STRICT, DASK = Ops(), NumpyOps(), StrictOps(), DaskOps()
CUPY, TORCH, JAX = CupyOps(), TorchOps(), JaxOps()

_BY_NAMESPACE: tuple[tuple[Callable[[Any], bool], Ops], ...] = (
    (is_numpy_namespace, NUMPY),
    (is_cupy_namespace, CUPY),
    (is_torch_namespace, TORCH),
    (is_jax_namespace, JAX),
    (is_dask_namespace, DASK),
    (is_array_api_strict_namespace, STRICT),
)
_BY_ARRAY: tuple[tuple[Callable[[Any], bool], Ops], ...] = (
    (is_numpy_array, NUMPY),
    (is_cupy_array, CUPY),
    (is_torch_array, TORCH),
    (is_dask_array, DASK),
    (is_jax_array, JAX),
)


def ops_for(xp: Any) -> Ops:
    """The :class:`Ops` of the array-API namespace ``xp`` (raw or array-api-compat's).

    Examples
    --------
    >>> import numpy
    >>> ops_for(numpy)
    NumpyOps()
    """
    for is_library, ops in _BY_NAMESPACE:
        if is_library(xp):
            return ops
    return GENERIC


def ops_of_array(array: Any) -> Ops:
    """The :class:`Ops` of ``array``'s library; the generic one for anything else."""
    for is_library, ops in _BY_ARRAY:
        if is_library(array):
            return ops
    namespace = getattr(array, "__array_namespace__", None)
    if namespace is None:
        return GENERIC
    try:
        return ops_for(namespace())
    except Exception:  # an odd object's __array_namespace__: the generic host conversion
        return GENERIC


def host_copy(array: Any) -> np.ndarray:
    """``array`` (of any library) as a NumPy array, by its library's :meth:`Ops.to_numpy`."""
    if isinstance(array, np.ndarray):
        return array
    return ops_of_array(array).to_numpy(array)
