"""The metadata of a model file, checked field by field before anything else is read.

Every field :func:`~portable_nn.training._persistence.load` (or a resumed run) uses is checked
for type and range here, so that a hostile or corrupted file is refused by ``load`` itself,
naming the field, never later in the middle of a run. :func:`check_metadata` raises
:class:`FieldError` (field, problem); the caller turns it into a ``ModelFileError`` naming
the file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from portable_nn.backend import DTYPE_NAMES
from portable_nn.core import ACTIVATIONS, OUTPUTS
from portable_nn.core.optimizers import OPTIMIZERS, state_names
from portable_nn.training._options import check_recorded

__all__ = ["FieldError", "check_metadata", "decode_metrics", "encode_metrics", "lifted_config",
           "scaling_problem", "state_keys"]

MAX_COUNT = 2**62  # iterations, samples, Adam's step: far beyond any run, far below overflow


class FieldError(ValueError):
    """A metadata field has the wrong type or value."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"metadata field {field!r} {problem}")


def _is_int(value: Any, low: int = 0, high: int = MAX_COUNT) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _need(ok: bool, field: str, problem: str) -> None:
    if not ok:
        raise FieldError(field, problem)


def _check_layer_dims(meta: Mapping[str, Any]) -> None:
    dims = meta.get("layer_dims")
    _need(isinstance(dims, list) and len(dims) >= 2 and all(_is_int(n, 1) for n in dims),
          "layer_dims", f"is {_short(dims)}, not a list of at least 2 positive ints")


def _check_choices(meta: Mapping[str, Any]) -> None:
    for key, choices in (("hidden_activation", tuple(ACTIVATIONS)), ("output", tuple(OUTPUTS)),
                         ("dtype", DTYPE_NAMES)):
        value = meta.get(key)
        _need(isinstance(value, str) and value in choices, key,
              f"is {_short(value)}, not one of {list(choices)}")


def _check_counts(meta: Mapping[str, Any]) -> None:
    _need(_is_int(meta.get("iterations")), "iterations",
          f"is {_short(meta.get('iterations'))}, not an int >= 0")
    costs = meta.get("costs")
    _need(isinstance(costs, list) and all(
        isinstance(p, list) and len(p) == 2 and _is_int(p[0]) and _is_real(p[1]) for p in costs),
        "costs", "is not a list of [iteration, finite cost] pairs")
    for key in ("interrupted", "standardize", "standardize_target"):
        _need(isinstance(meta.get(key, False), bool), key,
              f"is {_short(meta.get(key))}, not true or false")
    for key in ("package_version", "backend", "device"):
        _need(isinstance(meta.get(key, ""), str), key, f"is {_short(meta.get(key))}, not a string")


def _check_config(meta: Mapping[str, Any]) -> None:
    """The recorded training options, each by the option's own check (see ``_options``)."""
    config = meta.get("config")
    if config is None:
        return
    _need(isinstance(config, dict), "config", f"is {_short(config)}, not an object")
    for key, value in config.items():
        try:
            check_recorded(key, value)
        except (TypeError, ValueError) as exc:
            raise FieldError(f"config.{key}", f"is {_short(value)}: {exc}") from None


#: What files written before these were fields of their own kept inside ``config``:
#: ``{config key: (field, key inside the field or None)}``.
OLDER_CONFIG_KEYS: dict[str, tuple[str, str | None]] = {
    "classes": ("classes", None),
    "feature_names": ("feature_names", None),
    "target_name": ("target_name", None),
    "backend_choice": ("choices", "backend"),
    "compile_choice": ("choices", "compile"),
}


def lifted_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(options, fields)``: a recorded ``config`` without what older files kept in it.

    Files written before ``classes``, ``feature_names``, ``target_name`` and ``choices`` were
    model fields of their own hold them (and ``backend_choice``, ``compile_choice``) inside
    ``config``; they come out as ``fields``, and ``options`` holds the rest.

    Examples
    --------
    >>> lifted_config({"optimizer": "adam", "classes": ["no", "yes"],
    ...                "backend_choice": "auto chose numpy"})
    ({'optimizer': 'adam'}, {'classes': ['no', 'yes'], 'choices': {'backend': 'auto chose numpy'}})
    """
    options: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for key, value in config.items():
        if key not in OLDER_CONFIG_KEYS:
            options[key] = value
            continue
        name, inner = OLDER_CONFIG_KEYS[key]
        if inner is None:
            fields[name] = value
        else:
            fields.setdefault(name, {})[inner] = value
    return options, fields


def _check_labels(meta: Mapping[str, Any]) -> None:
    """The optional ``classes``, ``feature_names``, ``target_name`` and ``choices`` fields."""
    config = meta.get("config")
    if not isinstance(config, dict):
        config = {}
    _, older = lifted_config(config)
    values = {**older, **{key: meta[key] for key in ("classes", "feature_names", "target_name",
                                                      "choices") if meta.get(key) is not None}}
    classes = values.get("classes")
    _need(classes is None or (isinstance(classes, list) and all(
        isinstance(c, (str, int, float, bool)) for c in classes)), "classes",
        f"is {_short(classes)}, not null or a list of labels (str, int, float or bool)")
    names = values.get("feature_names")
    _need(names is None or (isinstance(names, list) and all(isinstance(n, str) for n in names)),
          "feature_names", f"is {_short(names)}, not null or a list of strings")
    target = values.get("target_name")
    _need(target is None or isinstance(target, str), "target_name",
          f"is {_short(target)}, not null or a string")
    choices = values.get("choices", {})
    _need(isinstance(choices, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in choices.items()), "choices",
        f"is {_short(choices)}, not an object of strings")


def state_keys(optimizer: str, layer_dims: list[int]) -> tuple[list[str], list[str]]:
    """The optimizer state's array names and scalar names for ``optimizer`` and layers.

    Read from the optimizer's own ``init`` (:func:`portable_nn.core.optimizers.state_names`);
    an unknown optimizer has none (the recorded ``config.optimizer`` is checked on its own).
    """
    params = [f"{kind}{layer}" for layer in range(1, len(layer_dims)) for kind in ("W", "b")]
    if optimizer not in OPTIMIZERS:
        return [], []
    return state_names(optimizer, params)


def _check_optimizer_state(meta: Mapping[str, Any]) -> None:
    info = meta.get("optimizer_state")
    if info is None:
        return
    _need(isinstance(info, dict) and set(info) <= {"arrays", "scalars"}, "optimizer_state",
          "is not an object with 'arrays' and 'scalars'")
    arrays, scalars = info.get("arrays", []), info.get("scalars", {})
    _need(isinstance(arrays, list) and all(isinstance(k, str) for k in arrays),
          "optimizer_state.arrays", "is not a list of names")
    _need(isinstance(scalars, dict), "optimizer_state.scalars", "is not an object")
    if not arrays and not scalars:
        return  # no state saved: a resumed run starts the optimizer afresh
    optimizer = (meta.get("config") or {}).get("optimizer", "gd")
    want_arrays, want_scalars = state_keys(optimizer, meta["layer_dims"])
    _need(sorted(arrays) == sorted(want_arrays), "optimizer_state.arrays",
          f"lists {_short(sorted(arrays))}, but optimizer {optimizer!r} with layer_dims "
          f"{meta['layer_dims']} has {sorted(want_arrays)}")
    _need(sorted(scalars) == want_scalars, "optimizer_state.scalars",
          f"has {_short(sorted(scalars))}, but optimizer {optimizer!r} has {want_scalars}")
    if "t" in scalars:
        _need(_is_int(scalars["t"], 0, meta["iterations"]), "optimizer_state.scalars.t",
              f"(Adam's step count) is {_short(scalars['t'])}, not an int in [0, iterations="
              f"{meta['iterations']}]")


def _check_checkpoint(meta: Mapping[str, Any]) -> None:
    info = meta.get("checkpoint")
    if info is None:
        return
    _need(isinstance(info, dict), "checkpoint", f"is {_short(info)}, not an object or null")
    _need(_is_int(info.get("m"), 1), "checkpoint.m",
          f"is {_short(info.get('m'))}, not a sample count >= 1")
    _need(_is_int(info.get("num_iterations")), "checkpoint.num_iterations",
          f"is {_short(info.get('num_iterations'))}, not an int >= 0")
    if info.get("early_stopping") is not None:
        _check_early_stopping(meta, info["early_stopping"])


def _check_early_stopping(meta: Mapping[str, Any], info: Any) -> None:
    """A checkpoint's early-stopping state: best point, its cost, the patience count."""
    field = "checkpoint.early_stopping"
    _need(isinstance(info, dict), field, f"is {_short(info)}, not an object or null")
    _need(_is_int(info.get("patience"), 1), f"{field}.patience",
          f"is {_short(info.get('patience'))}, not an int >= 1")
    _need(_is_int(info.get("waited")), f"{field}.waited",
          f"is {_short(info.get('waited'))}, not an int >= 0")
    best = info.get("best_iteration")
    _need(best is None or _is_int(best, 0, meta["iterations"]), f"{field}.best_iteration",
          f"is {_short(best)}, not null or an int in [0, iterations={meta['iterations']}]")
    last = info.get("last_iteration")
    _need(last is None or _is_int(last, 0, meta["iterations"]), f"{field}.last_iteration",
          f"is {_short(last)}, not null or an int in [0, iterations={meta['iterations']}]")
    cost = info.get("best_cost")
    _need(_is_real(cost) if best is not None else cost == "inf", f"{field}.best_cost",
          f"is {_short(cost)}, not a finite number (or 'inf' before any best point)")
    optimizer = (meta.get("config") or {}).get("optimizer", "gd")
    want_arrays, want_scalars = state_keys(optimizer, meta["layer_dims"])
    arrays, scalars = info.get("state_arrays"), info.get("state_scalars")
    _need(isinstance(arrays, list) and sorted(arrays) == (sorted(want_arrays) if best is not None
                                                          else []),
          f"{field}.state_arrays", f"lists {_short(arrays)}, but optimizer {optimizer!r} has "
          f"{sorted(want_arrays)} (none before any best point)")
    _need(isinstance(scalars, dict) and sorted(scalars) == (want_scalars if best is not None
                                                            else [])
          and all(_is_int(v, 0, meta["iterations"]) for v in scalars.values()),
          f"{field}.state_scalars", f"is {_short(scalars)}, not {want_scalars} as ints")


# non-finite metric values (a diverging validation cost) as JSON strings, which float() reads
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_metrics(metrics: Mapping[str, Mapping[int, float]]) -> dict[str, list[list[Any]]]:
    """``{name: {iteration: value}}`` as JSON: ``{name: [[iteration, value], ...]}``.

    Finite values are numbers; NaN and infinities (a validation cost can diverge while the
    training cost does not) are the strings ``"nan"``, ``"inf"`` and ``"-inf"``: strict JSON
    has no such numbers, and the file must still be written.

    Examples
    --------
    >>> encode_metrics({"validation_cost": {0: 0.5, 100: float("nan")}})
    {'validation_cost': [[0, 0.5], [100, 'nan']]}
    """
    def encoded(value: float) -> float | str:
        value = float(value)
        return value if math.isfinite(value) else str(value)

    return {str(name): [[int(i), encoded(v)] for i, v in values.items()]
            for name, values in metrics.items()}


def decode_metrics(saved: Mapping[str, list[list[Any]]] | None) -> dict[str, dict[int, float]]:
    """The inverse of :func:`encode_metrics` (on metadata :func:`check_metadata` accepted)."""
    return {name: {int(i): float(v) for i, v in pairs} for name, pairs in (saved or {}).items()}


def _is_metric_value(value: Any) -> bool:
    return _is_real(value) or (isinstance(value, str) and value in NON_FINITE)


def _check_history(meta: Mapping[str, Any]) -> None:
    """The optional ``metrics`` and ``best_iteration`` fields (absent in older files)."""
    metrics = meta.get("metrics", {})
    _need(isinstance(metrics, dict), "metrics", f"is {_short(metrics)}, not an object")
    for name, pairs in metrics.items():
        _need(name != "cost" and name != "", f"metrics.{name}",
              "is a reserved name (the training cost is 'costs')")
        _need(isinstance(pairs, list) and all(
            isinstance(p, list) and len(p) == 2 and _is_int(p[0]) and _is_metric_value(p[1])
            for p in pairs), f"metrics.{name}",
            "is not a list of [iteration, value] pairs (a number, 'nan', 'inf' or '-inf')")
    best = meta.get("best_iteration")
    _need(best is None or _is_int(best), "best_iteration",
          f"is {_short(best)}, not null or an int >= 0")


def check_metadata(meta: Mapping[str, Any]) -> None:
    """Check every field of a model file's metadata (after ``format``/``format_version``).

    Raises
    ------
    FieldError
        Naming the first field whose type or value is wrong.

    Examples
    --------
    >>> check_metadata({"layer_dims": [2, 1], "hidden_activation": "tanh", "output": "sigmoid",
    ...                 "dtype": "float64", "iterations": -1, "costs": []})
    Traceback (most recent call last):
    ...
    portable_nn.training._file_schema.FieldError: metadata field 'iterations' is -1, not an int >= 0
    """
    for check in (_check_layer_dims, _check_choices, _check_counts, _check_history,
                  _check_config, _check_labels, _check_optimizer_state, _check_checkpoint):
        check(meta)


def scaling_problem(members: Mapping[str, Any]) -> str | None:
    """What is wrong with a file's standardisation members, or None when they are usable.

    ``x_mean`` (and a regression's ``y_mean``) must be finite and ``x_std`` (``y_std``)
    finite and positive (``train`` writes 1 for a constant feature): a scale of 0, a negative
    one, NaN or infinity would make every prediction NaN, infinite or silently mirrored.
    ``members`` maps member names to host arrays; a file without standardisation has neither
    member (None).

    Examples
    --------
    >>> import numpy as np
    >>> scaling_problem({"x_mean": np.zeros((2, 1)), "x_std": np.array([[1.0], [-2.0]])})
    "member 'x_std' is -2.0 for feature 1: a standardisation scale must be finite and > 0"
    """
    for key, positive, row in (("x_mean", False, "feature"), ("x_std", True, "feature"),
                               ("y_mean", False, "output"), ("y_std", True, "output")):
        if key not in members:
            continue
        for index, value in enumerate(members[key].reshape(-1).tolist()):
            if not math.isfinite(value) or (positive and value <= 0):
                wanted = "finite and > 0" if positive else "finite"
                what = "scale" if positive else "mean"
                return (f"member {key!r} is {value!r} for {row} {index}: a standardisation "
                        f"{what} must be {wanted}")
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
