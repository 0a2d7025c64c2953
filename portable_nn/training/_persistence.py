"""Saving, loading, checkpointing and resuming models as one portable ``.npz`` file.

A model file is an uncompressed ``.npz`` archive holding

- every parameter (``W1``, ``b1``, ..., ``WL``, ``bL``) as a plain floating array;
- the optimizer's state arrays, if any (``opt.vW1``, ``opt.sW1``, ...);
- one text entry ``__portable_nn__``: JSON metadata with the format version, the package
  version, ``layer_dims``, ``hidden_activation``, ``output``, ``dtype``, the backend and device
  the model was trained on, its costs, iterations and training options.

Files are written atomically and read with ``allow_pickle=False``: loading never runs code
from the file. Every problem with a file raises :class:`ModelFileError` naming the file.

A path ending in ``.safetensors`` is written and read in the safetensors format instead: the
same members as tensors, the same JSON metadata as the ``__portable_nn__`` string of the
header's ``__metadata__``, and the same checks (:func:`expected_members` and the metadata's
fields) on loading.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from portable_nn._version import __version__
from portable_nn.backend import Backend, from_host, resolve_backend
from portable_nn.files import (
    NpzArchive,
    NpzReadError,
    SafetensorsArchive,
    interrupts_deferred,
    write_npz_atomic,
    write_safetensors_atomic,
)
from portable_nn.training._callbacks import Callback, Run
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._file_schema import (
    FieldError,
    check_metadata,
    decode_metrics,
    encode_metrics,
    scaling_problem,
)
from portable_nn.training._model import Model
from portable_nn.training._validate import all_finite, check_writable_target, param_shapes
from portable_nn.training._validate import check_path as _check_path

__all__ = [
    "FORMAT_VERSION",
    "Checkpointer",
    "ModelFileError",
    "checkpoint_dtype",
    "expected_members",
    "load",
    "resume_into",
    "save_model",
]

FORMAT = "portable_nn.model"
FORMAT_VERSION = 1
META_KEY = "__portable_nn__"
STATE_PREFIX = "opt."
MAX_METADATA = 64 << 20  # bytes of the metadata entry (UTF-32): costs of ~10**6 records
STANDARDIZATION = ("x_mean", "x_std")  # members holding Model.standardization's (mean, std)
TARGET_STANDARDIZATION = ("y_mean", "y_std")  # Model.target_standardization's (mean, std)
SAFETENSORS_SUFFIX = ".safetensors"  # a path ending so is saved and read as safetensors


def is_safetensors(path: str | os.PathLike[str]) -> bool:
    """True for a path ending in ``.safetensors`` (any case): that file format, not ``.npz``."""
    return os.fspath(path).lower().endswith(SAFETENSORS_SUFFIX)
BEST_PREFIX = "best."  # early stopping's best parameters (and "best.opt." state) in checkpoints


class ModelFileError(ValueError):
    """A model file cannot be used: truncated, corrupted, not a portable_nn model, too new, ...

    The message names the file and the problem.
    """


def expected_members(meta: Mapping[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """The array members a model file with metadata ``meta`` holds: ``{name: (shape, dtype)}``.

    The one table of what a file must contain, used when saving (to check what is written)
    and when loading (to check each member's header before reading it): the parameters
    ``W1, b1, ...`` from ``layer_dims``; the optimizer state arrays ``opt.vW1, ...`` listed in
    ``optimizer_state["arrays"]`` (shaped like their parameter); ``x_mean`` and ``x_std`` of
    shape ``(n_x, 1)`` when ``standardize`` is true; ``y_mean`` and ``y_std`` of shape
    ``(n_y, 1)`` when ``standardize_target`` is true. Every member has the metadata's dtype.

    Examples
    --------
    >>> meta = {"layer_dims": [2, 3, 1], "dtype": "float32", "standardize": True,
    ...         "optimizer_state": {"arrays": ["vW2"], "scalars": {}}}
    >>> for name, spec in expected_members(meta).items():
    ...     print(name, spec)
    W1 ((3, 2), 'float32')
    b1 ((3, 1), 'float32')
    W2 ((1, 3), 'float32')
    b2 ((1, 1), 'float32')
    opt.vW2 ((1, 3), 'float32')
    x_mean ((2, 1), 'float32')
    x_std ((2, 1), 'float32')
    """
    dtype = meta["dtype"]
    shapes = param_shapes(meta["layer_dims"])
    members: dict[str, tuple[tuple[int, ...], str]] = {
        key: (shape, dtype) for key, shape in shapes.items()}
    for key in (meta.get("optimizer_state") or {}).get("arrays", []):
        members[STATE_PREFIX + key] = (shapes[key[1:]], dtype)
    if meta.get("standardize"):
        n_x = meta["layer_dims"][0]
        members.update(dict.fromkeys(STANDARDIZATION, ((n_x, 1), dtype)))
    if meta.get("standardize_target"):
        n_y = meta["layer_dims"][-1]
        members.update(dict.fromkeys(TARGET_STANDARDIZATION, ((n_y, 1), dtype)))
    stopping = (meta.get("checkpoint") or {}).get("early_stopping")
    if stopping is not None and stopping["best_iteration"] is not None:
        members.update({BEST_PREFIX + key: (shape, dtype) for key, shape in shapes.items()})
        members.update({BEST_PREFIX + STATE_PREFIX + key: (shapes[key[1:]], dtype)
                        for key in stopping["state_arrays"]})
    return members


# ----------------------------------------------------------------------------------- saving


def _split_state(state: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optimizer state -> (arrays, JSON scalars such as Adam's step count ``t``)."""
    arrays: dict[str, Any] = {}
    scalars: dict[str, Any] = {}
    for key, value in (state or {}).items():
        if isinstance(value, (bool, int, float)) or getattr(value, "ndim", 0) == 0:
            is_int = isinstance(value, int) or "int" in str(getattr(value, "dtype", ""))
            scalars[key] = int(value) if is_int else float(value)
        else:
            arrays[key] = value
    return arrays, scalars


def _metadata(model: Model, state_arrays: Mapping[str, Any], scalars: Mapping[str, Any],
              checkpoint: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "layer_dims": list(model.layer_dims),
        "hidden_activation": model.hidden_activation,
        "output": model.output,
        "dtype": model.backend_info.dtype_name,
        "backend": model.backend,
        "device": str(model.device),
        "costs": [[int(i), float(c)] for i, c in model.costs.items()],
        "iterations": int(model.iterations),
        "interrupted": bool(model.interrupted),
        "config": dict(model.config),
        "optimizer_state": {"arrays": sorted(state_arrays), "scalars": dict(scalars)},
        "checkpoint": None if checkpoint is None else dict(checkpoint),
        "standardize": getattr(model, "standardization", None) is not None,
        "standardize_target": getattr(model, "target_standardization", None) is not None,
        "metrics": encode_metrics(model.metrics),  # non-finite values as "nan", "inf", "-inf"
        "best_iteration": model.best_iteration,
    }


def _standardization_arrays(model: Model) -> dict[str, Any]:
    """The members ``x_mean``, ``x_std``, ``y_mean``, ``y_std`` of the model's statistics.

    From ``model.standardization`` and ``model.target_standardization``; none for None.
    """
    arrays: dict[str, Any] = {}
    for attribute, names in (("standardization", STANDARDIZATION),
                             ("target_standardization", TARGET_STANDARDIZATION)):
        pair = getattr(model, attribute, None)
        if pair is None:
            continue
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"model.{attribute} must be None or a (mean, std) tuple, got "
                            f"{type(pair).__name__}")
        arrays.update(zip(names, pair, strict=True))
    return arrays


def _check_members(meta: Mapping[str, Any], arrays: Mapping[str, Any]) -> None:
    """Refuse to write a model whose arrays do not match :func:`expected_members` of ``meta``."""
    expected = expected_members(meta)
    if sorted(arrays) != sorted(expected):
        raise ValueError(f"cannot save the model: its arrays {sorted(arrays)} do not match "
                         f"what its layer_dims and state need, {sorted(expected)}")
    for key, (shape, _) in expected.items():
        found = tuple(int(n) for n in arrays[key].shape)
        if found != shape:
            raise ValueError(f"cannot save the model: {key!r} has shape {found}, but "
                             f"layer_dims {tuple(meta['layer_dims'])} needs {shape}")


def _early_stopping_entries(saved: Mapping[str, Any] | None
                            ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Early stopping's state (``EarlyStopping.state()``) as checkpoint metadata and arrays."""
    if saved is None:
        return None, {}
    state_arrays, scalars = _split_state(saved["optimizer_state"])
    best = saved["best_cost"]
    meta = {"patience": int(saved["patience"]), "waited": int(saved["waited"]),
            "best_iteration": saved["best_iteration"], "last_iteration": saved["last_iteration"],
            "best_cost": float(best) if best != float("inf") else "inf",
            "state_arrays": sorted(state_arrays), "state_scalars": scalars}
    arrays: dict[str, Any] = {}
    if saved["params"] is not None:
        arrays.update({BEST_PREFIX + key: value for key, value in saved["params"].items()})
        arrays.update({BEST_PREFIX + STATE_PREFIX + key: value
                       for key, value in state_arrays.items()})
    return meta, arrays


def save_model(model: Model, path: str | os.PathLike[str], *,
               checkpoint: Mapping[str, Any] | None = None,
               callback_state: Mapping[str, Any] | None = None) -> Path:
    """Write ``model`` to ``path`` as one ``.npz`` file, atomically (see :meth:`Model.save`).

    A path ending in ``.safetensors`` is written as a safetensors file instead.

    Parameters
    ----------
    model : Model
        The model to save, on any backend and device.
    path : str or path-like
        The target file (used exactly as given).
    checkpoint : mapping, optional
        Extra facts recorded by training checkpoints (sample count, target iterations).
    callback_state : mapping, optional
        A checkpoint's ``run.saved``: early stopping's best point and patience count, written
        with the checkpoint so that a resumed run stops as the uninterrupted one.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = check_writable_target("path", path)
    state_arrays, scalars = _split_state(model.optimizer_state)
    stopping, best_arrays = _early_stopping_entries((callback_state or {}).get("early_stopping"))
    if stopping is not None:
        checkpoint = {**(checkpoint or {}), "early_stopping": stopping}
    meta = _metadata(model, state_arrays, scalars, checkpoint)
    text = json.dumps(meta, default=str, allow_nan=False)
    arrays = dict(model.params)
    arrays.update({STATE_PREFIX + key: value for key, value in state_arrays.items()})
    arrays.update(_standardization_arrays(model))
    arrays.update(best_arrays)
    _check_members(meta, arrays)
    write = write_safetensors_atomic if is_safetensors(path) else write_npz_atomic
    return write(path, arrays, {META_KEY: text})


# ---------------------------------------------------------------------------------- loading


class _SavedModel:
    """A model file read and checked on the host: metadata plus its NumPy arrays by member."""

    def __init__(self, name: str, meta: dict[str, Any], members: dict[str, Any]) -> None:
        problem = scaling_problem(members)  # x_std of 0, < 0, NaN or inf: refused on load
        if problem is not None:
            raise _fail(name, f"{problem} (corrupted?)")
        self.name = name
        self.meta = meta
        self.members = members

    @property
    def layer_dims(self) -> tuple[int, ...]:
        return tuple(self.meta["layer_dims"])

    @property
    def costs(self) -> dict[int, float]:
        return {int(i): float(c) for i, c in self.meta["costs"]}

    def optimizer_state(self, backend: Backend) -> dict[str, Any] | None:
        info = self.meta.get("optimizer_state") or {}
        if not info.get("arrays") and not info.get("scalars"):
            return None  # plain gradient descent, or no state saved: training starts it afresh
        state: dict[str, Any] = {
            key: from_host(self.members[STATE_PREFIX + key], backend, name=key)
            for key in info["arrays"]
        }
        state.update(info.get("scalars", {}))
        return state

    def standardization(self, backend: Backend, *,
                        target: bool = False) -> tuple[Any, Any] | None:
        if not self.meta.get("standardize_target" if target else "standardize"):
            return None
        mean, std = (from_host(self.members[key], backend, name=key)
                     for key in (TARGET_STANDARDIZATION if target else STANDARDIZATION))
        return mean, std

    def callback_state(self) -> dict[str, Any]:
        """The checkpoint's ``run.saved`` (host arrays), ``{}`` when it holds none."""
        stopping = (self.meta.get("checkpoint") or {}).get("early_stopping")
        if stopping is None:
            return {}
        params = state = None
        if stopping["best_iteration"] is not None:
            params = {key: self.members[BEST_PREFIX + key]
                      for key in param_shapes(self.layer_dims)}
            state = {key: self.members[BEST_PREFIX + STATE_PREFIX + key]
                     for key in stopping["state_arrays"]}
            state.update(stopping["state_scalars"])
        return {"early_stopping": {
            "best_cost": float(stopping["best_cost"]), "best_iteration":
            stopping["best_iteration"], "last_iteration": stopping["last_iteration"],
            "waited": stopping["waited"],
            "patience": stopping["patience"], "params": params, "optimizer_state": state}}

    def to_model(self, backend: Backend) -> Model:
        params = {key: from_host(self.members[key], backend, name=key)
                  for key in param_shapes(self.layer_dims)}
        model = Model(params, layer_dims=self.layer_dims,
                      hidden_activation=self.meta["hidden_activation"],
                      output=self.meta["output"], backend=backend, costs=self.costs,
                      iterations=int(self.meta["iterations"]),
                      interrupted=bool(self.meta.get("interrupted", False)),
                      config=self.meta.get("config") or {},
                      optimizer_state=self.optimizer_state(backend),
                      metrics=decode_metrics(self.meta.get("metrics")),
                      best_iteration=self.meta.get("best_iteration"))
        model.standardization = self.standardization(backend)
        model.target_standardization = self.standardization(backend, target=True)
        return model


def _fail(name: str, problem: str) -> ModelFileError:
    return ModelFileError(f"model file {name!r}: {problem}")


def _parse_metadata(name: str, text: str) -> dict[str, Any]:
    try:
        meta = json.loads(text)
    except RecursionError as exc:
        raise _fail(name, "its metadata is nested too deeply to be a model's (hostile or "
                          "corrupted?)") from exc
    except ValueError as exc:
        raise _fail(name, f"its metadata is not valid JSON (corrupted?): {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise _fail(name, f"not a portable_nn model: metadata format is {found!r}, "
                          f"expected {FORMAT!r}")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(name, f"format_version {version!r} is not a positive int (corrupted?)")
    if version > FORMAT_VERSION:
        raise _fail(name, f"it has format version {version} (written by portable_nn "
                          f"{meta.get('package_version', '?')}), newer than the versions up to "
                          f"{FORMAT_VERSION} that this portable_nn {__version__} reads; upgrade "
                          "portable_nn to load it")
    try:
        check_metadata(meta)
    except FieldError as exc:
        raise _fail(name, f"{exc} (corrupted?)") from exc
    return meta


def _read_members(name: str, archive: NpzArchive | SafetensorsArchive,
                  meta: dict[str, Any]) -> dict[str, Any]:
    """Read exactly the members :func:`expected_members` lists, each header checked first."""
    expected = expected_members(meta)
    present = set(archive.names)
    extra = sorted(present - set(expected) - {META_KEY})
    if extra:
        raise _fail(name, f"it holds entries {_shorten(extra)} that are not part of a "
                          "portable_nn model (they were not read)")
    missing = [key for key in expected if key not in present]
    params_missing = [key for key in missing if key in param_shapes(meta["layer_dims"])]
    if params_missing:
        raise _fail(name, f"parameters {params_missing} are missing for layer_dims "
                          f"{tuple(meta['layer_dims'])}")
    if missing:
        raise _fail(name, f"entries {missing} are missing (its metadata lists them)")
    why = f"layer_dims {tuple(meta['layer_dims'])}"
    return {key: archive.read_array(key, shape, dtype, why=why)
            for key, (shape, dtype) in expected.items()}


def _shorten(names: list[str]) -> str:
    return repr(names) if len(names) <= 8 else f"{names[:8]!r} (and {len(names) - 8} more)"


def _read(path: str | os.PathLike[str]) -> _SavedModel:
    name = _check_path("path", path)
    try:
        opened = SafetensorsArchive if is_safetensors(name) else NpzArchive
        with opened(name) as archive:
            if META_KEY not in archive.names:
                raise _fail(name, f"not a portable_nn model: it has no {META_KEY!r} metadata "
                                  f"entry (its entries are {_shorten(sorted(archive.names))})")
            meta = _parse_metadata(name, archive.read_text(META_KEY, max_bytes=MAX_METADATA))
            return _SavedModel(name, meta, _read_members(name, archive, meta))
    except NpzReadError as exc:
        raise ModelFileError(f"model file {exc}") from exc


def load(path: str | os.PathLike[str], *, backend: Any = "numpy", device: Any = None,
         dtype: Any = None) -> Model:
    """Load a model saved with :meth:`Model.save` (or a training checkpoint) onto a backend.

    Loading never runs code from the file (nothing is unpickled) and trusts nothing in it:
    only a regular file is opened (a FIFO, device or socket is refused at once, without
    blocking); the metadata is read first and every field checked; then only the members the
    metadata implies are read, each refused from the zip directory and its NPY header (size,
    dtype, shape) before any data is inflated, so memory stays within a small multiple of the
    model's real size whatever the file declares. A model trained on any backend loads on any
    other: values are copied exactly (bit-identical when the dtype is kept).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file, or a ``.safetensors`` file (a path ending so) saved by
        :meth:`Model.save`: the same checks apply (safetensors checks its header itself).
    backend : str or module
        Where to put the parameters: ``"numpy"`` (default), ``"torch"``, ``"jax"``, ...
    device : object, optional
        A device of that backend; default: its default device.
    dtype : str or dtype, optional
        ``"float32"`` or ``"float64"``; default: the dtype the model was saved in. A float64
        model on a backend without float64 (JAX without its x64 mode) needs
        ``dtype="float32"`` (the error says so) or, on JAX, ``JAX_ENABLE_X64=1``.

    Returns
    -------
    Model
        With its parameters, costs, iterations, training options and optimizer state.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path`` (the message names it).
    PermissionError
        When the file may not be read.
    TypeError, ValueError
        When ``path`` is not a path (not a str or path-like, empty, a NUL byte).
    ModelFileError
        (a :class:`ValueError`) when the file is not a regular file, not a zip archive,
        truncated or corrupted, not a portable_nn model, has a newer format version, has a
        metadata field of the wrong type or value (the message names the field), or holds a
        member of the wrong size, shape or dtype, or one a model does not have.

    Examples
    --------
    >>> import os, tempfile
    >>> import portable_nn as pnn
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> _ = pnn.train(*pnn.datasets.planar(), recipe="lesson", num_iterations=10).save(path)
    >>> pnn.load(path).layer_dims
    (2, 4, 1)
    """
    saved = _read(path)
    try:
        be = resolve_backend(backend, device, dtype if dtype is not None else saved.meta["dtype"])
    except ValueError as exc:
        if dtype is not None or saved.meta["dtype"] == "float32":
            raise
        shown = backend if isinstance(backend, str) else getattr(backend, "__name__", backend)
        raise ValueError(
            f"model file {saved.name!r} holds {saved.meta['dtype']} parameters, which cannot "
            f"be loaded as they are: {exc} To load them rounded to float32: "
            f"pnn.load({saved.name!r}, backend={shown!r}, dtype='float32')") from None
    return saved.to_model(be)


# ------------------------------------------------------------------- checkpoints and resume


class Checkpointer(Callback):
    """A callback saving a run's model every ``every`` iterations, and when the run ends.

    Saves at the record points ``i % every == 0`` (the model after ``i`` updates, whose cost
    was just found finite) and in ``on_end`` (the end of the run, an early stop or a Ctrl-C),
    never after a divergence: the last good checkpoint is kept.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file (rewritten atomically each time).
    every : int or None
        Save when the iteration count reaches a multiple of ``every``; ``None``: only at the end.
    m : int
        The number of training samples (recorded, and checked on resume).
    total : int
        ``num_iterations`` of the run (recorded).
    """

    def __init__(self, path: str | os.PathLike[str], every: int | None, m: int,
                 total: int) -> None:
        self.path, self.m, self.total = path, m, total
        self.every = every
        self.saved_at: int | None = None
        self.started_at: int | None = None

    def on_start(self, run: Run) -> None:
        """Note where the run starts: that state (initial, or resumed) is not saved again."""
        self.started_at = run.model.iterations

    def on_record(self, run: Run) -> None:
        """Save at every multiple of ``every`` (called there; nothing without ``every``)."""
        if self.every is not None and run.iteration != self.started_at:
            self.save(run.model, run.last_finite, run.learning_rate, run.saved)

    def on_end(self, run: Run) -> None:
        """Save what the run reached, unless it diverged or failed before this one started."""
        if run.outcome != "diverged" and self.started_at is not None:
            self.save(run.model, run.last_finite, run.learning_rate, run.saved)

    def save(self, model: Model, last_finite: float | None, learning_rate: Any,
             callback_state: Mapping[str, Any] | None = None) -> None:
        """Save ``model`` (params, optimizer state, costs, iterations) unless already saved.

        ``callback_state`` is the run's ``run.saved`` (early stopping's state), kept with it.

        Raises
        ------
        TrainingDivergedError
            When a parameter is NaN or infinite: the last good checkpoint is kept.
        """
        if self.saved_at == model.iterations:
            return
        xp = model.xp
        with interrupts_deferred():  # a second Ctrl-C waits until the checkpoint is written
            if not all_finite(model.params.values(), xp):
                raise TrainingDivergedError(model.iterations, last_finite, learning_rate)
            save_model(model, self.path, checkpoint={"m": self.m, "num_iterations": self.total},
                       callback_state=callback_state)
            self.saved_at = model.iterations


def checkpoint_dtype(path: str | os.PathLike[str]) -> str:
    """The dtype name a checkpoint was saved in (to resume in the same dtype by default)."""
    return _read(path).meta["dtype"]


def resume_into(model: Model, path: str | os.PathLike[str], *, m: int, options: Any) -> None:
    """Replace ``model``'s state with the checkpoint at ``path``, after checking it fits the run.

    ``model`` is the freshly initialised model of the run (its backend, dtype, layer sizes and
    options); the checkpoint must have the same ``layer_dims``, activations, output and
    optimizer, the same number of samples ``m`` (when recorded), and at most
    ``num_iterations`` iterations.

    Raises
    ------
    ValueError
        Naming ``resume`` and what does not match.
    """
    saved = _read(path)
    name = saved.name
    meta = saved.meta
    if saved.layer_dims != model.layer_dims:
        raise ValueError(
            f"resume={name!r} holds a model with layer_dims {saved.layer_dims}, but X, hidden "
            f"and Y of this run give {model.layer_dims}"
        )
    for key in ("hidden_activation", "output"):
        if meta[key] != getattr(model, key):
            raise ValueError(f"resume={name!r} was trained with {key}={meta[key]!r}, but this "
                             f"run has {key}={getattr(model, key)!r}")
    optimizer = (meta.get("config") or {}).get("optimizer", "gd")
    if optimizer != options.optimizer:
        raise ValueError(f"resume={name!r} was trained with optimizer={optimizer!r}, but this "
                         f"run has optimizer={options.optimizer!r}")
    recorded_m = (meta.get("checkpoint") or {}).get("m")
    if recorded_m is not None and recorded_m != m:
        raise ValueError(
            f"resume={name!r} was trained on {recorded_m} samples, but X has {m} columns; to "
            f"start a new run from its weights use init=pnn.load({name!r}).params"
        )
    if meta["iterations"] > options.num_iterations:
        raise ValueError(
            f"resume={name!r} has already done {meta['iterations']} iterations, more than "
            f"num_iterations={options.num_iterations}"
        )
    restored = saved.to_model(model.backend_info)
    model.params = restored.params
    model.costs = restored.costs
    model.metrics = restored.metrics  # validation scores so far: the history goes on
    model.iterations = restored.iterations
    model.optimizer_state = restored.optimizer_state
    if restored.standardization is not None:  # the checkpoint's (mean, std) of the run's X
        model.standardization = restored.standardization
    if restored.target_standardization is not None:  # and of its Y (a linear output)
        model.target_standardization = restored.target_standardization
    # early stopping's best point and patience count: Run takes it as run.restored
    vars(model)["_restored_callback_state"] = saved.callback_state()
