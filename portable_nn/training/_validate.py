"""Argument checks run once, before any training starts.

Every check raises :class:`ValueError` or :class:`TypeError` whose message names the argument,
what was expected and what arrived.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from types import ModuleType
from typing import Any

from portable_nn.core import ACTIVATIONS, OPTIMIZERS, OUTPUTS

__all__ = [
    "check_choice",
    "check_data",
    "check_features",
    "check_hidden",
    "check_int",
    "check_learning_rate",
    "check_probability",
    "check_real",
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
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ValueError(f"{name} must be a finite number in {left}{low}, {high}{right}, "
                         f"got {value!r}")
    return number


def check_probability(name: str, value: Any) -> float:
    """A keep probability in ``(0, 1]``."""
    return check_real(name, value, low=0.0, high=1.0, low_open=True)


def check_learning_rate(value: Any) -> float | Callable[[int], float]:
    """A positive finite float, or a callable ``iteration -> rate``."""
    if callable(value):
        return value
    return check_real("learning_rate", value, low=0.0, low_open=True)


def check_hidden(hidden: Any) -> tuple[int, ...]:
    """Normalise ``hidden`` (an int, a sequence of ints, ``0`` or ``()``) to a tuple of sizes."""
    if isinstance(hidden, bool):
        raise TypeError(f"hidden must be an int or a sequence of ints, got {hidden!r}")
    if isinstance(hidden, Integral):
        if hidden < 0:
            raise ValueError(f"hidden must be >= 0 (0 means no hidden layer), got {hidden!r}")
        return () if hidden == 0 else (int(hidden),)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(
            f"hidden must be an int or a sequence of ints, got {type(hidden).__name__}: {hidden!r}"
        )
    for size in hidden:
        if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
            raise ValueError(f"hidden must hold positive ints (layer sizes), got {hidden!r}")
    return tuple(int(size) for size in hidden)


def _check_2d(name: str, array: Any, layout: str) -> None:
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape {layout}, one column per sample; got shape "
            f"{tuple(array.shape)}. A 1-D vector is ambiguous: reshape it to (1, m) or (n, 1)"
        )


def check_data(X: Any, Y: Any, /, *, output: str, xp: ModuleType) -> None:
    """Check converted training data: 2-D, same sample count, non-empty, finite, valid targets."""
    _check_2d("X", X, "(n_x, m)")
    _check_2d("Y", Y, "(n_y, m)")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of samples (columns): X has shape "
            f"{tuple(X.shape)}, Y has shape {tuple(Y.shape)}"
        )
    if X.shape[1] == 0:
        raise ValueError(f"X has zero samples (shape {tuple(X.shape)}); need at least one column")
    if X.shape[0] == 0:
        raise ValueError(f"X has zero features (shape {tuple(X.shape)}); need at least one row")
    if Y.shape[0] == 0:
        raise ValueError(f"Y has zero rows (shape {tuple(Y.shape)}); need at least one output")
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
    """Check data given to a trained model: 2-D with ``n_x`` rows."""
    _check_2d("X", X, f"({n_x}, m)")
    if X.shape[0] != n_x:
        raise ValueError(
            f"X has {X.shape[0]} features (rows) but the model was trained on {n_x}: "
            f"got shape {tuple(X.shape)}, expected ({n_x}, m)"
        )


ACTIVATION_NAMES = tuple(ACTIVATIONS)
OUTPUT_NAMES = tuple(OUTPUTS)
OPTIMIZER_NAMES = tuple(OPTIMIZERS)
