"""The training loop: iterations, record points and the end of a run, nothing else.

Everything a run does besides stepping is a callback (:mod:`._callbacks`): costs are computed
only at record points, where the callbacks run; between them a compiled block may run many
iterations at once.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from portable_nn.training._callbacks import Callbacks, Run
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._feed import Feed
from portable_nn.training._steps import Steps
from portable_nn.training._validate import all_finite

__all__ = ["run_loop"]


def run_loop(run: Run, steps: Steps, feed: Feed, callbacks: Callbacks) -> None:
    """Train ``run.model`` in place from its ``iterations`` up to ``run.total``.

    Ends with ``run.outcome`` set and every callback's ``on_end`` called. Ctrl-C ends the run
    with the model reached so far (a warning says so); a non-finite cost raises
    :class:`TrainingDivergedError` after ``on_end``.
    """
    model = run.model
    steps.start(model)
    try:
        callbacks.on_start(run)
        _iterate(run, steps, feed, callbacks)
        run.outcome = "finished" if run.stop_reason is None else "stopped"
        if run.outcome == "finished" and model.iterations > run.iteration:
            _check_final_cost(run, steps, feed)
    except KeyboardInterrupt:
        run.outcome = "interrupted"
        model.interrupted = True
        warnings.warn(f"training interrupted at iteration {model.iterations} of {run.total}: "
                      "returning the model reached so far", RuntimeWarning, stacklevel=3)
    except TrainingDivergedError:
        run.outcome = "diverged"
        raise
    finally:
        steps.finish(model)
        callbacks.on_end(run)
    if not all_finite(model.params.values(), model.xp):
        raise TrainingDivergedError(model.iterations, run.last_finite, run.learning_rate)


def _iterate(run: Run, steps: Steps, feed: Feed, callbacks: Callbacks) -> None:
    """Step from ``model.iterations`` to ``run.total``, or until a callback stops the run."""
    model = run.model
    params, state, i = model.params, model.optimizer_state, model.iterations
    step, block = steps.step, (steps.block if feed.fixed else None)
    record_at = i if callbacks.due(i) else callbacks.next_due(i)
    while i < run.total and run.stop_reason is None:
        if i == record_at:
            params, state, i = _record_point(run, steps, feed, callbacks, i)
            record_at = callbacks.next_due(record_at)
        elif block is not None:
            stop = min(run.total, record_at)
            params, state = block(params, state, feed.X, feed.Y, feed.rates(i, stop))
            i = stop
        else:
            Xb, Yb, masks = feed(i)
            params, state, _ = step(params, state, Xb, Yb, feed.rate(i), masks)
            i += 1
        model.params, model.optimizer_state, model.iterations = params, state, i


def _record_point(run: Run, steps: Steps, feed: Feed, callbacks: Callbacks,
                  i: int) -> tuple[Any, Any, int]:
    """Iteration ``i`` with its cost: record it, call the callbacks, then apply the update.

    The callbacks see the model before the update (``iterations == i``, the parameters whose
    cost this is); when one stops the run, the update is dropped.
    """
    model = run.model
    Xb, Yb, masks = feed(i)
    params, state, cost = steps.step(model.params, model.optimizer_state, Xb, Yb, feed.rate(i),
                                     masks, with_cost=True)
    value = float(cost)
    if not math.isfinite(value):
        raise TrainingDivergedError(i, run.last_finite, run.learning_rate)
    run.iteration, run.cost, run.last_finite = i, value, value
    if i % run.cost_every == 0:
        model.costs[i] = value
    callbacks.on_record(run)
    if run.stop_reason is not None:
        return model.params, model.optimizer_state, i
    return params, state, i + 1


def _check_final_cost(run: Run, steps: Steps, feed: Feed) -> None:
    """Raise when the cost of the final parameters is not finite (computed once, at the end).

    Recorded costs are those of each iteration's forward pass, before its update: the final
    parameters' cost is never among them, and finite (if huge) parameters can give a NaN cost.
    The run's own step computes it (chunked, on Dask or compiled, as the run's costs were);
    its update is discarded, so its rate is any positive number (a schedule is not called
    again). One fetch (``bool``).
    """
    model = run.model
    masks = model.iterations if steps.masks_from_iteration else None
    _, _, cost = steps.step(model.params, model.optimizer_state, feed.X, feed.Y, 1.0, masks,
                            with_cost=True)
    if not bool((cost == cost) & (abs(cost) < math.inf)):  # not NaN, not infinite
        raise TrainingDivergedError(model.iterations, run.last_finite, run.learning_rate)
