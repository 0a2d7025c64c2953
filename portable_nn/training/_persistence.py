"""A model's host snapshot as one portable ``.npz`` file, written and read back checked.

:func:`write_model` writes a :class:`~._snapshot.ModelSnapshot` (``model_to_host``'s) and
:func:`read_model` reads one back (``host_to_model`` puts it on a backend): this module knows
the file, never the Model.

A model file is an uncompressed ``.npz`` archive holding

- every parameter (``W1``, ``b1``, ..., ``WL``, ``bL``) as a plain floating array;
- the optimizer's state arrays, if any (``opt.vW1``, ``opt.sW1``, ...);
- one text entry ``__portable_nn__``: JSON metadata with the format version, the package
  version, ``dtype``, the backend and device the model was trained on, and every plain field
  of :class:`~._snapshot.ModelFields` (``layer_dims``, ``hidden_activation``, ``output``,
  costs, iterations, training options, ``classes``, ``choices``, ...).

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
from portable_nn.files import (
    NpzArchive,
    NpzReadError,
    SafetensorsArchive,
    write_npz_atomic,
    write_safetensors_atomic,
)
from portable_nn.training._check_inputs import check_path as _check_path
from portable_nn.training._check_inputs import check_writable_target, param_shapes
from portable_nn.training._file_schema import (
    FieldError,
    check_metadata,
    decode_metrics,
    encode_metrics,
    lifted_config,
    scaling_problem,
)
from portable_nn.training._snapshot import ARRAY_FIELDS, FIELD_NAMES, ModelFields, ModelSnapshot

__all__ = [
    "FORMAT_VERSION",
    "ModelFile",
    "ModelFileError",
    "expected_members",
    "read_model",
    "write_model",
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


#: How a plain field is written as JSON (every other plain field is written as it is).
_ENCODE: dict[str, Any] = {
    "layer_dims": list,
    "costs": lambda costs: [[int(i), float(c)] for i, c in costs.items()],
    "metrics": encode_metrics,  # non-finite values as "nan", "inf", "-inf"
}
#: How it is read back (fields absent from older files keep their defaults).
_DECODE: dict[str, Any] = {
    "layer_dims": tuple,
    "costs": lambda pairs: {int(i): float(c) for i, c in pairs},
    "metrics": decode_metrics,
}


def _metadata(snapshot: ModelSnapshot, state_arrays: Mapping[str, Any],
              scalars: Mapping[str, Any], checkpoint: Mapping[str, Any] | None
              ) -> dict[str, Any]:
    fields = snapshot.fields
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "dtype": snapshot.dtype,
        "backend": snapshot.backend,
        "device": snapshot.device,
    }
    for name in FIELD_NAMES:
        if name not in ARRAY_FIELDS:
            meta[name] = _ENCODE.get(name, lambda value: value)(getattr(fields, name))
    meta.update({
        "optimizer_state": {"arrays": sorted(state_arrays), "scalars": dict(scalars)},
        "checkpoint": None if checkpoint is None else dict(checkpoint),
        "standardize": fields.standardization is not None,
        "standardize_target": fields.target_standardization is not None,
    })
    return meta


def _standardization_arrays(fields: ModelFields) -> dict[str, Any]:
    """The members ``x_mean``, ``x_std``, ``y_mean``, ``y_std`` of the model's statistics."""
    arrays: dict[str, Any] = {}
    for pair, names in ((fields.standardization, STANDARDIZATION),
                        (fields.target_standardization, TARGET_STANDARDIZATION)):
        if pair is not None:
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


def write_model(snapshot: ModelSnapshot, path: str | os.PathLike[str], *,
                checkpoint: Mapping[str, Any] | None = None,
                callback_state: Mapping[str, Any] | None = None) -> Path:
    """Write a model's host ``snapshot`` to ``path`` as one ``.npz`` file, atomically.

    See :meth:`Model.save`. A path ending in ``.safetensors`` is written as a safetensors
    file instead.

    Parameters
    ----------
    snapshot : ModelSnapshot
        The model on the host (``model_to_host``).
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
    fields = snapshot.fields
    state_arrays, scalars = _split_state(fields.optimizer_state)
    stopping, best_arrays = _early_stopping_entries((callback_state or {}).get("early_stopping"))
    if stopping is not None:
        checkpoint = {**(checkpoint or {}), "early_stopping": stopping}
    meta = _metadata(snapshot, state_arrays, scalars, checkpoint)
    text = json.dumps(meta, default=str, allow_nan=False)
    arrays = dict(fields.params)
    arrays.update({STATE_PREFIX + key: value for key, value in state_arrays.items()})
    arrays.update(_standardization_arrays(fields))
    arrays.update(best_arrays)
    _check_members(meta, arrays)
    write = write_safetensors_atomic if is_safetensors(path) else write_npz_atomic
    return write(path, arrays, {META_KEY: text})


# ---------------------------------------------------------------------------------- loading


class ModelFile:
    """A model file read and checked on the host: its metadata and NumPy arrays by member.

    :attr:`snapshot` is the model it holds; :meth:`callback_state` a checkpoint's early
    stopping state; :attr:`meta` the checked metadata (``checkpoint`` facts of a run).
    """

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
    def snapshot(self) -> ModelSnapshot:
        """The model the file holds, on the host.

        A file written before ``classes``, ``feature_names``, ``target_name`` and ``choices``
        were fields of their own holds them inside ``config`` (``backend_choice``,
        ``compile_choice``): they are taken out of it into their fields.
        """
        meta = self.meta
        values: dict[str, Any] = {}
        for name in FIELD_NAMES:
            if name not in ARRAY_FIELDS and meta.get(name) is not None:
                values[name] = _DECODE.get(name, lambda value: value)(meta[name])
        values["config"], older = lifted_config(meta.get("config") or {})
        for name, value in older.items():
            if name == "choices":
                values["choices"] = {**value, **values.get("choices", {})}
            else:
                values.setdefault(name, value)
        values["params"] = {key: self.members[key] for key in param_shapes(self.layer_dims)}
        values["optimizer_state"] = self._optimizer_state()
        values["standardization"] = self._pair(STANDARDIZATION, "standardize")
        values["target_standardization"] = self._pair(TARGET_STANDARDIZATION,
                                                      "standardize_target")
        values["interrupted"] = bool(values.get("interrupted", False))
        return ModelSnapshot(ModelFields(**values), backend=str(meta.get("backend", "numpy")),
                             device=str(meta.get("device", "cpu")), dtype=meta["dtype"])

    def _optimizer_state(self) -> dict[str, Any] | None:
        info = self.meta.get("optimizer_state") or {}
        if not info.get("arrays") and not info.get("scalars"):
            return None  # plain gradient descent, or no state saved: training starts it afresh
        state: dict[str, Any] = {key: self.members[STATE_PREFIX + key] for key in info["arrays"]}
        state.update(info.get("scalars", {}))
        return state

    def _pair(self, names: tuple[str, str], flag: str) -> tuple[Any, Any] | None:
        if not self.meta.get(flag):
            return None
        return self.members[names[0]], self.members[names[1]]

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


def read_model(path: str | os.PathLike[str]) -> ModelFile:
    """Read and check the model file at ``path`` (see :func:`portable_nn.load`), once.

    Raises :class:`ModelFileError` (or ``FileNotFoundError``, ``PermissionError``) naming it.
    """
    name = _check_path("path", path)
    try:
        opened = SafetensorsArchive if is_safetensors(name) else NpzArchive
        with opened(name) as archive:
            if META_KEY not in archive.names:
                raise _fail(name, f"not a portable_nn model: it has no {META_KEY!r} metadata "
                                  f"entry (its entries are {_shorten(sorted(archive.names))})")
            meta = _parse_metadata(name, archive.read_text(META_KEY, max_bytes=MAX_METADATA))
            return ModelFile(name, meta, _read_members(name, archive, meta))
    except NpzReadError as exc:
        raise ModelFileError(f"model file {exc}") from exc
