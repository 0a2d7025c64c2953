"""The other 2-D data sets of the shallow-network lesson, generated with NumPy only.

They follow the recipes of scikit-learn's ``make_circles``, ``make_moons``, ``make_blobs`` and
``make_gaussian_quantiles`` (same shapes of data, not the same random draws), so no extra
dependency is needed. Every generator is seeded and leaves NumPy's global random state alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["blobs", "gaussian_quantiles", "noisy_circles", "noisy_moons"]


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_nonnegative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _finish(
    points: np.ndarray, labels: np.ndarray, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add Gaussian noise, shuffle, and return ``(X (2, m), Y (1, m) uint8)``."""
    if noise:
        points = points + rng.normal(scale=noise, size=points.shape)
    order = rng.permutation(points.shape[0])
    X = np.ascontiguousarray(points[order].T)
    Y = labels[order].astype("uint8").reshape(1, -1)
    return X, Y


def _two_curves(m: int, curve_0: Callable[[int], np.ndarray],
                curve_1: Callable[[int], np.ndarray], noise: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``m // 2`` points of ``curve_0`` (label 0) and the rest of ``curve_1`` (label 1).

    Each curve maps ``n`` to its ``(n, 2)`` points; then :func:`_finish` adds the noise.
    """
    n_0 = m // 2
    points = np.vstack([curve_0(n_0), curve_1(m - n_0)])
    labels = np.r_[np.zeros(n_0), np.ones(m - n_0)]
    return _finish(points, labels, noise, rng)


def _circle(n: int, radius: float) -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return radius * np.column_stack([np.cos(t), np.sin(t)])


def _half_circle(n: int, flipped: bool) -> np.ndarray:
    t = np.linspace(0.0, np.pi, n)
    if flipped:  # the lower moon: shifted right and down, opening upwards
        return np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    return np.column_stack([np.cos(t), np.sin(t)])


def noisy_circles(
    m: int = 200, *, noise: float = 0.3, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw two concentric circles: label 0 on the outer one (radius 1), 1 on the inner one.

    Parameters
    ----------
    m : int
        Number of points (the outer circle gets ``m // 2``).
    noise : float
        Standard deviation of the Gaussian noise added to every coordinate (lesson: 0.3).
    factor : float
        Radius of the inner circle, in (0, 1).
    seed : int
        Seed of the NumPy generator.

    Returns
    -------
    X : numpy.ndarray, shape (2, m)
    Y : numpy.ndarray, shape (1, m), dtype uint8
        0 for a point of the outer circle, 1 for one of the inner circle.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.noisy_circles(100, seed=1)
    >>> X.shape, Y.shape
    ((2, 100), (1, 100))

    """
    m = _check_count("m", m, 2)
    noise = _check_nonnegative("noise", noise)
    factor = _check_nonnegative("factor", factor)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    return _two_curves(m, lambda n: _circle(n, 1.0), lambda n: _circle(n, factor), noise,
                       np.random.default_rng(seed))


def noisy_moons(
    m: int = 200, *, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw two interleaving half circles ("moons"), labels 0 (upper) and 1 (lower).

    Parameters
    ----------
    m : int
        Number of points: ``m // 2`` on the upper moon, the others on the lower one.
    noise : float
        Standard deviation of the Gaussian noise (lesson: 0.2).
    seed : int
        Seed of the NumPy generator that draws the noise and the order.

    Returns
    -------
    X : numpy.ndarray, shape (2, m)
    Y : numpy.ndarray, shape (1, m), dtype uint8
        0 on the upper moon, 1 on the lower moon.

    Examples
    --------
    >>> from portable_nn.datasets import noisy_moons
    >>> sorted(set(noisy_moons(100)[1].ravel().tolist()))
    [0, 1]

    """
    m = _check_count("m", m, 2)
    noise = _check_nonnegative("noise", noise)
    return _two_curves(m, lambda n: _half_circle(n, flipped=False),
                       lambda n: _half_circle(n, flipped=True), noise, np.random.default_rng(seed))


def blobs(
    m: int = 200,
    *,
    centers: int = 6,
    n_classes: int = 2,
    cluster_std: float = 1.0,
    seed: int = 9,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw Gaussian blobs around random centres; blob ``k`` gets label ``k % n_classes``.

    The lesson draws 6 blobs and keeps ``label % 2``, which gives a binary problem that no
    straight line separates. The default ``seed=9`` places the centres so that this holds
    (with some seeds the alternating labels happen to be linearly separable).

    Parameters
    ----------
    m : int
        Number of points, shared out evenly between the blobs.
    centers : int
        Number of blobs; their centres are uniform in the square ``[-10, 10]^2``.
    n_classes : int
        Number of labels, ``2 <= n_classes <= centers``.
    cluster_std : float
        Standard deviation of every blob.
    seed : int
        Seed of the NumPy generator (centres and points).

    Returns
    -------
    X : numpy.ndarray, shape (2, m)
    Y : numpy.ndarray, shape (1, m), dtype uint8
        The label ``k % n_classes`` of each point's blob ``k``.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.blobs(120, centers=3, n_classes=3)
    >>> sorted(set(Y.ravel().tolist()))
    [0, 1, 2]

    """
    m = _check_count("m", m, 1)
    centers = _check_count("centers", centers, 1)
    n_classes = _check_count("n_classes", n_classes, 2)
    if n_classes > centers:
        raise ValueError(f"n_classes must be <= centers={centers}, got {n_classes}")
    if m < centers:
        raise ValueError(f"m must be >= centers={centers} (one point per blob), got {m}")
    cluster_std = _check_nonnegative("cluster_std", cluster_std)
    rng = np.random.default_rng(seed)
    where = rng.uniform(-10.0, 10.0, size=(centers, 2))
    blob = np.arange(m) % centers
    points = where[blob]
    return _finish(points, blob % n_classes, cluster_std, rng)


def gaussian_quantiles(
    m: int = 200, *, cov: float = 0.5, n_classes: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw an isotropic 2-D Gaussian, labelled by quantile of distance to the mean.

    The ``m / n_classes`` points nearest the origin get label 0, the next ones label 1, and so
    on: concentric classes.

    Parameters
    ----------
    m : int
        Number of points.
    cov : float
        Variance of each coordinate (lesson: 0.5).
    n_classes : int
        Number of labels (nested rings).
    seed : int
        Seed of the NumPy generator that draws the points.

    Returns
    -------
    X : numpy.ndarray, shape (2, m)
    Y : numpy.ndarray, shape (1, m), dtype uint8
        The ring of each point: 0 for the nearest ``m / n_classes`` points, up to
        ``n_classes - 1``.

    Examples
    --------
    >>> from portable_nn.datasets import gaussian_quantiles
    >>> int(gaussian_quantiles(100)[1].sum())
    50

    """
    m = _check_count("m", m, 2)
    n_classes = _check_count("n_classes", n_classes, 2)
    if n_classes > m:
        raise ValueError(f"n_classes must be <= m={m}, got {n_classes}")
    cov = _check_nonnegative("cov", cov)
    if cov == 0:
        raise ValueError("cov must be > 0, got 0")
    rng = np.random.default_rng(seed)
    points = rng.normal(scale=np.sqrt(cov), size=(m, 2))
    rank = np.argsort(np.argsort(np.sum(points**2, axis=1), kind="stable"), kind="stable")
    labels = rank * n_classes // m
    return _finish(points, labels, 0.0, rng)
