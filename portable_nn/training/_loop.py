"""The training loop: iterations, record points and the end of a run, nothing else.

Everything a run does besides stepping is a callback (:mod:`._callbacks`): costs are computed
only at record points, where the callbacks run; between them a compiled block may run many
iterations at once. How the step is executed (eager, compiled, chunked, Dask) is the run's
:class:`~._strategy.Strategy`; the loop hands it the feed's samples, the rate and the
iteration number, and nothing here depends on the mode.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from portable_nn.training._callbacks import Callbacks, Run
from portable_nn.training._check_inputs import all_finite
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._feed import Feed
from portable_nn.training._strategy import Strategy

__all__ = ["run_loop"]


def run_loop(run: Run, strategy: Strategy, feed: Feed, callbacks: Callbacks) -> None:
    """Train ``run.model`` in place from its ``iterations`` up to ``run.total``.

    Ends with ``run.outcome`` set (always one of ``OUTCOMES``) and every callback's ``on_end``
    called, even when one of them raises. Ctrl-C ends the run with the model reached so far (a
    warning says so); a non-finite cost raises :class:`TrainingDivergedError` after ``on_end``;
    any other error (of a callback or of the step) ends the run as ``"failed"`` and is raised
    after ``on_end``. When the run went well and an ``on_end`` raised, that error is raised.
    From ``strategy.start`` to after ``on_end``, the model's parameters are where the strategy
    keeps them (``run.backend``); ``strategy.finish`` then hands them back to the model's
    backend.
    """
    model = run.model
    model.params, model.optimizer_state = strategy.start(model.params, model.optimizer_state)
    error = _train(run, strategy, feed, callbacks)
    try:
        end_error = callbacks.on_end(run)
    finally:
        model.params, model.optimizer_state = strategy.finish(model.params,
                                                              model.optimizer_state)
    if error is not None:
        if end_error is not None:
            _note(error, f"then {type(end_error).__name__} in a callback's on_end: {end_error}")
        raise error
    if end_error is not None:
        raise end_error
    if not all_finite(model.params.values(), model.xp):
        raise TrainingDivergedError(model.iterations, run.last_finite, run.learning_rate)


def _train(run: Run, strategy: Strategy, feed: Feed,
           callbacks: Callbacks) -> BaseException | None:
    """``on_start`` and the iterations; sets ``run.outcome`` and returns the error to raise."""
    model = run.model
    try:
        callbacks.on_start(run)
        _iterate(run, strategy, feed, callbacks)
        run.outcome = "finished" if run.stop_reason is None else "stopped"
        if run.outcome == "finished" and model.iterations > run.iteration:
            _check_final_cost(run, strategy, feed)
    except KeyboardInterrupt:
        run.outcome = "interrupted"
        model.interrupted = True
        # the user's call of train: _train <- run_loop <- train <- the caller
        warnings.warn(f"training interrupted at iteration {model.iterations} of {run.total}: "
                      "returning the model reached so far", RuntimeWarning, stacklevel=4)
    except TrainingDivergedError as exc:
        run.outcome = "diverged"
        return exc
    except BaseException as exc:  # a callback's or the step's error: on_end sees "failed"
        run.outcome = "failed"
        return exc
    return None


def _note(error: BaseException, note: str) -> None:
    add = getattr(error, "add_note", None)  # Python >= 3.11
    if add is not None:
        add(note)


def _iterate(run: Run, strategy: Strategy, feed: Feed, callbacks: Callbacks) -> None:
    """Step from ``model.iterations`` to ``run.total``, or until a callback stops the run."""
    model = run.model
    params, state, i = model.params, model.optimizer_state, model.iterations
    step, block = strategy.step, (strategy.block if feed.fixed else None)
    record_at = i if callbacks.due(i) else callbacks.next_due(i)
    while i < run.total and run.stop_reason is None:
        if i == record_at:
            params, state, i = _record_point(run, strategy, feed, callbacks, i)
            record_at = callbacks.next_due(record_at)
        elif block is not None:
            stop = min(run.total, record_at)
            params, state = block(params, state, feed.X, feed.Y, feed.rates(i, stop))
            i = stop
        else:
            Xb, Yb = feed(i)
            params, state, _ = step(params, state, Xb, Yb, feed.rate(i), i)
            i += 1
        # a compiled JAX step hands dicts back with sorted keys: keep the model's own order
        model.params = _in_order(params, model.params)
        model.optimizer_state = _in_order(state, model.optimizer_state)
        model.iterations = i


def _in_order(new: Any, old: Any) -> Any:
    """``new`` with the key order of ``old`` (the same keys), where both are dicts."""
    if isinstance(new, dict) and isinstance(old, dict) and list(new) != list(old):
        return {key: new[key] for key in old}
    return new


def _record_point(run: Run, strategy: Strategy, feed: Feed, callbacks: Callbacks,
                  i: int) -> tuple[Any, Any, int]:
    """Iteration ``i`` with its cost: record it, call the callbacks, then apply the update.

    The callbacks see the model before the update (``iterations == i``, the parameters whose
    cost this is); when one stops the run, the update is dropped. When one edited
    ``model.params`` or ``model.optimizer_state`` (replaced them, an entry, or wrote into an
    array), the update is made again from the edited values.
    """
    model = run.model
    Xb, Yb = feed(i)
    before = _Snapshot(model, run.backend.xp) if callbacks.may_edit else None
    params, state, cost = strategy.step(model.params, model.optimizer_state, Xb, Yb,
                                        feed.rate(i), i, with_cost=True)
    value = float(cost)
    if not math.isfinite(value):
        raise TrainingDivergedError(i, run.last_finite, run.learning_rate)
    run.iteration, run.cost, run.last_finite = i, value, value
    if i % run.cost_every == 0:
        model.costs[i] = value
    callbacks.on_record(run)
    edited = before is not None and before.edited(model)
    if before is not None and edited:
        before.check(model)
    if run.stop_reason is not None:
        return model.params, model.optimizer_state, i
    if edited:  # the update from what the callbacks left (the cost recorded was before it)
        params, state, _ = strategy.step(model.params, model.optimizer_state, Xb, Yb,
                                         feed.rate(i), i)
    return params, state, i + 1


class _Snapshot:
    """What a record point's callbacks were given, to tell whether one of them edited it.

    The ``params`` and ``optimizer_state`` dicts, their arrays, and copies of the values.
    """

    def __init__(self, model: Any, xp: Any) -> None:
        self.xp = xp
        self.dicts = (model.params, model.optimizer_state)
        state = model.optimizer_state
        self.params, self.state = dict(model.params), None if state is None else dict(state)
        self.entries = {**_arrays("params", model.params), **_arrays("state", self.state)}
        self.copies = {key: xp.asarray(a, copy=True) for key, a in self.entries.items()}

    def edited(self, model: Any) -> bool:
        if model.params is not self.dicts[0] or model.optimizer_state is not self.dicts[1]:
            return True
        now = {**_arrays("params", model.params), **_arrays("state", model.optimizer_state)}
        if now.keys() != self.entries.keys() or any(
                now[key] is not array for key, array in self.entries.items()):
            return True
        # written in place (NumPy, PyTorch, CuPy): compare with the copies, one fetch
        xp = self.xp
        same = [xp.all(now[key] == copy) for key, copy in self.copies.items()]
        return not bool(xp.all(xp.stack(same))) if same else False

    def check(self, model: Any) -> None:
        """Edited values must keep every key, shape and dtype of the originals."""
        for what, old, new in (("params", self.params, model.params),
                               ("optimizer_state", self.state, model.optimizer_state)):
            if old is None and new is None:
                continue
            if not isinstance(new, dict) or old is None or new.keys() != old.keys():
                keys = sorted(new) if isinstance(new, dict) else type(new).__name__
                raise ValueError(f"a callback set run.model.{what} to {keys}, but the run needs "
                                 f"the keys {sorted(old or {})}")
            for key, value in old.items():
                edited = new[key]
                if not hasattr(value, "shape"):
                    continue  # Adam's step count
                if (getattr(edited, "shape", None) != value.shape
                        or getattr(edited, "dtype", None) != value.dtype):
                    raise ValueError(
                        f"a callback set run.model.{what}[{key!r}] to "
                        f"{type(edited).__name__} of shape {getattr(edited, 'shape', None)} "
                        f"and dtype {getattr(edited, 'dtype', None)}, but the run needs an "
                        f"array of its backend of shape {tuple(value.shape)} and dtype "
                        f"{value.dtype}")


def _arrays(prefix: str, arrays: Any) -> dict[str, Any]:
    return {f"{prefix}.{key}": value for key, value in (arrays or {}).items()
            if hasattr(value, "shape")}


def _check_final_cost(run: Run, strategy: Strategy, feed: Feed) -> None:
    """Raise when the cost of the final parameters is not finite (computed once, at the end).

    Recorded costs are those of each iteration's forward pass, before its update: the final
    parameters' cost is never among them, and finite (if huge) parameters can give a NaN cost.
    The run's own step computes it (chunked, on Dask or compiled, as the run's costs were, with
    the dropout masks of iteration ``model.iterations``); its update is discarded, so its rate
    is any positive number (a schedule is not called again). One fetch (``bool``).
    """
    model = run.model
    _, _, cost = strategy.step(model.params, model.optimizer_state, feed.X, feed.Y, 1.0,
                               model.iterations, with_cost=True)
    if not bool((cost == cost) & (abs(cost) < math.inf)):  # not NaN, not infinite
        raise TrainingDivergedError(model.iterations, run.last_finite, run.learning_rate)
