"""Exceptions raised by training."""

from __future__ import annotations

__all__ = ["TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError, RuntimeError):
    """The cost or a parameter became NaN or infinite during training.

    Attributes
    ----------
    iteration : int
        The iteration at which the non-finite value was seen.
    last_finite_cost : float or None
        The last recorded finite cost, if any.
    """

    def __init__(self, iteration: int, last_finite_cost: float | None, learning_rate: object):
        self.iteration = iteration
        self.last_finite_cost = last_finite_cost
        last = "none was recorded" if last_finite_cost is None else f"{last_finite_cost:.6g}"
        super().__init__(
            f"training diverged at iteration {iteration}: the cost or a parameter became NaN or "
            f"infinite (last finite cost: {last}). learning_rate={learning_rate!r} is probably too "
            "large: try a smaller learning rate (for example a tenth of it)"
        )
