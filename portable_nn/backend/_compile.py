"""Compiled or captured training steps, for the backends that can compile the array-API step.

The step function handed in is the same array-API code the eager loop runs; compiling only
changes how it is executed:

- JAX: ``jax.jit`` of the step, and ``jax.lax.scan`` over a block of full-batch iterations
  between two recorded costs (one dispatch per block instead of one per iteration). Compiled
  steps are cached by the step's options, so a second ``train`` call with the same options and
  shapes reuses XLA's compiled code.
- PyTorch on a CUDA device: CUDA-graph capture of the blocks of full-batch iterations (see
  :mod:`portable_nn.backend._graphs`); recorded iterations, mini-batches and dropout run the
  eager step.

Every other backend raises a clear :class:`ValueError`:

- PyTorch on the CPU: ``torch.compile`` of the step does work, but its first compilation took
  53 s on the 2-core CPU machine (Inductor's C++ build, per process) and a compiled planar step
  measured 218 us against 63 us eager; it is not offered.
- CuPy: CuPy 14.2 refuses cuBLAS calls on a capturing stream (seen on an H200), so the step,
  whose matrix products go through cuBLAS, cannot be captured.
- NumPy, array-api-strict, Dask: nothing to compile.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from portable_nn.backend._graphs import Capture, GraphBlocks

__all__ = ["CompiledSteps", "capture_for", "compile_steps", "compiler_of", "jax_chunk_loop"]

Step = Callable[..., tuple[Any, Any, Any]]

_CACHE_SIZE = 32
_CACHE: dict[Hashable, CompiledSteps] = {}

class CompiledSteps:
    """A compiled ``step`` and, where possible, a compiled ``block`` of cost-free steps.

    ``step(params, state, X, Y, lr, masks, with_cost)`` runs one iteration;
    ``block(params, state, X, Y, lrs)`` runs ``len(lrs)`` full-batch iterations without dropout
    and returns ``(params, state)``; it is ``None`` when the backend has no such loop.
    """

    def __init__(self, step: Step, block: Callable[..., tuple[Any, Any]] | None) -> None:
        self.step = step
        self.block = block


def compiler_of(backend: Any) -> str | None:
    """How ``compile_steps`` compiles on ``backend``, in words; None where it cannot.

    Examples
    --------
    >>> from portable_nn.backend import resolve_backend
    >>> compiler_of(resolve_backend("numpy")) is None
    True
    """
    return backend.ops.compiler(backend.device)


def compile_steps(backend: Any, step: Step, *, key: Hashable | None = None) -> CompiledSteps:
    """Compile ``step`` for ``backend``.

    Parameters
    ----------
    backend : Backend
        The resolved backend of the run.
    step : callable
        The array-API step built by ``make_step``.
    key : hashable, optional
        Everything ``step`` was built from (activation, output, optimizer, hyperparameters).
        With a key, the compiled functions are cached and reused by later runs with the same
        key on the same backend, device and dtype; without one, ``step`` is compiled afresh.

    Returns
    -------
    CompiledSteps

    Raises
    ------
    ValueError
        When ``backend`` cannot compile (every backend but JAX and PyTorch on CUDA), naming
        the reason.
    """
    capture = capture_for(backend)
    if capture is not None:  # CUDA graphs: per run (static buffers), never cached
        return CompiledSteps(step, GraphBlocks(backend, step, capture))
    if backend.ops.compiler(backend.device) is None:
        reason = backend.ops.no_compiler(backend.name)
        raise ValueError(
            f"compile=True is not available for backend={backend.name!r}: {reason}. "
            "backend='jax' (jax.jit + lax.scan) and backend='torch' on a CUDA device (CUDA "
            "graphs) compile the training step."
        )
    if key is None:
        return _jax_steps(backend, step)
    full_key = (backend.name, str(backend.device), backend.dtype_name, key)
    compiled = _CACHE.get(full_key)
    if compiled is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        compiled = _CACHE[full_key] = _jax_steps(backend, step)
    return compiled


def _jax_steps(backend: Any, step: Step) -> CompiledSteps:
    return CompiledSteps(*backend.ops.jit_steps(backend, step))


def capture_for(backend: Any) -> Capture | None:
    """The CUDA-graph capture of ``backend`` (PyTorch on a CUDA device); else None."""
    return backend.ops.graph_capture(backend)


def jax_chunk_loop(body: Callable[..., tuple[dict, Any]], X: Any, Y: Any,
                   size: int) -> tuple[dict[str, Any], Any]:
    """``sum_k body(X[:, chunk k], Y[:, chunk k], k)`` as one ``lax.scan`` (JAX, traceable).

    The first chunk is traced on its own (its gradients start the sum), the other equal chunks
    of ``size`` columns run in a ``lax.scan`` over their index (``dynamic_slice`` of the
    columns, one compiled body), and a shorter last chunk is traced once more: the same sum,
    in the same order, as the eager loop.
    """
    import jax

    m = X.shape[1]
    n_full, rest = divmod(m, size)
    if n_full == 0:
        return body(X, Y, 0)
    total, cost = body(X[:, :size], Y[:, :size], 0)

    def scan_body(carry: tuple[dict, Any], k: Any) -> tuple[tuple[dict, Any], None]:
        start = k * size
        Xc = jax.lax.dynamic_slice_in_dim(X, start, size, axis=1)
        Yc = jax.lax.dynamic_slice_in_dim(Y, start, size, axis=1)
        grads, share = body(Xc, Yc, k)
        acc, acc_cost = carry
        acc = {key: acc[key] + g for key, g in grads.items()}
        return (acc, None if share is None else acc_cost + share), None

    if n_full > 1:
        ks = jax.numpy.arange(1, n_full)
        (total, cost), _ = jax.lax.scan(scan_body, (total, cost), ks)
    if rest:
        grads, share = body(X[:, n_full * size:], Y[:, n_full * size:], n_full)
        total = {key: total[key] + g for key, g in grads.items()}
        cost = None if share is None else cost + share
    return total, cost
