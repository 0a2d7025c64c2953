"""``train``: the training loop, assembled from the array-API core and the backend selector."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from portable_nn.backend import (
    Backend,
    choose_auto_backend,
    flops_per_iteration,
    keep_freed_memory_in_process,
    resolve_backend,
    shape_of,
)
from portable_nn.backend._compile import compile_steps
from portable_nn.backend._random import epoch_permutation, mask_sampler
from portable_nn.core import (
    backward,
    backward_fused,
    cost_from_logits,
    forward,
    init_optimizer_state,
    l2_penalty,
    optimizer_step,
)
from portable_nn.training import _chunked, _persistence
from portable_nn.training import _validate as check
from portable_nn.training._dask_train import DaskSteps
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._init import INITS, init_params
from portable_nn.training._model import Model

__all__ = ["train"]

PRINT_EVERY = 1000
# the options make_step builds a step from: runs with equal values can share a compiled step
_STEP_OPTIONS = ("hidden_activation", "output", "optimizer", "l2", "beta1", "beta2", "epsilon")


def make_step(
    xp: ModuleType,
    *,
    hidden_activation: str,
    output: str,
    optimizer: str,
    l2: float,
    beta1: float,
    beta2: float,
    epsilon: float,
) -> Callable[..., tuple[Any, Any, Any]]:
    """Build the one training step every backend runs (eagerly, or compiled).

    ``step(params, state, X, Y, lr, masks, with_cost) -> (params, state, cost)``: a forward
    pass, the cost of that pass (a 0-d array, only when ``with_cost``), backprop and one
    optimizer update. Pure: no argument is modified.
    """
    plain_gd = optimizer == "gd"
    grad_keys = _GradKeys()

    def step(params: dict, state: dict, X: Any, Y: Any, lr: Any, masks: Any,
             with_cost: bool = False) -> tuple[dict, dict, Any]:
        _, cache = forward(params, X, hidden_activation=hidden_activation, output=output,
                           dropout_masks=masks, xp=xp)
        cost = None
        if with_cost:
            ZL = cache[f"Z{len(params) // 2}"]
            cost = cost_from_logits(ZL, Y, output=output, xp=xp)
            if l2:
                cost = cost + l2_penalty(params, l2, X.shape[1], xp=xp)
        if plain_gd:  # lr folded into backprop: W - (lr dW) with no per-parameter lr * dW
            steps = backward_fused(params, cache, Y, hidden_activation=hidden_activation,
                                   output=output, l2=l2, scale=lr, xp=xp)
            return {k: v - steps[grad_keys[k]] for k, v in params.items()}, state, cost
        grads = backward(params, cache, Y, hidden_activation=hidden_activation, output=output,
                         l2=l2, xp=xp)
        new_params, new_state = optimizer_step(optimizer, params, grads, state, lr,
                                               beta1=beta1, beta2=beta2, epsilon=epsilon, xp=xp)
        return new_params, new_state, cost

    return step


class _GradKeys(dict):
    """``"W1" -> "dW1"``, built on first use."""

    def __missing__(self, key: str) -> str:
        self[key] = f"d{key}"
        return self[key]


class _Batches:
    """Mini-batch ``k`` of iteration ``i``: epoch ``i // n``, reshuffled from ``(seed, epoch)``."""

    def __init__(self, X: Any, Y: Any, batch_size: int, seed: int, backend: Backend) -> None:
        self.X, self.Y, self.size, self.seed, self.backend = X, Y, batch_size, seed, backend
        self.m = X.shape[1]
        self.per_epoch = math.ceil(self.m / batch_size)
        self._epoch, self._order = -1, None

    def __call__(self, iteration: int) -> tuple[Any, Any]:
        epoch, k = divmod(iteration, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = epoch_permutation(self.seed, epoch, self.m, self.backend)
        idx = self._order[k * self.size : min((k + 1) * self.size, self.m)]
        xp = self.backend.xp
        return xp.take(self.X, idx, axis=1), xp.take(self.Y, idx, axis=1)


class _Progress:
    """A tqdm bar updated only where a cost is recorded (no per-iteration device sync)."""

    def __init__(self, enabled: bool, total: int, initial: int) -> None:
        self.bar = None
        self.shown = initial
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError as exc:  # pragma: no cover - tqdm is a declared extra
                raise ImportError(
                    "progress=True needs tqdm: pip install -e '.[progress]'"
                ) from exc
            self.bar = tqdm(total=total, initial=initial, unit="it", desc="train")

    def update(self, reached: int, cost: float | None) -> None:
        if self.bar is None:
            return
        self.bar.update(reached - self.shown)
        self.shown = reached
        if cost is not None:
            self.bar.set_postfix(cost=f"{cost:.6f}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    o = dict(options)
    o["hidden"] = check.check_hidden(o["hidden"])
    check.check_choice("hidden_activation", o["hidden_activation"], check.ACTIVATION_NAMES)
    check.check_choice("output", o["output"], check.OUTPUT_NAMES)
    check.check_choice("optimizer", o["optimizer"], check.OPTIMIZER_NAMES)
    o["learning_rate"] = check.check_learning_rate(o["learning_rate"])
    o["num_iterations"] = check.check_int("num_iterations", o["num_iterations"], minimum=0)
    o["cost_every"] = check.check_int("cost_every", o["cost_every"], minimum=1)
    o["seed"] = check.check_int("seed", o["seed"], minimum=0)
    if o["batch_size"] is not None:
        o["batch_size"] = check.check_int("batch_size", o["batch_size"], minimum=1)
    o["l2"] = check.check_real("l2", o["l2"], low=0.0)
    o["keep_prob"] = check.check_probability("keep_prob", o["keep_prob"])
    o["beta1"] = check.check_real("beta1", o["beta1"], low=0.0, high=1.0, high_open=True)
    o["beta2"] = check.check_real("beta2", o["beta2"], low=0.0, high=1.0, high_open=True)
    o["epsilon"] = check.check_real("epsilon", o["epsilon"], low=0.0, low_open=True)
    if not isinstance(o["init"], Mapping):
        check.check_choice("init", o["init"], INITS)
    o["checkpoint"], o["checkpoint_every"], o["resume"] = check.check_checkpoint_options(
        o["checkpoint"], o["checkpoint_every"], o["resume"])
    o["chunk_size"] = _chunked.check_chunk_size(o["chunk_size"])
    for flag in ("print_cost", "progress", "compile", "standardize"):
        if not isinstance(o[flag], bool):
            raise TypeError(f"{flag} must be True or False, got {o[flag]!r}")
    return o


def _rate_at(learning_rate: float | Callable[[int], float], iteration: int) -> float:
    if not callable(learning_rate):
        return learning_rate
    rate = learning_rate(iteration)
    try:
        value = float(rate)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"learning_rate({iteration}) returned {rate!r}; a schedule must return a positive "
            "finite float"
        )
    return value


def train(
    X: Any,
    Y: Any,
    *,
    hidden: int | tuple[int, ...] = 4,
    hidden_activation: str = "tanh",
    output: str = "sigmoid",
    learning_rate: float | Callable[[int], float] = 1.2,
    num_iterations: int = 10_000,
    init: str | Mapping[str, Any] = "small",
    seed: int = 0,
    backend: str | ModuleType = "numpy",
    device: Any = None,
    dtype: Any = None,
    cost_every: int = 100,
    print_cost: bool = False,
    batch_size: int | None = None,
    optimizer: str = "gd",
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    l2: float = 0.0,
    keep_prob: float = 1.0,
    progress: bool = False,
    compile: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike[str] | None = None,
    standardize: bool = False,
    chunk_size: int | str | None = None,
) -> Model:
    """Train a fully-connected network on ``(X, Y)`` and return the :class:`Model`.

    Parameters
    ----------
    X : array-like, shape (n_x, m)
        Inputs, one column per sample (NumPy, nested lists, or arrays of the backend).
    Y : array-like, shape (n_y, m)
        Targets: 0/1 for ``output="sigmoid"``, one-hot ``(C, m)`` for ``"softmax"``, real
        values for ``"linear"``.
    hidden : int or sequence of int
        One hidden layer of that many units, several layers (``(20, 7, 5)``), or ``0`` / ``()``
        for none (logistic regression).
    hidden_activation : str
        ``"tanh"`` (default), ``"relu"``, ``"leaky_relu"`` (slope 0.01) or ``"sigmoid"``.
    output : str
        ``"sigmoid"`` (binary cross-entropy), ``"softmax"`` (categorical cross-entropy) or
        ``"linear"`` (regression, half mean squared error).
    learning_rate : float or callable
        The step size, or a schedule ``iteration -> rate``.
    num_iterations : int
        Number of parameter updates. With ``batch_size`` each mini-batch is one iteration, so
        an epoch is ``ceil(m / batch_size)`` iterations.
    init : str or mapping
        ``"small"``, ``"he"``, ``"xavier"`` or starting parameters (see :func:`init_params`).
    seed : int
        Seeds the host draws of the starting weights and the mini-batch order, and the device
        draws of dropout masks.
    backend, device, dtype
        See :func:`portable_nn.backend.resolve_backend`. Every array of the run has one dtype
        and lives on one device. ``backend="auto"`` chooses by the size of the work: CuPy when
        a CUDA device is usable and one iteration costs at least
        :data:`portable_nn.backend.CROSSOVER_FLOPS` floating-point operations (the crossover
        measured on an H200), NumPy otherwise; ``model.backend`` is the choice and
        ``model.config["backend_choice"]`` says why.
    cost_every : int
        The cost of iteration ``i``'s forward pass (before its update; the mini-batch's cost
        with ``batch_size``) is recorded at ``i = 0`` and every ``cost_every`` iterations.
    print_cost : bool
        Print ``Cost after iteration i: c`` every 1000 iterations.
    batch_size : int, optional
        Mini-batch size; ``None`` (or ``>= m``) is full-batch gradient descent. Samples are
        reshuffled every epoch from ``seed``; the last batch may be smaller.
    optimizer : str
        ``"gd"``, ``"momentum"`` (``beta1``) or ``"adam"`` (``beta1``, ``beta2``, ``epsilon``).
    l2 : float
        L2 regularization: adds ``l2 / (2m) * sum(W**2)`` to the cost (biases not penalised).
    keep_prob : float
        Inverted dropout on hidden layers during training (``1.0``: none).
    progress : bool
        Show a tqdm progress bar, updated where a cost is recorded.
    compile : bool
        Compile or capture the training step: ``jax.jit`` with a scanned block of iterations
        on JAX; CUDA graphs of the iterations between two recorded costs on PyTorch with a
        CUDA device. Same results within float tolerance. Other backends (NumPy,
        array-api-strict, PyTorch on the CPU, CuPy) raise a ``ValueError`` naming the reason.
    checkpoint : str or path-like, optional
        Save the run (parameters, optimizer state, costs, iterations reached) to this ``.npz``
        file, atomically, every ``checkpoint_every`` iterations, when the run ends and when it
        is interrupted. Load it with :func:`portable_nn.load`.
    checkpoint_every : int, optional
        Checkpoint period in iterations (needs ``checkpoint``); ``None``: only at the end.
    resume : str or path-like, optional
        A checkpoint (or saved model) of this run to continue from, up to ``num_iterations``.
        Its layers, activations, output, optimizer and sample count must match the run's;
        ``dtype=None`` means the checkpoint's dtype. Full-batch runs resume bit-identically.
    standardize : bool
        Scale every feature to zero mean and unit standard deviation, computed over the
        training samples (``axis=1``); features that are constant keep a scale of 1. The
        statistics are stored in ``model.standardization`` (and saved with the model), and
        the model applies them to every ``X`` it is given (``predict``, ``predict_proba``,
        ``accuracy``, ``cost``): pass raw features to the trained model. Features on scales
        far from 1 (centimetres, milligrams, ...) train badly without it: the cost can stay at
        chance level.
    chunk_size : int or "auto", optional
        Compute each step's gradient over chunks of this many samples (columns) and sum it:
        the same update (to rounding), with only one chunk's activations in memory. ``"auto"``
        fits a chunk's activations into 8 MiB (see ``docs/scaling.md``). Dropout masks are
        then drawn per chunk, so results depend on the chunking (and are deterministic for it).
        With ``chunk_size``, ``X`` and ``Y`` may also be out-of-core array-likes (NumPy
        ``memmap``, h5py dataset, zarr array): read one chunk at a time, never whole.

    Returns
    -------
    Model
        If training is interrupted with Ctrl-C, the model reached so far is returned (its
        ``interrupted`` is True and a warning is issued) with every cost recorded until then.

    Raises
    ------
    ValueError, TypeError
        On any invalid argument, before training starts.
    TrainingDivergedError
        When a recorded cost (or a final parameter) is NaN or infinite.
    FileNotFoundError, ModelFileError
        When ``resume`` names no file or an unusable one (ModelFileError is a ValueError).

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.planar()
    >>> model = pnn.train(X, Y, hidden=4, num_iterations=1000)
    >>> model.layer_dims
    (2, 4, 1)
    """
    o = _check_options(locals())
    if o["resume"] is not None and dtype is None:
        dtype = _persistence.checkpoint_dtype(o["resume"])
    choice = None
    if isinstance(backend, str) and backend == "auto":
        backend, choice = _choose_auto(X, Y, o)
    be = resolve_backend(backend, device, dtype)
    xp = be.xp
    X, Y = _chunked.prepare_data(X, Y, be, output=o["output"],  # Dask arrays stay Dask arrays
                                 chunk_size=None if be.name == "dask" else o["chunk_size"])
    layer_dims = (X.shape[0], *o["hidden"], Y.shape[0])
    if o["standardize"] and _chunked.is_streamed(X):
        raise ValueError("standardize=True needs X in memory (the mean and standard deviation "
                         "are computed over all samples); standardise an out-of-core X "
                         "beforehand, or load it")
    scaling = _standardization(X, xp) if o["standardize"] else None
    if o["output"] == "softmax" and Y.shape[0] < 2:
        raise ValueError(f"output='softmax' needs one-hot Y with at least 2 rows, got {Y.shape}")
    if isinstance(o["init"], Mapping):
        check.check_init_mapping(o["init"], layer_dims)
    params = init_params(layer_dims, init=o["init"], seed=o["seed"], backend=be)
    config = {k: v for k, v in o.items() if k not in ("X", "Y", "init", "backend", "device",
                                                      "dtype", "hidden")}
    config["hidden"] = list(o["hidden"])
    if callable(config["learning_rate"]):
        config["learning_rate"] = repr(config["learning_rate"])
    if choice is not None:
        config["backend_choice"] = choice
    model = Model(params, layer_dims=layer_dims, hidden_activation=o["hidden_activation"],
                  output=o["output"], backend=be, config=config, standardization=scaling)
    X = model._scaled(X)  # training sees X as the model will: standardised when asked
    if o["resume"] is not None:
        _persistence.resume_into(model, o["resume"], m=X.shape[1], options=o)
    keep_freed_memory_in_process()  # no page faults on each iteration's fresh temporaries
    with be.full_precision(), be.float_warnings_silenced():
        _run(model, X, Y, o)
    return model


def _choose_auto(X: Any, Y: Any, o: dict[str, Any]) -> tuple[str, str]:
    """``backend="auto"``: the backend for this much work per iteration, and why."""
    x_shape, y_shape = shape_of(X), shape_of(Y)
    if len(x_shape) != 2 or len(y_shape) != 2:
        return "numpy", "auto chose numpy: the data is not 2-D (the checks below will say why)"
    m = x_shape[1] if o["batch_size"] is None else min(o["batch_size"], x_shape[1])
    flops = flops_per_iteration((x_shape[0], *o["hidden"], y_shape[0]), m)
    return choose_auto_backend(flops)


def _standardization(X: Any, xp: ModuleType) -> tuple[Any, Any]:
    """Per-feature ``(mean, std)``, shape ``(n_x, 1)``; constant features get ``std`` 1."""
    mean = xp.mean(X, axis=1, keepdims=True)
    std = xp.std(X, axis=1, keepdims=True)
    constant = xp.max(X, axis=1, keepdims=True) == xp.min(X, axis=1, keepdims=True)
    return mean, xp.where(constant, xp.ones_like(std), std)


def _run(model: Model, X: Any, Y: Any, o: dict[str, Any]) -> None:
    """Run iterations ``model.iterations .. num_iterations`` in place on ``model``."""
    be = model.backend_info
    xp = be.xp
    step = make_step(xp, hidden_activation=o["hidden_activation"], output=o["output"],
                     optimizer=o["optimizer"], l2=o["l2"], beta1=o["beta1"], beta2=o["beta2"],
                     epsilon=o["epsilon"])
    block = None
    m = X.shape[1]
    chunked = o["chunk_size"] is not None and be.name != "dask"
    if chunked:  # gradients summed over sample chunks (training/_chunked.py)
        step, block, _ = _chunked.chunked_run_step(
            be, X, o, layer_dims=model.layer_dims, batch_m=min(m, o["batch_size"] or m),
            options={k: o[k] for k in _STEP_OPTIONS})
    elif o["compile"]:
        compiled = compile_steps(be, step, key=tuple(o[k] for k in _STEP_OPTIONS))
        step, block = compiled.step, compiled.block
    dask = DaskSteps(be, X, Y, o, model.layer_dims[1:-1]) if be.name == "dask" else None
    if dask is not None:  # one task per column chunk, a tree sum on the workers (_dask_train)
        X, Y, step = dask.X, dask.Y, dask.step
    batches = _Batches(X, Y, o["batch_size"], o["seed"], be) if (
        o["batch_size"] is not None and o["batch_size"] < m) else None
    dropout = o["keep_prob"] < 1.0 and len(model.layer_dims) > 2
    per_chunk_masks = dropout and (chunked or dask is not None)
    hidden_sizes = model.layer_dims[1:-1]
    sample = mask_sampler(be, o["seed"]) if dropout and not per_chunk_masks else None
    if batches is not None or dropout:
        block = None
    lr, keep_prob, cost_every = o["learning_rate"], o["keep_prob"], o["cost_every"]
    print_cost, total = o["print_cost"], o["num_iterations"]
    fixed_rate = not callable(lr)

    def is_recorded(i: int) -> bool:
        return i % cost_every == 0 or (print_cost and i % PRINT_EVERY == 0)

    params = model.params
    state = model.optimizer_state
    if state is None:
        state = init_optimizer_state(o["optimizer"], params, xp=xp)
    if dask is not None:
        params, state = dask.to_host(params), dask.to_host(state)
    model.optimizer_state = state
    saver = None if o["checkpoint"] is None else _persistence.Checkpointer(
        o["checkpoint"], o["checkpoint_every"], X.shape[1], total, lr)
    last_finite = next(reversed(model.costs.values()), None) if model.costs else None
    bar = _Progress(o["progress"], total, model.iterations)
    i = start = model.iterations
    try:
        while i < total:
            if block is not None and not is_recorded(i):
                stop = min(total, _next_recorded(i, cost_every, print_cost))
                if saver is not None:
                    stop = min(stop, saver.next_due(i))
                rates = [_rate_at(lr, k) for k in range(i, stop)]
                params, state = block(params, state, X, Y, rates)
                i = stop
                model.params, model.optimizer_state, model.iterations = params, state, i
                if saver is not None and saver.due(i):
                    saver.save(model, last_finite)
                continue
            Xb, Yb = (X, Y) if batches is None else batches(i)
            masks = i if per_chunk_masks else None  # chunked, Dask: masks drawn per chunk
            if sample is not None:
                drawn = sample(i, [(n, Xb.shape[1]) for n in hidden_sizes], keep_prob)
                masks = dict(enumerate(drawn, start=1))
            record = i % cost_every == 0 or (print_cost and i % PRINT_EVERY == 0)
            rate = lr if fixed_rate else _rate_at(lr, i)
            params, state, cost = step(params, state, Xb, Yb, rate, masks, with_cost=record)
            if record:
                value = float(cost)
                if not math.isfinite(value):
                    raise TrainingDivergedError(i, last_finite, lr)
                last_finite = value
                if i % cost_every == 0:
                    model.costs[i] = value
                if print_cost and i % PRINT_EVERY == 0:
                    print(f"Cost after iteration {i}: {value}")
                bar.update(i + 1, value)
            i += 1
            model.params, model.optimizer_state, model.iterations = params, state, i
            if saver is not None and saver.due(i):
                saver.save(model, last_finite)
    except KeyboardInterrupt:
        model.interrupted = True
        warnings.warn(
            f"training interrupted at iteration {model.iterations} of {total}: returning the "
            "model reached so far", RuntimeWarning, stacklevel=3)
    finally:
        bar.update(model.iterations, None)
        bar.close()
        if dask is not None:
            model.params, model.optimizer_state = dask.back(params), dask.back(state)
    if not model.interrupted and model.iterations > start:  # no cost was recorded after the end
        masks = model.iterations if per_chunk_masks else None  # chunk steps take the iteration
        _check_final_cost(model, step, (params, state), (X, Y), masks, last_finite, lr)
    if saver is not None:
        saver.save(model, last_finite)  # at the end, or what an interrupt left: never lost
    if not _all_finite(model.params.values(), xp):
        raise TrainingDivergedError(model.iterations, last_finite, lr)


def _check_final_cost(model: Model, step: Callable[..., tuple[Any, Any, Any]],
                      reached: tuple[dict, dict], data: tuple[Any, Any], masks: Any,
                      last_finite: float | None, learning_rate: Any) -> None:
    """Raise when the cost of the final parameters is not finite (computed once, at the end).

    Recorded costs are those of each iteration's forward pass, before its update: the final
    parameters' cost is never among them, and finite (if huge) parameters can give a NaN cost.
    The run's own step computes it (chunked, on Dask or compiled, as the run's costs were),
    from the run's own ``(params, state)`` (host copies on Dask); its update is discarded, so
    its rate is any positive number (a schedule is not called again). One fetch (``bool``).
    """
    _, _, cost = step(*reached, *data, 1.0, masks, with_cost=True)
    if not bool((cost == cost) & (abs(cost) < math.inf)):  # not NaN, not infinite
        raise TrainingDivergedError(model.iterations, last_finite, learning_rate)


def _all_finite(arrays: Any, xp: ModuleType) -> bool:
    """Whether every entry of every array is finite, fetched from the device once."""
    flags = [xp.all(xp.isfinite(a)) for a in arrays]
    combined = flags[0]
    for flag in flags[1:]:
        combined = combined & flag
    return bool(combined)


def _next_recorded(i: int, cost_every: int, print_cost: bool) -> int:
    nxt = (i // cost_every + 1) * cost_every
    if print_cost:
        nxt = min(nxt, (i // PRINT_EVERY + 1) * PRINT_EVERY)
    return nxt
