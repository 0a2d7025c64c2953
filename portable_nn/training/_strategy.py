"""The execution strategy of a run: how its step is executed, one class per mode.

A :class:`Strategy` owns everything that depends on how a run executes: how the data are
prepared (whole, or checked and read chunk by chunk), the step, the dropout masks (drawn
inside the step from ``(seed, iteration)``), the compiled block of cost-free iterations, and
where the parameters live during the run (moved there by :meth:`~Strategy.start`, back by
:meth:`~Strategy.finish`). The loop, the feed and the callbacks see only this interface:

- eager and compiled: :mod:`._steps`;
- chunked (``chunk_size``): :mod:`._chunked`;
- Dask (``backend="dask"``): :mod:`._dask_train`;

chosen in one place, :mod:`._strategies`. This module imports nothing of training/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["Block", "Strategy"]

#: ``block(params, state, X, Y, rates) -> (params, state)``: ``len(rates)`` cost-free
#: full-batch iterations at once (compiled).
Block = Callable[..., tuple[Any, Any]]


class Strategy:
    """How a run executes its step; subclasses are the execution modes.

    Attributes
    ----------
    X, Y : arrays
        The data the feed picks each iteration's samples from (on Dask, rechunked).
    backend : Backend
        Where the parameters live during the run (the host for Dask), ``run.backend``:
        callbacks see ``run.model.params`` as arrays of it at every record point and in
        ``on_end``, whatever the mode.
    block : callable or None
        :data:`Block` when the mode compiles one and the run has no dropout (only a run
        whose every iteration sees the same samples may use it), else None.
    reads_in_chunks : bool
        Class attribute: whether the data are checked chunk by chunk and out-of-core arrays
        are kept lazy (``prepare_data(..., chunk_size=...)``), rather than converted whole.
    """

    reads_in_chunks: ClassVar[bool] = False
    X: Any
    Y: Any
    backend: Any
    block: Block | None = None

    def __init__(self, backend: Any, X: Any, Y: Any, spec: Any, *, compile: bool,
                 chunk_size: Any, batch_size: int | None) -> None:
        """Build the mode's step for the run's backend, prepared data and ``StepSpec``."""
        raise NotImplementedError

    def step(self, params: dict, state: Any, X: Any, Y: Any, rate: Any, iteration: int,
             with_cost: bool = False) -> tuple[dict, Any, Any]:
        """One iteration on the samples ``X``/``Y``: ``(new_params, new_state, cost)``.

        ``iteration`` gives the dropout masks (from ``(seed, iteration)``, per chunk where the
        mode chunks); ``cost`` is a 0-d array when ``with_cost``, else None. Pure.
        """
        raise NotImplementedError

    def start(self, params: dict, state: Any) -> tuple[dict, Any]:
        """A model's parameters and optimizer state moved to where the run keeps them."""
        return params, state

    def finish(self, params: dict, state: Any) -> tuple[dict, Any]:
        """The run's parameters and optimizer state moved back to the model's backend."""
        return params, state
