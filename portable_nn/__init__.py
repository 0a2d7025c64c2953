"""portable_nn: fully-connected neural networks written once against the Python array API.

The same forward pass, backpropagation and gradient-descent update run on NumPy, CuPy,
PyTorch, JAX, Dask and array-api-strict. Conventions follow the "shallow neural network" lesson:
``X`` is ``(n_x, m)`` with one column per sample, ``W[l]`` is ``(n_l, n_{l-1})`` and ``b[l]``
is ``(n_l, 1)``.

>>> import portable_nn as pnn
>>> X, Y = pnn.datasets.planar()
>>> model = pnn.train(X, Y, hidden=4, learning_rate=1.2, num_iterations=1000)
>>> 0.0 <= model.accuracy(X, Y) <= 1.0
True
"""

from portable_nn import datasets
from portable_nn._version import __version__
from portable_nn.backend import (
    Backend,
    BackendUnavailableError,
    available_backends,
    resolve_backend,
    to_numpy,
)
from portable_nn.core import backward, compute_cost, forward, update
from portable_nn.training import (
    Callback,
    Model,
    ModelFileError,
    TrainingDivergedError,
    from_torch,
    init_params,
    load,
    train,
)

__all__ = [
    "Backend",
    "BackendUnavailableError",
    "Callback",
    "Model",
    "ModelFileError",
    "TrainingDivergedError",
    "__version__",
    "available_backends",
    "backward",
    "compute_cost",
    "datasets",
    "forward",
    "from_torch",
    "init_params",
    "load",
    "resolve_backend",
    "to_numpy",
    "train",
    "update",
]
