"""Callbacks: code that runs where the training loop records a cost, and when the run ends.

The loop calls every callback at its *record points*: the iterations ``i`` where
``i % every == 0`` (the callback's own ``every``), or, for a callback without ``every``, where
``i % cost_every == 0`` (where ``model.costs`` gets an entry). At a record point the loop has
computed the cost of the parameters reached after ``i`` updates (iteration ``i``'s forward
pass, before its update), and ``run.model`` holds exactly those parameters, their optimizer
state and ``iterations == i``. Checkpoints, the progress bar, ``print_cost``, validation scores
and early stopping are all callbacks; a user's callbacks are called after them.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

__all__ = ["OUTCOMES", "Callback", "Callbacks", "Run", "check_every"]

#: Every value ``run.outcome`` takes in ``on_end`` (see :class:`Run`).
OUTCOMES = ("finished", "stopped", "interrupted", "diverged", "failed")

class Run:
    """What a callback sees of a training run.

    Attributes
    ----------
    model : Model
        The model being trained. At a record point its ``params``, ``optimizer_state`` and
        ``iterations`` are those whose cost is ``cost``; write metrics with
        :meth:`portable_nn.Model.record`.
    iteration : int
        The record point: the number of updates made so far (``model.iterations``).
    cost : float or None
        The training cost at ``iteration`` (of the mini-batch with ``batch_size``; with the L2
        penalty), ``None`` before the first record point.
    total : int
        ``num_iterations``, the run's last iteration.
    cost_every : int
        The run's ``cost_every``.
    backend : Backend
        Where the parameters live during the run (the run's execution strategy keeps them
        there), in ``on_start``, ``on_record`` and ``on_end`` alike: the model's backend, except
        NumPy on the host for ``backend="dask"`` (whose parameters are sent to the workers each
        iteration, and handed back as Dask arrays after every ``on_end``).
    outcome : str or None
        In ``on_end``, always one of ``Run.OUTCOMES``: ``"finished"``, ``"stopped"`` (by a
        callback), ``"interrupted"`` (Ctrl-C), ``"diverged"`` (a
        :class:`~portable_nn.TrainingDivergedError` is on its way) or ``"failed"`` (any other
        exception, raised by a callback or by the step, is on its way). None before.
    stop_reason : str or None
        Why a callback stopped the run (see :meth:`stop`).
    saved : dict
        What built-in callbacks keep across a crash (early stopping's best parameters and
        patience count): a checkpoint writes it, a ``resume`` gives it back as ``restored``.
    restored : dict
        The ``saved`` of the checkpoint a run resumed from (``{}`` for a fresh run).
    """

    OUTCOMES = OUTCOMES

    def __init__(self, model: Any, *, total: int, cost_every: int, backend: Any,
                 learning_rate: Any) -> None:
        self.model = model
        self.iteration = model.iterations
        self.cost: float | None = None
        self.total = total
        self.cost_every = cost_every
        self.backend = backend
        self.learning_rate = learning_rate
        self.outcome: str | None = None
        self.stop_reason: str | None = None
        self.saved: dict[str, Any] = {}
        # resume_into left the checkpoint's callback state on the model; the run takes it
        self.restored: dict[str, Any] = model.__dict__.pop("_restored_callback_state", None) or {}
        costs = model.costs
        self.last_finite: float | None = costs[max(costs)] if costs else None

    def stop(self, reason: str) -> None:
        """Stop training after this record point: no more updates (``outcome="stopped"``).

        The model keeps the parameters of this record point (its update is not applied).
        """
        self.stop_reason = str(reason)


class Callback:
    """Base class of training callbacks: override the methods you need.

    Pass instances to :func:`portable_nn.train` as ``callbacks=[...]``. ``every`` (a class or
    instance attribute) says where :meth:`on_record` is called: every ``every`` iterations, or
    with ``None`` (the default) where the run records a cost (every ``cost_every``). A
    callback stops training with ``run.stop(reason)``.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> class StopBelow(pnn.Callback):
    ...     def on_record(self, run):
    ...         if run.cost < 0.6:
    ...             run.stop(f"cost {run.cost:.3f} < 0.6")
    >>> X, Y = pnn.datasets.planar()
    >>> model = pnn.train(X, Y, num_iterations=5000, callbacks=[StopBelow()])
    >>> model.iterations < 5000, model.costs[model.iterations] < 0.6
    (True, True)
    """

    every: int | None = None

    def on_start(self, run: Run) -> None:
        """Called once, before the first iteration (after a ``resume``, at its iteration)."""

    def on_record(self, run: Run) -> None:
        """Called at each record point, after the cost there is known and found finite.

        Replacing ``run.model.params`` (or ``optimizer_state``), an entry of it, or writing
        into its arrays takes effect: the update of this iteration is made from the edited
        values (which must keep every key, shape and dtype, else a ``ValueError``).
        """

    def on_end(self, run: Run) -> None:
        """Called once when the run ends, whatever the ``run.outcome``.

        Every callback's ``on_end`` is called even when one raises; the first error is then
        raised (after the run's own error, if the run failed).
        """


def check_every(callback: Any, name: str = "callbacks") -> int | None:
    """``callback.every`` as a Python int ``>= 1`` (any integer, such as ``np.int64``), or None.

    Raises
    ------
    ValueError
        Naming ``name`` and the callback's class, for a bool, a non-integer or a value < 1.

    Examples
    --------
    >>> class Every(Callback):
    ...     every = 5.0
    >>> check_every(Every())
    Traceback (most recent call last):
    ...
    ValueError: callbacks: Every.every must be None or an int >= 1, got 5.0
    """
    every = callback.every
    if every is None:
        return None
    problem = ValueError(f"{name}: {type(callback).__name__}.every must be None or an int >= 1, "
                         f"got {every!r}")
    if isinstance(every, bool):
        raise problem
    try:
        every = operator.index(every)
    except TypeError:
        raise problem from None
    if every < 1:
        raise problem
    return every


class Callbacks:
    """The run's callbacks in call order, and the record points they ask for."""

    def __init__(self, callbacks: Iterable[Callback], cost_every: int) -> None:
        self.items = list(callbacks)
        self.every = [check_every(cb) for cb in self.items]  # Python ints (np.int64 too)
        self.periods = sorted({cost_every} | {every for every in self.every if every})
        # whether a record point must watch for edits of the parameters: the built-in
        # callbacks (validation, early stopping, reporting, checkpoints) only read them
        self.may_edit = any(not type(cb).__module__.startswith("portable_nn.training.")
                            for cb in self.items)

    def due(self, iteration: int) -> bool:
        """Whether ``iteration`` is a record point (its cost is computed)."""
        return any(iteration % period == 0 for period in self.periods)

    def next_due(self, iteration: int) -> int:
        """The first record point after ``iteration``."""
        return min((iteration // period + 1) * period for period in self.periods)

    def on_start(self, run: Run) -> None:
        """Call every callback's ``on_start``."""
        for callback in self.items:
            callback.on_start(run)

    def on_record(self, run: Run) -> None:
        """Call the callbacks whose period divides ``run.iteration``, in order."""
        for callback, every in zip(self.items, self.every, strict=True):
            if run.iteration % (every or run.cost_every) == 0:
                callback.on_record(run)

    def on_end(self, run: Run) -> BaseException | None:
        """Call every callback's ``on_end``, even after one raises; return the first error.

        A raising ``on_end`` must not keep the others (the checkpoint's, last) from running;
        the caller raises what is returned. Later errors are added to it as notes.
        """
        first: BaseException | None = None
        for callback in self.items:
            try:
                callback.on_end(run)
            except BaseException as exc:  # Ctrl-C too: the rest still run
                if first is None:
                    first = exc
                else:
                    _add_note(first, f"{type(callback).__name__}.on_end also raised "
                                     f"{type(exc).__name__}: {exc}")
        return first


def _add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)`` (Python >= 3.11); nothing on 3.10."""
    add = getattr(error, "add_note", None)
    if add is not None:
        add(note)
