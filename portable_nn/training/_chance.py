"""Chance level: whether a trained classifier learned nothing, said once for every interface.

:func:`chance_level` is the criterion (used by ``train``, hence by the estimators, and by the
command line, which words the fix with its flags); :func:`warn_at_chance_level` is what
``train`` does with it: a :class:`ChanceLevelWarning` (a ``UserWarning``) naming the cause and
the fix.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from portable_nn.backend import user_stacklevel

__all__ = ["ChanceLevelWarning", "chance_level", "warn_at_chance_level"]


class ChanceLevelWarning(UserWarning):
    """Training ended at chance level: the model predicts no better than a guess.

    The message says why (the final cost is ``ln C``, or the training accuracy is the
    majority class's) and what to try.
    """


def chance_level(model: Any, X: Any, Y: Any) -> str | None:
    """Say how training ended at chance level, or None when it did not (or is a regression).

    Chance level: a final cost on ``(X, Y)`` within 1% of ``ln C`` (``C`` classes; ``n_y ln 2``
    for sigmoid outputs), or a training accuracy no better than always predicting the most
    frequent class (label, for several sigmoid outputs).

    Parameters
    ----------
    model : Model
        The trained model.
    X : array-like, shape (n_x, m)
        The raw training inputs (the model applies its own standardization).
    Y : array-like, shape (n_y, m)
        Their targets: 0/1 (sigmoid) or one-hot (softmax).

    Returns
    -------
    str or None
        The reason, such as ``"the final cost 1.0986 is ln 3 = 1.0986 within 1%"``.

    Examples
    --------
    >>> import numpy as np
    >>> import portable_nn as pnn
    >>> X, Y = np.zeros((2, 40)), np.tile([[0.0, 1.0]], 20)
    >>> model = pnn.train(X, Y, hidden=2, hidden_activation="tanh", output="sigmoid",
    ...                   optimizer="gd", learning_rate=0.1, num_iterations=5, init="small")
    >>> chance_level(model, X, Y)
    'the final cost 0.6931 is ln 2 = 0.6931 within 1%'
    """
    if model.output == "linear" or X.shape[1] == 0:
        return None
    n_y = Y.shape[0]
    chance = n_y * math.log(2.0) if model.output == "sigmoid" else math.log(n_y)
    name = f"{n_y} ln 2" if model.output == "sigmoid" and n_y > 1 else (
        "ln 2" if model.output == "sigmoid" else f"ln {n_y}")
    cost = model.cost(X, Y)
    if abs(cost - chance) <= 0.01 * chance:
        return f"the final cost {cost:.4f} is {name} = {chance:.4f} within 1%"
    Y = model._targets(Y, X.shape[1])
    xp = model.xp
    if model.output == "softmax":
        majority = float(xp.max(xp.sum(Y, axis=1))) / Y.shape[1]
    else:
        ones = float(xp.mean(Y))
        majority = max(ones, 1.0 - ones)
    accuracy = model.accuracy(X, Y)
    if accuracy <= majority + 1e-12:
        return (f"the training accuracy {accuracy:.2%} is no better than always predicting "
                f"the most frequent class ({majority:.2%})")
    return None


def warn_at_chance_level(model: Any, X: Any, Y: Any) -> None:
    """Issue a :class:`ChanceLevelWarning` when :func:`chance_level` finds one.

    The fix it names: ``standardize=True`` when the model does not standardise its inputs,
    and a smaller ``learning_rate`` (or ``optimizer="adam"``). The warning points at the
    user's line (``train(...)``, an estimator's ``fit(...)``).

    Parameters
    ----------
    model, X, Y
        As for :func:`chance_level`.
    """
    why = chance_level(model, X, Y)
    if why is None:
        return
    scaled = getattr(model, "standardization", None) is not None
    advice = "a smaller learning_rate or optimizer='adam'" if scaled else (
        "standardize=True (features on very different scales), a smaller learning_rate or "
        "optimizer='adam'")
    warnings.warn(f"training ended at chance level: {why}; the model predicts no better than "
                  f"a guess. Try {advice}", ChanceLevelWarning, stacklevel=user_stacklevel())
