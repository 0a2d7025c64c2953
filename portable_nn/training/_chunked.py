"""Training with ``chunk_size``: each step's gradient summed over sample chunks.

A step splits its batch (all of ``X``, or one mini-batch) into chunks of ``chunk_size``
columns, runs :func:`portable_nn.core.chunk_gradients` on each and sums the shares, then adds
the L2 term once and makes the same optimizer update as the unchunked step. Only one chunk's
activations exist at a time. Dropout masks are drawn per chunk from ``(seed, iteration,
chunk)``, so a chunked run is deterministic (and resumes bit-identically) for a given chunking.

``chunk_size="auto"`` picks the number of columns whose activations (and backprop
temporaries) fill :data:`AUTO_BUDGET_BYTES` (8 MiB): see :func:`auto_chunk_size`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from portable_nn.backend import ColumnReader, to_backend
from portable_nn.core import chunk_gradients, l2_penalty
from portable_nn.training import _check_inputs as check
from portable_nn.training._step_spec import StepSpec

__all__ = ["auto_chunk_size", "chunked_steps", "is_streamed", "make_chunked_step",
           "prepare_data", "update_from_sums"]

# a chunk's activations and backprop temporaries: 8 MiB stay in a CPU's last-level cache (32 MiB
# shared on the 2-core EPYC here, 8-64 MiB on most) while the next layer reads them, and leave
# the matrix products hundreds of columns wide, where BLAS runs near its peak
AUTO_BUDGET_BYTES = 8 * 2**20
AUTO_MIN, AUTO_MULTIPLE = 256, 64
CHECK_BYTES = 8 * 2**20

Loop = Callable[..., tuple[dict[str, Any], Any]]


def auto_chunk_size(layer_dims: tuple[int, ...], itemsize: int, m: int) -> int:
    """The columns per chunk ``chunk_size="auto"`` picks for a batch of ``m`` samples.

    Per column a chunk holds its input (a copy when read out of core), every layer's
    activation, the output's pre-activation, and in backprop two ``(n_l,)`` temporaries of the
    widest layer: ``(n_0 + n_1 + ... + 2 n_L + 2 max(n_l)) * itemsize`` bytes. The chunk is the
    number of columns that fits :data:`AUTO_BUDGET_BYTES` (8 MiB), rounded down to a multiple
    of 64, at least 256 (narrower products waste BLAS time), at most ``m``.

    Examples
    --------
    >>> auto_chunk_size((784, 256, 10), 8, 60_000)
    640
    >>> auto_chunk_size((784, 256, 10), 4, 60_000)
    1280
    >>> auto_chunk_size((2, 4, 1), 8, 400)
    400
    """
    per_column = (sum(layer_dims) + layer_dims[-1] + 2 * max(layer_dims[1:])) * itemsize
    size = AUTO_BUDGET_BYTES // per_column // AUTO_MULTIPLE * AUTO_MULTIPLE
    return max(1, min(m, max(AUTO_MIN, size)))


def prepare_data(X: Any, Y: Any, backend: Any, *, output: str, chunk_size: Any) -> tuple:
    """Convert and check ``X`` and ``Y``; with ``chunk_size``, keep out-of-core ones lazy.

    On JAX with several devices, in-memory data are split along the samples axis.

    Out-of-core array-likes (memmaps, h5py datasets, zarr arrays) become
    :class:`ColumnReader`s. With ``chunk_size`` the checks (NaN, shapes, targets) run chunk by
    chunk, in memory too: out-of-core data are never loaded whole, and no check allocates a
    temporary the size of ``X`` (``isfinite(X)`` alone would be ``n_x m`` bytes). Without
    ``chunk_size`` everything is converted and checked whole, as before.
    """
    lazy = chunk_size is not None

    def converted(array: Any, name: str) -> Any:
        if not ColumnReader.accepts(array):
            return to_backend(array, backend, name=name)
        return ColumnReader(array, backend, name=name) if lazy else ColumnReader.read_whole(
            array, backend, name=name)  # without chunk_size: read whole (memmaps checked)

    X, Y = converted(X, "X"), converted(Y, "Y")
    if not lazy:
        check.check_data(X, Y, output=output, xp=backend.xp)
    else:
        check.check_layout(X, Y)
        # the checking pass reads chunk_size columns at a time ("auto": 8 MiB of X and Y)
        size = chunk_size if isinstance(chunk_size, int) else max(
            1, CHECK_BYTES // (8 * (X.shape[0] + Y.shape[0])))
        for Xc, Yc in ColumnReader.chunks((X, Y), size):
            check.check_values(Xc, Yc, output=output, xp=backend.xp)
    # JAX over several devices: in-memory samples split across them (else unchanged)
    return tuple(a if isinstance(a, ColumnReader) else backend.shard_samples(a, name=name)
                 for a, name in ((X, "X"), (Y, "Y")))


def is_streamed(array: Any) -> bool:
    """Whether ``prepare_data`` left ``array`` out of core (read chunk by chunk)."""
    return isinstance(array, ColumnReader)


def chunked_steps(
    backend: Any, X: Any, spec: StepSpec, *, chunk_size: int | str, compile: bool, batch_m: int,
) -> tuple[Callable[..., tuple[Any, Any, Any]], Any]:
    """The chunked step of a ``train`` run and its compiled block: ``(step, block)``.

    ``step`` is compiled when ``compile`` (cached by the spec and the chunk width), ``block``
    runs cost-free iterations compiled (``None`` unless compiled). Raises a ``ValueError`` for
    what a chunked run cannot do: compile or mini-batches over out-of-core data (compiled
    steps take device arrays; shuffled batches would gather rows from the file).
    """
    out_of_core = isinstance(X, ColumnReader)
    if out_of_core and compile:
        raise ValueError("compile=True needs X in memory: with out-of-core X (a memmap, h5py or "
                         "zarr array) use compile=False, which streams its chunks")
    if out_of_core and batch_m < X.shape[1]:
        raise ValueError("batch_size needs X in memory: out-of-core X (a memmap, h5py or zarr "
                         "array) trains full-batch, chunk by chunk")
    size = auto_chunk_size(spec.layer_dims, _itemsize(backend), batch_m) if (
        chunk_size == "auto") else int(chunk_size)
    loop = backend.ops.chunk_loop if compile else None
    step = make_chunked_step(backend.xp, spec, size=size, backend=backend, loop=loop)
    if not compile:
        return step, None
    compiled = backend.compile_steps(step, key=(spec, size))
    return compiled.step, compiled.block


def _itemsize(backend: Any) -> int:
    return 4 if backend.dtype_name == "float32" else 8


def make_chunked_step(
    xp: ModuleType,
    spec: StepSpec,
    *,
    size: int,
    backend: Any = None,
    loop: Loop | None = None,
) -> Callable[..., tuple[Any, Any, Any]]:
    """Build ``step(params, state, X, Y, lr, iteration, with_cost)``, the chunked step.

    Like ``make_step``'s step, except that the sixth argument is the iteration number (used
    for the chunks' dropout masks; ``None`` without dropout) and ``X``/``Y`` may be
    :class:`ColumnReader`s. With dropout in ``spec`` the masks are drawn on ``backend`` from
    ``(spec.dropout_seed, iteration, chunk)``; ``loop(body, X, Y, size)`` sums
    ``body(X_chunk, Y_chunk, k)`` over the chunks (default: a Python loop; JAX compiled steps
    pass a ``lax.scan``).
    """
    sample = None
    keep_prob, hidden_sizes = spec.keep_prob, spec.hidden
    if spec.dropout_seed is not None:
        if backend is None:
            raise ValueError("make_chunked_step: a spec with dropout needs the backend= the "
                             "masks are drawn on")
        sample = backend.chunk_mask_sampler(spec.dropout_seed)
    loop = sum_over_chunks if loop is None else loop
    activation, output, l2 = spec.hidden_activation, spec.output, spec.l2
    update = spec.make_optimizer().update

    def step(params: dict, state: dict, X: Any, Y: Any, lr: Any, iteration: Any,
             with_cost: bool = False) -> tuple[dict, dict, Any]:
        m = X.shape[1]

        def body(Xc: Any, Yc: Any, k: Any) -> tuple[dict[str, Any], Any]:
            masks = None
            if sample is not None and iteration is not None:
                width = Xc.shape[1]
                drawn = sample(iteration, k, [(n, width) for n in hidden_sizes], keep_prob)
                masks = dict(enumerate(drawn, start=1))
            return chunk_gradients(params, Xc, Yc, m_total=m, hidden_activation=activation,
                                   output=output, dropout_masks=masks, with_cost=with_cost, xp=xp)

        grads, cost = loop(body, X, Y, size)
        return update_from_sums(params, state, grads, cost, lr, m=m, with_cost=with_cost,
                                l2=l2, update=update, xp=xp)

    return step


def update_from_sums(params: dict, state: dict, grads: dict, cost: Any, lr: Any, *, m: int,
                     with_cost: bool, l2: float, update: Callable[..., tuple[dict, dict]],
                     xp: ModuleType) -> tuple[dict, dict, Any]:
    """The end of a chunked step: L2 once on the summed chunk gradients, then the update.

    ``grads`` and ``cost`` are sums of ``chunk_gradients`` shares over all ``m`` samples (no
    L2 term); ``update`` is the spec's optimizer's (``StepSpec.make_optimizer().update``).
    Returns ``(new_params, new_state, cost)``, the cost with its L2 penalty when ``with_cost``.
    """
    if l2:
        grads = {k: g + (l2 / m) * params[k[1:]] if k[1] == "W" else g
                 for k, g in grads.items()}
        if with_cost:
            cost = cost + l2_penalty(params, l2, m, xp=xp)
    new_params, new_state = update(params, grads, state, lr, xp=xp)
    return new_params, new_state, cost


def sum_over_chunks(body: Callable[..., tuple[dict, Any]], X: Any, Y: Any,
                    size: int) -> tuple[dict[str, Any], Any]:
    """``sum_k body(X[:, chunk k], Y[:, chunk k], k)`` in chunk order, one chunk at a time."""
    total, cost = None, None
    for k, (Xc, Yc) in enumerate(ColumnReader.chunks((X, Y), size)):
        grads, share = body(Xc, Yc, k)
        del Xc, Yc
        if total is None:  # the first chunk's gradients are fresh arrays: accumulate into them
            total, cost = grads, share
            continue
        for key, g in grads.items():
            total[key] += g
        if share is not None:
            cost = cost + share
    if total is None:
        raise ValueError("sum_over_chunks: X has no columns")
    return total, cost

