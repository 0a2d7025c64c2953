"""Real tabular data sets, read from the copies bundled with scikit-learn (no download).

scikit-learn is an optional dependency: ``pip install 'portable-nn[datasets]'`` (from a
clone: ``pip install -e '.[datasets]'``).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from portable_nn.datasets._encoding import one_hot as _one_hot

__all__ = ["breast_cancer", "digits"]


def _sklearn_datasets() -> ModuleType:
    try:
        import sklearn.datasets as sk_datasets
    except ImportError as exc:
        raise ImportError(
            "this data set is read from scikit-learn's bundled copy, and scikit-learn is not "
            "installed: install the extra: pip install 'portable-nn[datasets]' (from a clone: "
            "pip install -e '.[datasets]')"
        ) from exc
    return sk_datasets


def breast_cancer(*, standardize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return the Wisconsin breast cancer data set: 569 samples, 30 features, 2 classes.

    Parameters
    ----------
    standardize : bool
        Scale every feature to zero mean and unit variance over the whole data set (the raw
        features span five orders of magnitude, which gradient descent handles badly). For an
        honest held-out evaluation pass ``False`` and compute the scaling on the training part.

    Returns
    -------
    X : numpy.ndarray, shape (30, 569), float64
    Y : numpy.ndarray, shape (1, 569), uint8: 1 benign, 0 malignant (scikit-learn's coding)

    Raises
    ------
    ImportError
        When scikit-learn (the ``datasets`` extra) is not installed.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.breast_cancer()
    >>> X.shape, Y.shape
    ((30, 569), (1, 569))

    """
    if not isinstance(standardize, bool):
        raise TypeError(f"standardize must be True or False, got {standardize!r}")
    data, target = _sklearn_datasets().load_breast_cancer(return_X_y=True)
    data = np.asarray(data, dtype=np.float64)
    if standardize:
        data = (data - data.mean(axis=0)) / data.std(axis=0)
    return np.ascontiguousarray(data.T), np.asarray(target, dtype="uint8").reshape(1, -1)


def digits(*, one_hot: bool = True, scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return the 8x8 hand-written digits: 1797 samples, 64 pixel features, 10 classes.

    Parameters
    ----------
    one_hot : bool
        Return ``Y`` one-hot, shape ``(10, m)``, ready for ``output="softmax"`` (default);
        ``False`` returns the digit labels, shape ``(1, m)``.
    scale : bool
        Divide the pixel values (0 to 16) by 16, so that ``X`` lies in [0, 1]. A fixed scale:
        no statistic of the data is used, so it is safe before a train/test split.

    Returns
    -------
    X : numpy.ndarray, shape (64, 1797), float64
    Y : numpy.ndarray, uint8, shape (10, 1797) one-hot or (1, 1797) labels 0..9

    Raises
    ------
    ImportError
        When scikit-learn, whose bundled copy is read, is not installed (the ``datasets``
        extra installs it).

    Examples
    --------
    >>> from portable_nn.datasets import digits
    >>> [array.shape for array in digits()]
    [(64, 1797), (10, 1797)]
    >>> digits(one_hot=False)[1].shape
    (1, 1797)

    """
    for name, value in (("one_hot", one_hot), ("scale", scale)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
    data, target = _sklearn_datasets().load_digits(return_X_y=True)
    data = np.asarray(data, dtype=np.float64)
    if scale:
        data = data / 16.0
    labels = np.asarray(target, dtype=np.int64)
    Y = _one_hot(labels, 10, dtype="uint8") if one_hot else labels.astype("uint8").reshape(1, -1)
    return np.ascontiguousarray(data.T), Y
