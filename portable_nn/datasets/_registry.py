"""Look data sets up by name: the names the command line accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from portable_nn.datasets._planar import planar
from portable_nn.datasets._real import breast_cancer, digits
from portable_nn.datasets._synthetic import blobs, gaussian_quantiles, noisy_circles, noisy_moons

__all__ = ["DATASETS", "load"]

DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "planar": planar,
    "noisy_circles": noisy_circles,
    "noisy_moons": noisy_moons,
    "blobs": blobs,
    "gaussian_quantiles": gaussian_quantiles,
    "breast_cancer": breast_cancer,
    "digits": digits,
}


def load(name: str, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the built-in data set ``name`` as ``(X, Y)`` in the (features, samples) layout.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"planar"``, ``"noisy_circles"``, ``"noisy_moons"``,
        ``"blobs"``, ``"gaussian_quantiles"``, ``"breast_cancer"``, ``"digits"``.
    **kwargs
        Passed to the generator (``m=``, ``seed=``, ``noise=``, ``one_hot=``, ...).

    Returns
    -------
    X : numpy.ndarray, shape (n_x, m)
    Y : numpy.ndarray, shape (n_y, m)

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.load("noisy_moons", m=50)
    >>> X.shape
    (2, 50)

    """
    if not isinstance(name, str) or name not in DATASETS:
        known = ", ".join(DATASETS)
        raise ValueError(f"unknown data set {name!r}; the built-in data sets are: {known}")
    return DATASETS[name](**kwargs)
