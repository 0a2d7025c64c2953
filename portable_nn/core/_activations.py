"""Activation functions and their derivatives, written once against the array API standard.

Each derivative is expressed through the activation's *output* ``a = g(z)``, as in the lesson:
sigmoid ``a (1 - a)``, tanh ``1 - a**2``, ReLU ``0/1`` and leaky ReLU ``0.01/1`` (both read off
the sign of ``a``, which equals the sign of ``z``). This lets backprop keep only ``A[l]``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["ACTIVATIONS", "LEAKY_SLOPE", "activation", "activation_derivative"]

Array = Any
LEAKY_SLOPE = 0.01


def sigmoid(z: Array, /, *, xp: ModuleType) -> Array:
    """Logistic sigmoid ``1 / (1 + exp(-z))``, computed without overflow for any ``z``."""
    e = xp.exp(-xp.abs(z))  # in (0, 1]: never overflows
    numerator = xp.where(z >= 0, 1.0, e)  # exp(min(z, 0))
    numerator /= 1.0 + e
    return numerator


def sigmoid_derivative(a: Array, /, *, xp: ModuleType) -> Array:
    """Derivative of the sigmoid from its output: ``a (1 - a)``."""
    return a * (1.0 - a)


def tanh(z: Array, /, *, xp: ModuleType) -> Array:
    """Hyperbolic tangent."""
    return xp.tanh(z)


def tanh_derivative(a: Array, /, *, xp: ModuleType) -> Array:
    """Derivative of tanh from its output: ``1 - a**2``."""
    return 1.0 - a * a


def relu(z: Array, /, *, xp: ModuleType) -> Array:
    """Rectified linear unit ``max(z, 0)``."""
    return xp.clip(z, min=0.0)


def relu_derivative(a: Array, /, *, xp: ModuleType) -> Array:
    """Derivative of ReLU: 1 where the unit is active (``a > 0``), else 0."""
    return xp.astype(a > 0, a.dtype)


def leaky_relu(z: Array, /, *, xp: ModuleType) -> Array:
    """Leaky ReLU: ``z`` for ``z > 0``, else ``0.01 z``."""
    return xp.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_derivative(a: Array, /, *, xp: ModuleType) -> Array:
    """Derivative of leaky ReLU: 1 where ``a > 0``, else 0.01."""
    return LEAKY_SLOPE + (1.0 - LEAKY_SLOPE) * xp.astype(a > 0, a.dtype)


Activation = Callable[..., Array]
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
}


def _lookup(name: str) -> tuple[Activation, Activation]:
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"hidden_activation={name!r} is unknown; expected one of {sorted(ACTIVATIONS)}"
        ) from None


def activation(name: str) -> Activation:
    """Return the activation function ``g(z, /, *, xp)`` called ``name``."""
    return _lookup(name)[0]


def activation_derivative(name: str) -> Activation:
    """Return ``g'`` as a function of the activation's output ``a``: ``g_prime(a, /, *, xp)``."""
    return _lookup(name)[1]
