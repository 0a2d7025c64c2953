"""What each iteration trains on: its samples and its learning rate.

Dropout masks are the strategy's (drawn in its step from ``(seed, iteration)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from portable_nn.backend import Backend

__all__ = ["Batches", "Feed"]


class Batches:
    """Mini-batch ``k`` of iteration ``i``: epoch ``i // n``, reshuffled from ``(seed, epoch)``."""

    def __init__(self, X: Any, Y: Any, batch_size: int, seed: int, backend: Backend) -> None:
        self.X, self.Y, self.size, self.seed, self.backend = X, Y, batch_size, seed, backend
        self.m = X.shape[1]
        self.per_epoch = math.ceil(self.m / batch_size)
        self._epoch, self._order = -1, None  # type: int, Any

    def __call__(self, iteration: int) -> tuple[Any, Any]:
        epoch, k = divmod(iteration, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = self.backend.epoch_permutation(self.seed, epoch, self.m)
        idx = self._order[k * self.size : min((k + 1) * self.size, self.m)]
        xp = self.backend.xp
        return xp.take(self.X, idx, axis=1), xp.take(self.Y, idx, axis=1)


class Feed:
    """``feed(i) -> (X_i, Y_i)`` and ``feed.rate(i)`` for iteration ``i``.

    ``fixed`` is True when every iteration sees the same samples (full batch): only then may
    a compiled block run several iterations at once. ``learning_rate`` is a float or a
    schedule ``i -> float``.
    """

    def __init__(self, X: Any, Y: Any, *, batch_size: int | None, seed: int,
                 learning_rate: Any, backend: Backend) -> None:
        self.X, self.Y = X, Y
        self.batches = Batches(X, Y, batch_size, seed, backend) if (
            batch_size is not None and batch_size < X.shape[1]) else None
        self.fixed = self.batches is None
        self.learning_rate: Any = learning_rate  # a float or a schedule
        self.rate: Callable[[int], Any] = self._schedule if callable(
            learning_rate) else self._constant

    def __call__(self, i: int) -> tuple[Any, Any]:
        return (self.X, self.Y) if self.batches is None else self.batches(i)

    def rates(self, start: int, stop: int) -> list[float]:
        """The learning rates of iterations ``start .. stop - 1``."""
        return [self.rate(i) for i in range(start, stop)]

    def _constant(self, i: int) -> Any:
        return self.learning_rate

    def _schedule(self, i: int) -> float:
        rate = self.learning_rate(i)
        try:
            value = float(rate)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"learning_rate({i}) returned {rate!r}; a schedule must return a "
                             "positive finite float")
        return value
