"""Argument checks run once, before any training starts.

Every check raises :class:`ValueError` or :class:`TypeError` whose message names the argument,
what was expected and what arrived.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from types import ModuleType
from typing import Any

__all__ = [
    "all_finite",
    "check_target_shape",
    "check_checkpoint_source",
    "check_choice",
    "check_data",
    "check_early_stopping_needs_validation",
    "check_features",
    "check_hidden",
    "check_init_mapping",
    "check_int",
    "check_layout",
    "check_learning_rate",
    "check_patience",
    "check_path",
    "check_real",
    "check_validation",
    "check_values",
    "check_writable_target",
    "param_shapes",
]


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise naming ``name`` otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is unknown; expected one of {list(choices)}")
    return value


def check_int(name: str, value: Any, *, minimum: int) -> int:
    """Return ``value`` as an int ``>= minimum``; reject floats, bools and strings."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value: Any, *, low: float, high: float = math.inf,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite float in the given interval, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    number = float(value)
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if not math.isfinite(number) or below or above:
        if math.isinf(high):
            wanted = f"> {low}" if low_open else f">= {low}"
        else:
            wanted = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a finite number {wanted}, got {value!r}")
    return number


def check_learning_rate(value: Any) -> float | Callable[[int], float]:
    """A positive finite float, or a callable ``iteration -> rate``."""
    if callable(value):
        return value
    return check_real("learning_rate", value, low=0.0, low_open=True)


MAX_UNITS = 2**31 - 1  # units in one layer: beyond it no backend indexes or allocates


def check_hidden(hidden: Any) -> tuple[int, ...]:
    """Normalise ``hidden`` (an int, a sequence of ints, ``0`` or ``()``) to a tuple of sizes.

    Each size is at most ``2**31 - 1`` units (a layer beyond it cannot be allocated).
    """
    if isinstance(hidden, bool):
        raise TypeError(f"hidden must be an int or a sequence of ints, got {hidden!r}")
    if isinstance(hidden, Integral):
        if hidden < 0:
            raise ValueError(f"hidden must be >= 0 (0 means no hidden layer), got {hidden!r}")
        sizes: tuple[int, ...] = () if hidden == 0 else (int(hidden),)
    elif isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(
            f"hidden must be an int or a sequence of ints, got {type(hidden).__name__}: {hidden!r}"
        )
    else:
        for size in hidden:
            if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
                raise ValueError(f"hidden must hold positive ints (layer sizes), got {hidden!r}")
        sizes = tuple(int(size) for size in hidden)
    too_big = [size for size in sizes if size > MAX_UNITS]
    if too_big:
        raise ValueError(f"hidden={hidden!r} asks for a layer of {too_big[0]} units, beyond what "
                         f"any backend can allocate (at most {MAX_UNITS} units per layer)")
    return sizes


def _check_2d(name: str, array: Any, layout: str) -> None:
    ndim = len(array.shape)
    if ndim != 2:
        hint = (" A 1-D vector is ambiguous: reshape it to (1, m) (one feature or target, m "
                "samples) or (n, 1) (one sample)" if ndim == 1 else "")
        raise ValueError(
            f"{name} must be 2-D with shape {layout}, one column per sample; got a "
            f"{ndim}-D array of shape {tuple(array.shape)}.{hint}"
        )


SKLEARN_HINT = (
    "portable_nn's layout is one column per sample, (n_features, n_samples); data in "
    "scikit-learn's (n_samples, n_features) layout needs X.T, or use "
    "portable_nn.datasets.from_samples(X, y) or the estimators of portable_nn.sklearn"
)


def _layout_hint(X: Any, Y: Any) -> str:
    """Say how to fix data given in scikit-learn's layout, when the shapes suggest it."""
    x_shape, y_shape = tuple(X.shape), tuple(Y.shape)  # also out-of-core data (no ndim)
    if len(x_shape) != 2:
        return ""
    m = y_shape[1] if len(y_shape) == 2 else y_shape[0]
    if x_shape[0] == m or (len(y_shape) == 2 and x_shape[0] == y_shape[0]):
        transpose = " (and Y.T)" if len(y_shape) == 2 and y_shape[0] == x_shape[0] else ""
        return f". X looks transposed{transpose}: {SKLEARN_HINT}"
    return ""


def _warn_if_square(X: Any) -> None:
    if X.shape[0] == X.shape[1] and X.shape[1] > 1:
        warnings.warn(
            f"X is square, {tuple(X.shape)}: it is read as (n_features, n_samples), one column "
            "per sample. If its rows are samples (scikit-learn's layout), pass X.T",
            UserWarning, stacklevel=4)


def check_data(X: Any, Y: Any, /, *, output: str, xp: ModuleType) -> None:
    """Check converted training data: 2-D, same sample count, non-empty, finite, valid targets.

    A square ``X`` is legal but ambiguous: it warns that the layout is ``(n_x, m)``.
    """
    check_layout(X, Y)
    check_values(X, Y, output=output, xp=xp)


def check_layout(X: Any, Y: Any, /) -> None:
    """The checks of :func:`check_data` that need only shapes (``X``, ``Y`` of any kind).

    Out-of-core data (``.shape`` only) are checked here whole, their values chunk by chunk.
    """
    _check_2d("X", X, "(n_x, m)")
    if len(Y.shape) == 1 and X.shape[0] == Y.shape[0]:
        raise ValueError(f"Y must be 2-D, (n_y, m); got a 1-D array of shape {tuple(Y.shape)} "
                         f"with X of shape {tuple(X.shape)}{_layout_hint(X, Y)}")
    _check_2d("Y", Y, "(n_y, m)")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of samples (columns): X has shape "
            f"{tuple(X.shape)}, Y has shape {tuple(Y.shape)}{_layout_hint(X, Y)}"
        )
    _warn_if_square(X)
    if X.shape[1] == 0:
        raise ValueError(f"X has zero samples (shape {tuple(X.shape)}); need at least one column")
    if X.shape[0] == 0:
        raise ValueError(f"X has zero features (shape {tuple(X.shape)}); need at least one row")
    if Y.shape[0] == 0:
        raise ValueError(f"Y has zero rows (shape {tuple(Y.shape)}); need at least one output")


def check_values(X: Any, Y: Any, /, *, output: str, xp: ModuleType) -> None:
    """The checks of :func:`check_data` that read values: finite ``X`` and ``Y``, valid targets.

    Run on the whole data, or on each column chunk of it (the result is the same).
    """
    for name, array in (("X", X), ("Y", Y)):
        if not bool(xp.all(xp.isfinite(array))):
            bad = int(xp.sum(xp.astype(~xp.isfinite(array), xp.int32)))
            raise ValueError(f"{name} holds {bad} NaN or infinite value(s); clean the data first")
    check_targets(Y, output=output, xp=xp)


def check_targets(Y: Any, /, *, output: str, xp: ModuleType) -> None:
    """Sigmoid targets are 0/1; softmax targets are one-hot columns; linear targets are free."""
    if output == "linear":
        return
    binary = xp.all((Y == 0) | (Y == 1))
    if output == "sigmoid" and not bool(binary):
        raise ValueError(
            "Y must hold only 0 and 1 for output='sigmoid' (binary cross-entropy); got values "
            f"between {float(xp.min(Y))} and {float(xp.max(Y))}. For several classes use "
            "output='softmax' with one-hot Y, for real targets output='linear'"
        )
    if output == "softmax":
        sums = xp.sum(Y, axis=0)
        if not bool(binary) or not bool(xp.all(sums == 1)):
            raise ValueError(
                f"Y must be one-hot of shape (n_classes, m) for output='softmax': every column "
                f"holds a single 1 and zeros; got Y of shape {tuple(Y.shape)} whose columns sum "
                f"to values between {float(xp.min(sums))} and {float(xp.max(sums))}"
            )


def check_features(X: Any, n_x: int, /) -> None:
    """Check data given to a trained model: 2-D with ``n_x`` rows and at least one sample."""
    _check_2d("X", X, f"({n_x}, m)")
    if X.shape[0] != n_x:
        hint = f". X looks transposed: {SKLEARN_HINT}" if X.shape[1] == n_x else ""
        raise ValueError(
            f"X has {X.shape[0]} features (rows) but the model was trained on {n_x}: "
            f"got shape {tuple(X.shape)}, expected ({n_x}, m){hint}"
        )
    if X.shape[1] == 0:
        raise ValueError(f"X has zero samples (shape {tuple(X.shape)}): predictions, accuracy "
                         "and cost need at least one column")


def check_target_shape(Y: Any, n_y: int, m: int, /, *, class_indices: bool = False) -> None:
    """Check targets given to a trained model: ``(n_y, m)``, or ``(1, m)`` class indices."""
    rows = (n_y, 1) if class_indices else (n_y,)
    if len(Y.shape) != 2 or Y.shape[1] != m or Y.shape[0] not in rows:
        either = f" or (1, {m}) (class indices)" if class_indices else ""
        raise ValueError(
            f"Y must have shape ({n_y}, {m}){either} to match the model's {n_y} outputs and "
            f"X's {m} samples, got {tuple(Y.shape)}"
        )


def all_finite(arrays: Any, xp: ModuleType) -> bool:
    """Whether every entry of every array is finite, fetched from the device once."""
    flags = [xp.all(xp.isfinite(a)) for a in arrays]
    combined = flags[0]
    for flag in flags[1:]:
        combined = combined & flag
    return bool(combined)


def param_shapes(layer_dims: Sequence[int]) -> dict[str, tuple[int, int]]:
    """``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}``: the parameter shapes of ``layer_dims``.

    Examples
    --------
    >>> param_shapes((2, 4, 1))
    {'W1': (4, 2), 'b1': (4, 1), 'W2': (1, 4), 'b2': (1, 1)}
    """
    shapes = {}
    for layer in range(1, len(layer_dims)):
        shapes[f"W{layer}"] = (layer_dims[layer], layer_dims[layer - 1])
        shapes[f"b{layer}"] = (layer_dims[layer], 1)
    return shapes


def check_init_mapping(init: Mapping[str, Any], layer_dims: Sequence[int], /) -> None:
    """Check starting parameters given as ``init={"W1": ..., ...}`` against the run's layers.

    ``layer_dims`` is ``(X rows, *hidden, Y rows)``. A mismatch in the first or last layer is
    reported as a problem of ``X`` or ``Y``; keys and the other shapes as a problem of ``init``
    (or ``hidden``). Values without a ``.shape`` (nested lists) are checked after conversion.
    """
    dims = tuple(layer_dims)
    expected = param_shapes(dims)
    given = list(init)
    missing = [key for key in expected if key not in init]
    extra = [key for key in given if key not in expected]
    if missing or extra:
        raise ValueError(
            f"init mapping does not fit layer_dims={dims} (X rows, hidden={list(dims[1:-1])}, "
            f"Y rows): expected keys {list(expected)}, got {given}; missing {missing}, "
            f"unexpected {extra}"
        )
    L = len(dims) - 1
    shapes = {key: _shape_of(value) for key, value in init.items()}
    out = shapes[f"W{L}"]
    if out is not None and len(out) == 2 and out[0] != dims[-1]:
        raise ValueError(
            f"Y has {dims[-1]} rows but the output layer of init (init['W{L}'], shape {out}) "
            f"has {out[0]} unit(s): Y must have one row per output unit"
        )
    first = shapes["W1"]
    if first is not None and len(first) == 2 and first[1] != dims[0]:
        raise ValueError(
            f"X has {dims[0]} features (rows) but init['W1'] has shape {first}, which expects "
            f"{first[1]} features"
        )
    for key, shape in expected.items():
        if shapes[key] is not None and shapes[key] != shape:
            raise ValueError(
                f"init[{key!r}] has shape {shapes[key]}, expected {shape} for "
                f"layer_dims={dims} (hidden={list(dims[1:-1])})"
            )


def _shape_of(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(int(n) for n in shape)


def check_path(name: str, value: Any) -> str:
    """Return ``value`` as a path string: a non-empty ``str`` or ``os.PathLike`` without NUL.

    Raises
    ------
    TypeError
        When ``value`` is not a ``str`` or ``os.PathLike`` of ``str`` (the message names ``name``).
    ValueError
        When it is empty or holds a NUL byte.
    """
    path = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(path, str):
        raise TypeError(
            f"{name} must be a file path (str or os.PathLike), got {type(value).__name__}: "
            f"{value!r}"
        )
    if not path:
        raise ValueError(f"{name}={value!r} is an empty path; give a file name such as "
                         "'model.npz'")
    if "\0" in path:
        raise ValueError(f"{name}={path!r} holds a NUL byte, which no file name can")
    return path


def _name_max(folder: str) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no answer
        return 255


def check_writable_target(name: str, value: Any) -> str:
    """Check that a model file can be written at ``value``; return it as a string.

    The path must not be a folder, its folder must exist and be writable, and its file name
    must fit the file system's name limit. Used by ``Model.save`` and by ``train``'s
    ``checkpoint=`` before the first iteration.

    Raises
    ------
    TypeError, ValueError
        Naming ``name``: not a path, empty, a NUL byte, a folder, a name too long.
    FileNotFoundError
        When the folder does not exist.
    PermissionError
        When the folder is not writable.
    """
    path = check_path(name, value)
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise ValueError(f"{name}={path!r} is a folder; give a file path such as "
                         f"{os.path.join(path, 'model.npz')!r}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {name}={path!r}: the folder {folder!r} does "
                                "not exist; create it first")
    length, limit = len(os.fsencode(os.path.basename(path))), _name_max(folder)
    if length > limit:
        raise ValueError(f"{name}={path!r}: the file name is {length} bytes long, more than "
                         f"the {limit} bytes this file system allows")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"{name}={path!r}: the folder {folder!r} is not writable")
    return path


def check_checkpoint_source(name: str, value: Any) -> str:
    """Return ``value`` as a path string naming an existing file (``resume=``).

    Raises
    ------
    TypeError, ValueError
        When ``value`` is not a path (see :func:`check_path`).
    FileNotFoundError
        When nothing is there.
    """
    source = check_path(name, value)
    if not os.path.lexists(source):
        raise FileNotFoundError(f"{name}={source!r}: no checkpoint file there")
    return source


# ------------------------------------------- validation and early stopping options


def check_validation(name: str, value: Any) -> tuple[Any, Any] | None:
    """Return ``None`` or the pair ``(X_val, Y_val)``; refuse anything else, naming ``name``.

    A tuple, a list or any other iterable of exactly two items (a ``datasets.Dataset``
    unpacks so) is a pair. An array is refused, not unpacked row by row. The shapes and values
    are checked against the model when training starts (:meth:`ValidationScore.on_start`).

    Examples
    --------
    >>> check_validation("validation", None) is None
    True
    >>> check_validation("validation", [[[0.0]], [[1.0]]])
    ([[0.0]], [[1.0]])
    >>> check_validation("validation", "data.csv")
    Traceback (most recent call last):
    ...
    TypeError: validation must be a pair (X_val, Y_val), got str: 'data.csv'
    """
    if value is None:
        return None
    wanted = f"{name} must be a pair (X_val, Y_val), got {type(value).__name__}"
    if hasattr(value, "shape") or isinstance(value, (str, bytes, Mapping)):
        raise TypeError(f"{wanted}: {_short_repr(value)}")
    try:
        items = tuple(value)
    except TypeError as exc:
        raise TypeError(f"{wanted}: {_short_repr(value)}") from exc
    if len(items) != 2:
        raise ValueError(f"{name} must be a pair (X_val, Y_val), got {len(items)} item(s)")
    for part, item in zip(("X_val", "Y_val"), items, strict=True):
        if item is None:
            raise TypeError(f"{name}=(X_val, Y_val): {part} is None; give an array")
    return items[0], items[1]


def check_patience(name: str, value: Any) -> int | None:
    """Return ``None`` or ``value`` as an int ``>= 1`` (record points without improvement).

    Examples
    --------
    >>> check_patience("early_stopping", 5)
    5
    >>> check_patience("early_stopping", 0)
    Traceback (most recent call last):
    ...
    ValueError: early_stopping must be >= 1, got 0
    """
    return None if value is None else check_int(name, value, minimum=1)


def check_early_stopping_needs_validation(validation: Any, early_stopping: Any) -> None:
    """Refuse ``early_stopping`` without ``validation`` (it watches the validation cost).

    Examples
    --------
    >>> check_early_stopping_needs_validation(None, 5)
    Traceback (most recent call last):
    ...
    ValueError: early_stopping=5 needs validation=(X_val, Y_val): it stops on the validation cost
    """
    if early_stopping is not None and validation is None:
        raise ValueError(f"early_stopping={early_stopping!r} needs validation=(X_val, Y_val): "
                         "it stops on the validation cost")


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
