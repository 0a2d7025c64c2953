"""Built-in data sets, returned as NumPy arrays in the (features, samples) layout.

``X`` has shape ``(n_x, m)`` and ``Y`` shape ``(n_y, m)``: one column per sample.

- 2-D toy sets (NumPy only): :func:`planar` (the lesson's "flower"), :func:`noisy_circles`,
  :func:`noisy_moons`, :func:`blobs`, :func:`gaussian_quantiles`.
- Real tabular data (scikit-learn's bundled copies, the ``datasets`` extra):
  :func:`breast_cancer`, :func:`digits`.
- Your own data: :func:`from_csv` (a CSV file) and :func:`from_samples` (arrays in
  scikit-learn's ``(n_samples, n_features)`` layout) return a :class:`Dataset`, which unpacks
  as ``X, Y`` and maps predictions back to the original labels; :func:`one_hot` encodes class
  indices; :func:`read_features` reads samples to predict on (and their labels, if any).
- :func:`load` looks any of them up by name; :data:`DATASETS` maps the names to the functions.
"""

from portable_nn.datasets._encoding import one_hot
from portable_nn.datasets._features import read_features
from portable_nn.datasets._own import Dataset, from_csv, from_samples
from portable_nn.datasets._planar import planar
from portable_nn.datasets._real import breast_cancer, digits
from portable_nn.datasets._registry import DATASETS, load
from portable_nn.datasets._synthetic import blobs, gaussian_quantiles, noisy_circles, noisy_moons

__all__ = [
    "DATASETS",
    "Dataset",
    "blobs",
    "breast_cancer",
    "digits",
    "from_csv",
    "from_samples",
    "gaussian_quantiles",
    "load",
    "noisy_circles",
    "noisy_moons",
    "one_hot",
    "planar",
    "read_features",
]
