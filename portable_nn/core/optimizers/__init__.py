"""Optimizers as units: one module per update rule, each a factory of an ``(init, update)`` pair.

A module ``_<name>.py`` defines ``NAME``, ``HYPERPARAMS`` (the training options it reads, by
name: ``beta1``, ``beta2``, ``epsilon``, ``weight_decay``) and ``make(**hyperparams) ->
Optimizer``; :data:`REGISTRY` maps every name to its module. Everything else is derived: the
``optimizer`` option's choices, the hyperparameters a training step is built from (and cached
by), the state names a model file must hold (:func:`state_names`, read from ``init``).

Adding an optimizer is one module here plus its line in :data:`_MODULES`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from portable_nn.core.optimizers import _adam, _adamw, _gd, _momentum, _nesterov
from portable_nn.core.optimizers._base import Optimizer

__all__ = ["OPTIMIZERS", "REGISTRY", "Optimizer", "hyperparams_of", "make_optimizer",
           "state_names"]

_MODULES: tuple[ModuleType, ...] = (_gd, _momentum, _adam, _nesterov, _adamw)

#: Every optimizer's module, by name.
REGISTRY: dict[str, ModuleType] = {module.NAME: module for module in _MODULES}

#: The optimizer names, in the documentation's order.
OPTIMIZERS: tuple[str, ...] = tuple(REGISTRY)


def _module(optimizer: str) -> ModuleType:
    module = REGISTRY.get(optimizer) if isinstance(optimizer, str) else None
    if module is None:
        raise ValueError(f"optimizer={optimizer!r} is unknown; expected one of "
                         f"{list(OPTIMIZERS)}")
    return module


def hyperparams_of(optimizer: str) -> tuple[str, ...]:
    """The names of the hyperparameters ``optimizer`` reads (training options of that name).

    Examples
    --------
    >>> hyperparams_of("adamw")
    ('beta1', 'beta2', 'epsilon', 'weight_decay')
    >>> hyperparams_of("gd")
    ()
    """
    return tuple(_module(optimizer).HYPERPARAMS)


def make_optimizer(optimizer: str, **hyperparams: float) -> Optimizer:
    """The ``(init, update)`` pair of ``optimizer`` with its hyperparameters closed over.

    Parameters
    ----------
    optimizer : str
        One of :data:`OPTIMIZERS`.
    **hyperparams : float
        Exactly the names :func:`hyperparams_of` gives (plain Python floats).

    Returns
    -------
    Optimizer
        ``init(params, *, xp) -> state`` and
        ``update(params, grads, state, learning_rate, *, xp) -> (new_params, new_state)``.

    Raises
    ------
    ValueError
        For an unknown optimizer.
    TypeError
        When a hyperparameter is missing or one is not the optimizer's.

    Examples
    --------
    >>> import numpy as np
    >>> opt = make_optimizer("nesterov", beta1=0.5)
    >>> params = {"W1": np.ones((1, 1))}
    >>> state = opt.init(params, xp=np)
    >>> new, state = opt.update(params, {"dW1": np.ones((1, 1))}, state, 0.1, xp=np)
    >>> new["W1"], state["vW1"]
    (array([[0.85]]), array([[1.]]))
    """
    module = _module(optimizer)
    want, got = set(module.HYPERPARAMS), set(hyperparams)
    if want != got:
        raise TypeError(f"optimizer={optimizer!r} takes the hyperparameters "
                        f"{sorted(want)}, got {sorted(got)}")
    made: Optimizer = module.make(**hyperparams)
    return made


class _Slot:
    """What :func:`state_names`'s stand-in namespace returns for an array of the state."""


class _NamesOnly:
    """A stand-in array namespace: ``zeros_like`` is all an ``init`` may call."""

    @staticmethod
    def zeros_like(value: Any) -> _Slot:
        return _Slot()


def state_names(optimizer: str, param_names: list[str]) -> tuple[list[str], list[str]]:
    """The state's array names and scalar names, read from ``optimizer``'s ``init``.

    ``init`` runs on stand-ins (no array library): its ``zeros_like`` entries are the arrays
    (each shaped like its parameter), the rest (a step count ``t``) the scalars.

    Examples
    --------
    >>> state_names("adam", ["W1", "b1"])
    (['sW1', 'sb1', 'vW1', 'vb1'], ['t'])
    """
    hyper = dict.fromkeys(hyperparams_of(optimizer), 0.5)
    state = make_optimizer(optimizer, **hyper).init(dict.fromkeys(param_names), xp=_NamesOnly)
    arrays = sorted(key for key, value in state.items() if isinstance(value, _Slot))
    scalars = sorted(key for key, value in state.items() if not isinstance(value, _Slot))
    return arrays, scalars
