"""The lesson's "flower" data set."""

from __future__ import annotations

import numpy as np

__all__ = ["planar"]


def planar(m: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D "flower" data set of the shallow-network lesson.

    For each label ``j`` in 0, 1, ``N = m / 2`` angles
    ``t = linspace(j*3.12, (j+1)*3.12, N) + randn(N)*0.2`` and radii
    ``r = 4*sin(4t) + randn(N)*0.2`` give the points ``(r sin t, r cos t)``, drawn from NumPy's
    legacy ``np.random.seed(seed)`` stream, so ``planar()`` matches the published data bit for
    bit. The global NumPy random state is left as it was.

    Parameters
    ----------
    m : int
        Number of points, even (default 400).
    seed : int
        Seed of the legacy stream (the lesson uses 1).

    Returns
    -------
    X : numpy.ndarray, shape (2, m)
    Y : numpy.ndarray, shape (1, m), dtype uint8
        The label ``j`` the point was drawn for: 0 for the angles ``t`` in ``[0, 3.12]``, 1
        for those in ``[3.12, 6.24]`` (before the noise).

    Examples
    --------
    >>> from portable_nn.datasets import planar
    >>> X, Y = planar()
    >>> X.shape, Y.shape, sorted(set(Y.ravel().tolist()))
    ((2, 400), (1, 400), [0, 1])
    """
    if isinstance(m, bool) or not isinstance(m, int) or m < 2 or m % 2:
        raise ValueError(f"m must be an even int >= 2, got {m!r}")
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        N = m // 2
        X = np.zeros((m, 2))
        Y = np.zeros((m, 1), dtype="uint8")
        max_ray = 4
        for j in range(2):
            ix = range(N * j, N * (j + 1))
            t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
            r = max_ray * np.sin(4 * t) + np.random.randn(N) * 0.2
            X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
            Y[ix] = j
    finally:
        np.random.set_state(saved)
    return X.T, Y.T
