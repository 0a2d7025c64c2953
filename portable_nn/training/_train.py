"""``train``: a run assembled from its parts.

:class:`TrainOptions` checks the options; this module prepares the backend and the starting
model; :mod:`._strategies` chooses the execution strategy (which prepares the data and owns the
step, eager, compiled, chunked or Dask), :mod:`._feed` what each iteration trains on,
the callbacks (validation, early stopping, the user's, ``print_cost``, progress, checkpoints)
do everything at record points, and :mod:`._loop` runs the iterations.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any

from portable_nn.backend import (
    Backend,
    choose_auto_backend,
    infer_output,
    resolve_backend,
    to_numpy,
)
from portable_nn.core import init_optimizer_state
from portable_nn.training import _checkpoints, _chunked
from portable_nn.training._callbacks import Callback, Callbacks, Run
from portable_nn.training._chance import warn_at_chance_level
from portable_nn.training._early_stopping import ConvergenceStop, validation_callbacks
from portable_nn.training._feed import Feed
from portable_nn.training._init import init_params
from portable_nn.training._loop import run_loop
from portable_nn.training._model import Model
from portable_nn.training._options import OPTIONS, TrainOptions, numpydoc_parameters
from portable_nn.training._reporting import CostPrinter, ProgressBar
from portable_nn.training._statistics import feature_statistics, standardized
from portable_nn.training._step_spec import StepSpec
from portable_nn.training._strategies import build_strategy, prepare_data
from portable_nn.training._strategy import Strategy

__all__ = ["train"]


def train(
    X: Any,
    Y: Any = None,
    *,
    recipe: str = "tabular",
    hidden: int | tuple[int, ...] | None = None,
    hidden_activation: str | None = None,
    output: str | None = None,
    learning_rate: float | Callable[[int], float] | None = None,
    num_iterations: int | None = None,
    init: str | Mapping[str, Any] | None = None,
    seed: int = 0,
    backend: str | ModuleType = "numpy",
    device: Any = None,
    dtype: Any = None,
    cost_every: int | None = None,
    print_cost: bool = False,
    batch_size: int | None = None,
    optimizer: str | None = None,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.01,
    l2: float | None = None,
    keep_prob: float = 1.0,
    progress: bool = False,
    compile: bool | str = "auto",
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike[str] | None = None,
    standardize: bool | None = None,
    tol: float | None = None,
    n_iter_no_change: int | None = None,
    chunk_size: int | str | None = None,
    validation: tuple[Any, Any] | None = None,
    early_stopping: int | None = None,
    callbacks: Sequence[Callback] = (),
) -> Model:
    """Train a fully-connected network on ``(X, Y)`` and return the :class:`Model`.

    Parameters
    ----------
    X : array-like, shape (n_x, m), or Dataset
        Inputs, one column per sample (NumPy, nested lists, or arrays of the backend); or a
        :class:`portable_nn.datasets.Dataset` (``from_csv``, ``from_samples``), whose ``Y``,
        ``output``, ``classes`` and ``feature_names`` are then used (``Y`` is omitted; the
        model's ``config`` records the classes and feature names, so that
        ``model.predict_labels`` gives the original labels).
    Y : array-like, shape (n_y, m)
        Targets: 0/1 for ``output="sigmoid"``, one-hot ``(C, m)`` for ``"softmax"``, real
        values for ``"linear"``.
    <options>

    Returns
    -------
    Model
        A classifier that ends at chance level (its final training cost is ``ln C``, or it
        predicts no better than the most frequent class) comes with a
        ``portable_nn.training.ChanceLevelWarning`` (a ``UserWarning``) saying why
        and what to try. If training is interrupted with Ctrl-C, the model reached so far is
        returned (its ``interrupted`` is True and a warning is issued) with every cost
        recorded until then.
        With ``early_stopping``, the model of the best validation cost.

    Raises
    ------
    ValueError, TypeError
        On any invalid argument, before training starts (the message names it).
    TrainingDivergedError
        When a recorded cost (or a final parameter) is NaN or infinite.
    FileNotFoundError, ModelFileError
        When ``resume`` names no file or an unusable one (ModelFileError is a ValueError).

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.planar()
    >>> model = pnn.train(X, Y, recipe="lesson", num_iterations=1000)
    >>> model.layer_dims, model.config["learning_rate"]
    ((2, 4, 1), 1.2)
    """
    X, Y, output, labels = _data_arguments(X, Y, output)
    options = TrainOptions.from_arguments(locals())
    options = options.resolved(options.output or _infer_output(Y, options.chunk_size))
    resumed = None if options.resume is None else _checkpoints.read_model(options.resume)
    be, choice = _run_backend(X, Y, options, resumed)
    X, Y = prepare_data(X, Y, be, output=options.output, chunk_size=options.chunk_size)
    options, compile_choice = _resolve_compile(options, be, X)
    model = _start_model(X, Y, options, be, choice)
    model.classes, model.feature_names = labels.get("classes"), labels.get("feature_names")
    if compile_choice is not None:
        model.choices["compile"] = compile_choice
    raw_X, raw_Y = X, Y
    X = model._scaled(X)  # training sees X as the model will: standardised when asked
    Y = standardized(Y, model.target_standardization)  # and a linear output's Y too
    if resumed is not None:  # the checkpoint, read once above
        _checkpoints.resume_into(model, resumed, m=X.shape[1], options=options)
    if model.optimizer_state is None:  # a fresh run, or a checkpoint of plain gd
        model.optimizer_state = init_optimizer_state(options.optimizer, model.params, xp=be.xp)
    strategy, feed, run = _run_parts(model, X, Y, options, be)
    be.keep_freed_memory()  # no page faults on each iteration's fresh temporaries
    with be.full_precision(), be.float_warnings_silenced():
        run_loop(run, strategy, feed,
                 Callbacks(_callbacks(options, X.shape[1]), options.cost_every))
    if not model.interrupted and not _chunked.is_streamed(raw_X):  # learned nothing: say so
        warn_at_chance_level(model, raw_X, raw_Y)
    return model


train.__doc__ = (train.__doc__ or "").replace("    <options>\n\n",
                                              numpydoc_parameters(OPTIONS) + "\n")


def _data_arguments(X: Any, Y: Any, output: str | None) -> tuple[Any, Any, Any, dict[str, Any]]:
    """``(X, Y, output, labels)`` of ``train(X, Y)`` or of ``train(dataset)``.

    A :class:`~portable_nn.datasets.Dataset` (anything with ``X``, ``Y``, ``output`` and
    ``classes``) gives its arrays, its output (unless ``output`` is given) and ``labels``, the
    ``classes`` and ``feature_names`` to record in the model's fields of those names.
    """
    if all(hasattr(X, name) for name in ("X", "Y", "output", "classes")):
        if Y is not None:
            raise TypeError("train(dataset) takes the targets from the Dataset: leave Y out "
                            "(or pass train(X, Y) with arrays)")
        labels: dict[str, Any] = {}
        if X.classes is not None:
            labels["classes"] = to_numpy(X.classes).tolist()
        if getattr(X, "feature_names", None) is not None:
            labels["feature_names"] = list(X.feature_names)
        return X.X, X.Y, X.output if output is None else output, labels
    if Y is None:
        raise TypeError("train(X, Y) needs the targets Y (or pass a portable_nn.datasets."
                        "Dataset, from from_csv or from_samples, as the only argument)")
    return X, Y, output, {}


def _infer_output(Y: Any, chunk_size: Any) -> str:
    """The output layer ``Y`` asks for when ``output`` is not given (see ``infer_output``).

    Warns when ``Y`` is one row of a few whole numbers: class indices trained as a regression?
    """
    output, whole = infer_output(Y, chunk_size if isinstance(chunk_size, int) else 65_536)
    if whole is not None:
        shown = ", ".join(f"{v:g}" for v in whole[:5]) + (", ..." if len(whole) > 5 else "")
        warnings.warn(f"Y is one row of {len(whole)} distinct whole numbers ({shown}): training "
                      "a regression (output='linear'). If they are class indices, pass "
                      "portable_nn.datasets.one_hot(Y) (or a Dataset from from_samples); to "
                      "silence this, pass output='linear'", UserWarning, stacklevel=3)
    return output


def _run_backend(X: Any, Y: Any, options: TrainOptions,
                 resumed: _checkpoints.ModelFile | None) -> tuple[Backend, str | None]:
    """The run's backend (``"auto"`` chosen by the work; a ``resume`` file gives the dtype)."""
    dtype = options.dtype
    if resumed is not None and dtype is None:
        dtype = resumed.meta["dtype"]
    backend, choice = options.backend, None
    if isinstance(backend, str) and backend == "auto":
        backend, choice = _choose_auto(X, Y, options)
    return resolve_backend(backend, options.device, dtype), choice


def _choose_auto(X: Any, Y: Any, options: TrainOptions) -> tuple[str, str]:
    """``backend="auto"``: the backend for this much work per iteration, and why."""
    return choose_auto_backend(X, Y, hidden=options.hidden, batch_size=options.batch_size)


def _resolve_compile(options: TrainOptions, be: Backend,
                     X: Any) -> tuple[TrainOptions, str | None]:
    """``compile="auto"``: compiled where the backend can and X is in memory, else eager.

    Returns the options with ``compile`` True or False, and what auto chose and why (None
    when ``compile`` was given as True or False).
    """
    if options.compile != "auto":
        return options, None
    how = be.compiler
    if how is None:
        use, why = False, (f"eager: nothing compiles on backend={be.name!r}, device "
                           f"{be.device} (JAX and PyTorch on a CUDA device do)")
    elif _chunked.is_streamed(X):
        use, why = False, "eager: X is read chunk by chunk (out of core); compiling needs it in " \
            "memory"
    else:
        use, why = True, f"compiled: {how}"
    return replace(options, compile=use), f"auto chose {why}"


def _start_model(X: Any, Y: Any, options: TrainOptions, be: Backend,
                 choice: str | None) -> Model:
    """The model before its first iteration: starting parameters, standardization, config."""
    layer_dims = (X.shape[0], *options.hidden, Y.shape[0])
    if options.standardize and _chunked.is_streamed(X):
        raise ValueError("standardize=True (the tabular recipe's default) needs X in memory "
                         "(the mean and standard deviation are computed over all samples): "
                         "pass standardize=False with an out-of-core X standardised "
                         "beforehand, or load X")
    if options.standardize and options.output == "linear" and _chunked.is_streamed(Y):
        raise ValueError("standardize=True with output='linear' standardises Y too and needs "
                         "it in memory; load Y, or standardise it beforehand")
    if options.output == "softmax" and Y.shape[0] < 2:
        raise ValueError(f"output='softmax' needs one-hot Y with at least 2 rows, got {Y.shape}")
    params = init_params(layer_dims, init=options.init, seed=options.seed, backend=be)
    config = options.to_config()
    choices = {} if choice is None else {"backend": choice}
    scaling = _standardization(X, be.xp) if options.standardize else None
    # a linear output learns standardised targets too; the model undoes it in predict
    target_scaling = _standardization(Y, be.xp) if options.standardize and \
        options.output == "linear" else None
    return Model(params, layer_dims=layer_dims, hidden_activation=options.hidden_activation,
                 output=options.output, backend=be, config=config, standardization=scaling,
                 target_standardization=target_scaling, choices=choices)


def _standardization(X: Any, xp: ModuleType) -> tuple[Any, Any]:
    """Per-feature ``(mean, std)``, shape ``(n_x, 1)``; constant features get ``std`` 1.

    Finite for any finite ``X`` (no square that overflows; see :mod:`._statistics`).
    """
    return feature_statistics(X, xp)


def _run_parts(model: Model, X: Any, Y: Any, options: TrainOptions,
               be: Backend) -> tuple[Strategy, Feed, Run]:
    """The run's execution strategy, its feed and what its callbacks see of it."""
    strategy = build_strategy(be, X, Y, StepSpec.from_options(options, model.layer_dims),
                              compile=options.compile is True, chunk_size=options.chunk_size,
                              batch_size=options.batch_size)
    feed = Feed(strategy.X, strategy.Y, batch_size=options.batch_size, seed=options.seed,
                learning_rate=options.learning_rate, backend=strategy.backend)
    run = Run(model, total=options.num_iterations, cost_every=options.cost_every,
              backend=strategy.backend, learning_rate=options.learning_rate)
    return strategy, feed, run


def _callbacks(options: TrainOptions, m: int) -> list[Callback]:
    """The run's callbacks, in call order (see ``docs/callbacks.md``)."""
    callbacks: list[Callback] = validation_callbacks(options.validation, options.early_stopping)
    if options.n_iter_no_change:
        callbacks.append(ConvergenceStop(options.tol, options.n_iter_no_change))
    callbacks.extend(options.callbacks)
    if options.print_cost:
        callbacks.append(CostPrinter())
    if options.progress:
        callbacks.append(ProgressBar())
    if options.checkpoint is not None:
        callbacks.append(_checkpoints.Checkpointer(options.checkpoint, options.checkpoint_every,
                                                   m, options.num_iterations))
    return callbacks


