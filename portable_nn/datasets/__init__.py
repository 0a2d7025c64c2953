"""Built-in data sets, returned as NumPy arrays in the (features, samples) layout.

``X`` has shape ``(n_x, m)`` and ``Y`` shape ``(n_y, m)``: one column per sample.

- 2-D toy sets (NumPy only): :func:`planar` (the lesson's "flower"), :func:`noisy_circles`,
  :func:`noisy_moons`, :func:`blobs`, :func:`gaussian_quantiles`.
- Real tabular data (scikit-learn's bundled copies, the ``datasets`` extra):
  :func:`breast_cancer`, :func:`digits`.
- :func:`load` looks any of them up by name; :data:`DATASETS` maps the names to the functions.
"""

from portable_nn.datasets._planar import planar
from portable_nn.datasets._real import breast_cancer, digits
from portable_nn.datasets._registry import DATASETS, load
from portable_nn.datasets._synthetic import blobs, gaussian_quantiles, noisy_circles, noisy_moons

__all__ = [
    "DATASETS",
    "blobs",
    "breast_cancer",
    "digits",
    "gaussian_quantiles",
    "load",
    "noisy_circles",
    "noisy_moons",
    "planar",
]
