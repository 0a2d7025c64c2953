"""The benchmark sizes and their data (the same arrays for every competitor)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COST_EVERY = 100  # every competitor records (computes and fetches) the cost this often


@dataclass(frozen=True)
class Case:
    """One network size: layer sizes, output, sample count, dtype, step size and loop lengths.

    ``n0`` is the run subtracted from every timing (setup, first recorded cost, compilation);
    per-iteration time is ``(t(n0 + N) - t(n0)) / N`` with ``N`` a multiple of ``step_n`` and at
    least ``min_n`` (several iterations for the large size, whose single runs vary the most).
    """

    name: str
    n_x: int
    n_h: int
    n_y: int
    m: int
    dtype: str
    output: str
    lr: float
    n0: int
    step_n: int
    min_n: int = 1

    @property
    def label(self) -> str:
        return f"{self.name} {self.n_x}-{self.n_h}-{self.n_y} m={self.m:,} {self.dtype}"

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """``X (n_x, m)`` and ``Y (n_y, m)`` on the host in the case's dtype."""
        if self.name == "planar":
            import portable_nn as pnn

            X, Y = pnn.datasets.planar()
        else:
            rng = np.random.default_rng(0)
            X = rng.standard_normal((self.n_x, self.m))
            labels = np.arange(self.m) % self.n_y
            rng.shuffle(labels)
            Y = np.eye(self.n_y)[:, labels]
        return (np.ascontiguousarray(X, dtype=self.dtype),
                np.ascontiguousarray(Y, dtype=self.dtype))

    def init(self) -> dict[str, np.ndarray]:
        """The lesson's small random start, the same for every competitor."""
        rng = np.random.RandomState(0)
        return {
            "W1": (rng.standard_normal((self.n_h, self.n_x)) * 0.01).astype(self.dtype),
            "b1": np.zeros((self.n_h, 1), self.dtype),
            "W2": (rng.standard_normal((self.n_y, self.n_h)) * 0.01).astype(self.dtype),
            "b2": np.zeros((self.n_y, 1), self.dtype),
        }


def cases(quick: bool, sweep: bool = False, gpu_first: bool = False) -> list[Case]:
    """The issue's three sizes (large in both dtypes); ``quick`` shrinks the large one.

    ``sweep`` adds two sizes between digits and large (float32), so that the smallest network
    on which a GPU beats NumPy can be placed more closely. ``gpu_first`` puts large float32,
    where the GPU targets are judged, first: a run cut by its deadline still has it.
    """
    ordered = _sizes(quick, sweep)
    if gpu_first:
        ordered.sort(key=lambda c: (c.name, c.dtype) != ("large", "float32"))
    return ordered


def _sizes(quick: bool, sweep: bool) -> list[Case]:
    planar = Case("planar", 2, 4, 1, 400, "float64", "sigmoid", 1.2, 101, COST_EVERY)
    digits = Case("digits", 64, 64, 10, 1797, "float64", "softmax", 0.5, 101, COST_EVERY)
    sizes = [Case("medium", 128, 128, 10, 8_000, "float32", "softmax", 0.1, 101, COST_EVERY),
             Case("big", 256, 256, 10, 20_000, "float32", "softmax", 0.1, 1, 1, min_n=3)]
    if quick:
        return [planar, digits, *(sizes if sweep else []),
                Case("large", 784, 256, 10, 6_000, "float32", "softmax", 0.1, 1, 1)]
    return [planar, digits, *(sizes if sweep else []),
            Case("large", 784, 256, 10, 60_000, "float32", "softmax", 0.1, 1, 1, min_n=3),
            Case("large", 784, 256, 10, 60_000, "float64", "softmax", 0.1, 1, 1, min_n=3)]
