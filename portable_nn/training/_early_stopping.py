"""Validation data and early stopping, two training callbacks (see ``docs/callbacks.md``).

``train(..., validation=(X_val, Y_val))`` adds a :class:`ValidationScore`: at every record
point it scores the parameters of that point on the held-out data and records
``model.metrics["validation_cost"]`` (and ``"validation_accuracy"`` for a sigmoid or softmax
output). ``early_stopping=patience`` adds an :class:`EarlyStopping` after it: training stops
after ``patience`` record points without a strictly lower validation cost, and the model ends
with the parameters (and optimizer state) of the best one.

The validation cost is the cost of the network on the held-out samples computed stably from
``Z[L]``, *without* the L2 penalty (the penalty does not depend on the data; the training
cost in ``model.costs`` includes it). Dropout is never applied to validation data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from portable_nn.backend import to_backend, to_numpy
from portable_nn.core import cost_from_logits, forward
from portable_nn.training._callbacks import Callback, Run
from portable_nn.training._check_inputs import (
    check_early_stopping_needs_validation,
    check_features,
    check_int,
    check_target_shape,
    check_values,
)
from portable_nn.training._statistics import standardized

__all__ = [
    "ConvergenceStop",
    "EarlyStopping",
    "ValidationScore",
    "validation_callbacks",
]

VALIDATION_COST = "validation_cost"
VALIDATION_ACCURACY = "validation_accuracy"
STATE_KEY = "early_stopping"  # its entry of run.saved / run.restored (checkpoints)


def validation_callbacks(validation: tuple[Any, Any] | None,
                         early_stopping: int | None) -> list[Callback]:
    """The callbacks of ``train``'s ``validation`` and ``early_stopping`` options, in order.

    ``[]`` without validation; ``[ValidationScore]``; or ``[ValidationScore, EarlyStopping]``.
    The arguments are those returned by the checks above.
    """
    check_early_stopping_needs_validation(validation, early_stopping)
    if validation is None:
        return []
    callbacks: list[Callback] = [ValidationScore(*validation)]
    if early_stopping is not None:
        callbacks.append(EarlyStopping(early_stopping))
    return callbacks


# ---------------------------------------------------------------------- validation score


@contextmanager
def _about_validation() -> Iterator[None]:
    """Say that a shape or value problem is one of the validation data."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"validation=(X_val, Y_val): {exc}") from None


class ValidationScore(Callback):
    """Record the cost (and accuracy) of the parameters on held-out data at every record point.

    Parameters
    ----------
    X : array-like, shape (n_x, m_val)
        Held-out inputs, one column per sample, raw (the model's standardization is applied).
    Y : array-like, shape (n_y, m_val)
        Their targets, as for training: 0/1 (sigmoid), one-hot (softmax) or values (linear).

    Notes
    -----
    The data are converted to the run's backend, checked and standardised once, in
    :meth:`on_start`. At each record point one forward pass gives ``validation_cost`` (from
    ``Z[L]``, without the L2 penalty; in the target's units when the model standardised its
    targets, as :meth:`Model.cost`) and, for sigmoid and softmax outputs,
    ``validation_accuracy`` (the fraction of correct labels, as ``Model.accuracy``), fetched
    from the device together, once, and written with :meth:`Model.record`.
    """

    def __init__(self, X: Any, Y: Any) -> None:
        self.data = (X, Y)
        self.X: Any = None
        self.Y: Any = None
        self.labels: Any = None  # the targets' labels (sigmoid, softmax)
        self.count = 0  # how many labels an accuracy counts
        self.target_scaling: Any = None  # a linear output's (mean, std) of Y, to undo

    def on_start(self, run: Run) -> None:
        """Convert, check and standardise the validation data on ``run.backend``, once."""
        model, backend = run.model, run.backend
        X = to_backend(self.data[0], backend, name="validation X")
        Y = to_backend(self.data[1], backend, name="validation Y")
        with _about_validation():
            check_features(X, model.layer_dims[0])
            check_target_shape(Y, model.layer_dims[-1], X.shape[1])
            check_values(X, Y, output=model.output, xp=backend.xp)  # finite, valid targets
        scaling, self.target_scaling = (
            None if pair is None else  # on the run's backend (Dask: the host)
            tuple(to_backend(a, backend, name=f"standardization {part}")
                  for a, part in zip(pair, ("mean", "std"), strict=True))
            for pair in (model.standardization, model.target_standardization))
        self.X, self.Y = standardized(X, scaling), Y
        if model.output != "linear":
            self.labels = _labels(Y, model.output, backend.xp)
            self.count = Y.shape[1] * (Y.shape[0] if model.output == "sigmoid" else 1)

    def on_record(self, run: Run) -> None:
        """Score ``run.model.params`` on the validation data; record the cost and accuracy."""
        model, xp = run.model, run.backend.xp
        AL, cache = forward(model.params, self.X, hidden_activation=model.hidden_activation,
                            output=model.output, xp=xp)
        ZL = cache[f"Z{len(model.layer_dims) - 1}"]
        if self.target_scaling is not None:  # the target's units, as Model.cost
            mean, std = self.target_scaling
            ZL = ZL * std + mean
        cost = cost_from_logits(ZL, self.Y, output=model.output, xp=xp)
        if model.output == "linear":
            model.record(VALIDATION_COST, run.iteration, float(cost))
            return
        hits = _labels(AL, model.output, xp) == self.labels
        correct = xp.sum(xp.astype(hits, cost.dtype))  # exact: counts below 2**24 in float32
        host = to_numpy(xp.stack([cost, correct]))  # one device -> host fetch
        model.record(VALIDATION_COST, run.iteration, float(host[0]))
        model.record(VALIDATION_ACCURACY, run.iteration, float(host[1]) / self.count)


def _labels(A: Any, output: str, xp: Any) -> Any:
    """Sigmoid: ``A > 0.5``; softmax: the class index of each column (``argmax``)."""
    return A > 0.5 if output == "sigmoid" else xp.argmax(A, axis=0)


# ------------------------------------------------------------------------ early stopping


class EarlyStopping(Callback):
    """Stop after ``patience`` record points without a lower validation cost; keep the best.

    Put it after a :class:`ValidationScore` (``train`` does): at each record point it reads
    ``run.model.metrics["validation_cost"][run.iteration]``. A strictly lower cost than the
    best so far is an improvement: the parameters and optimizer state of that point are copied.
    After ``patience`` record points in a row without one, it calls ``run.stop``. When the run
    ends (finished, stopped or interrupted; not when it diverged) the model gets the best
    point's parameters and optimizer state, ``model.iterations`` and ``model.best_iteration``
    become that point's iteration. ``model.costs`` and ``model.metrics`` keep every record.

    Parameters
    ----------
    patience : int
        Record points (every ``cost_every`` iterations) without improvement before stopping.
    """

    def __init__(self, patience: int) -> None:
        self.patience = check_int("early_stopping", patience, minimum=1)
        self._reset()

    def _reset(self) -> None:
        self.best_cost = math.inf
        self.best_iteration: int | None = None
        self.best: tuple[Any, Any] | None = None  # (parameters, optimizer state)
        self.waited = 0
        self.last_iteration: int | None = None  # the last record point counted

    def on_start(self, run: Run) -> None:
        """Forget any earlier run; after a ``resume``, take up the checkpoint's state.

        A checkpoint holds the best record point's parameters, optimizer state, cost and
        iteration and the count of record points without improvement (``run.restored``), so a
        resumed run stops where, and with the model, the uninterrupted run would.
        """
        self._reset()
        restored = run.restored.get(STATE_KEY)
        if restored is not None:
            self._restore(restored, run.backend)
        run.saved[STATE_KEY] = self.state()

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps of early stopping (``run.saved["early_stopping"]``).

        ``best_cost``, ``best_iteration``, ``waited``, ``patience``, ``last_iteration`` (the
        last record point counted: a resumed run scores the checkpoint's iteration again, and
        must not count it twice), and the ``params`` and ``optimizer_state`` of the best point
        (None before one).
        """
        params, state = self.best if self.best is not None else (None, None)
        return {"best_cost": self.best_cost, "best_iteration": self.best_iteration,
                "waited": self.waited, "patience": self.patience,
                "last_iteration": self.last_iteration, "params": params,
                "optimizer_state": state}

    def _restore(self, saved: Mapping[str, Any], backend: Any) -> None:
        self.best_cost, self.waited = float(saved["best_cost"]), int(saved["waited"])
        self.best_iteration, self.last_iteration = saved["best_iteration"], saved["last_iteration"]
        params = _moved(saved["params"], backend)
        if params is not None:
            self.best = (params, _moved(saved["optimizer_state"], backend))

    def on_record(self, run: Run) -> None:
        """Keep the parameters if the validation cost improved; stop when patience runs out."""
        costs = run.model.metrics.get(VALIDATION_COST, {})
        if run.iteration not in costs:
            raise RuntimeError("EarlyStopping needs a ValidationScore before it in the run's "
                               f"callbacks: no validation cost at iteration {run.iteration}")
        if self.last_iteration is not None and run.iteration <= self.last_iteration:
            return  # counted before the checkpoint this run resumed from
        self.last_iteration = run.iteration
        cost = costs[run.iteration]
        if cost < self.best_cost:  # NaN is never an improvement
            self.best_cost, self.best_iteration, self.waited = cost, run.iteration, 0
            self.best = (_copied(run.model.params, run.backend.xp),
                         _copied(run.model.optimizer_state, run.backend.xp))
            run.saved[STATE_KEY] = self.state()
            return
        self.waited += 1
        run.saved[STATE_KEY] = self.state()
        if self.waited >= self.patience:
            run.stop(f"early stopping: no lower validation cost in {self.patience} record "
                     f"points; the best, {self.best_cost:.6g}, was at iteration "
                     f"{self.best_iteration}")

    def on_end(self, run: Run) -> None:
        """Give the model the best point's parameters, state and iteration (unless diverged)."""
        if run.outcome == "diverged" or self.best is None:
            return
        model = run.model
        params, state = self.best
        model.params = _moved(params, run.backend)
        model.optimizer_state = _moved(state, run.backend)
        model.iterations = model.best_iteration = self.best_iteration
        # the final checkpoint holds the best point: a run resumed from it goes on from there
        # as this one did after it (nothing waited yet, the best point counted)
        self.waited, self.last_iteration = 0, self.best_iteration
        run.saved[STATE_KEY] = self.state()


def _moved(arrays: Mapping[str, Any] | None, backend: Any) -> dict[str, Any] | None:
    """The arrays on ``backend`` (a checkpoint's host arrays onto ``run.backend``).

    Arrays already there are handed back as they are; scalars (Adam's ``t``) stay.
    """
    if arrays is None:
        return None
    return {key: to_backend(value, backend, name=key) if getattr(value, "ndim", 0) else value
            for key, value in arrays.items()}


def _copied(arrays: Mapping[str, Any] | None, xp: Any) -> dict[str, Any] | None:
    """Parameters or optimizer state with their arrays copied (Adam's int ``t`` as it is)."""
    if arrays is None:
        return None
    return {key: xp.asarray(value, copy=True) if hasattr(value, "shape") else value
            for key, value in arrays.items()}


# ---------------------------------------------------------------- convergence (training cost)


class ConvergenceStop(Callback):
    """Stop when the training cost has stopped falling (``tol`` / ``n_iter_no_change``).

    scikit-learn's MLP rule on the recorded training cost: at each record point, a cost above
    ``best - tol`` counts one more record point without improvement (otherwise the count
    restarts); the cost becomes the best when lower. After ``patience`` such record points in a
    row the run stops with its last parameters (nothing is rolled back).

    Parameters
    ----------
    tol : float
        The least fall below the best cost so far that counts as an improvement.
    patience : int
        Record points in a row without improvement before stopping (``>= 1``).
    """

    def __init__(self, tol: float, patience: int) -> None:
        self.tol = float(tol)
        self.patience = check_int("n_iter_no_change", patience, minimum=1)
        self.best, self.waited = math.inf, 0

    def on_start(self, run: Run) -> None:
        """Forget any earlier run."""
        self.best, self.waited = math.inf, 0

    def on_record(self, run: Run) -> None:
        """Count the record points without improvement; stop when there are ``patience``."""
        cost = run.cost
        if cost is None:
            return
        self.waited = self.waited + 1 if cost > self.best - self.tol else 0
        self.best = min(self.best, cost)
        if self.waited >= self.patience:
            run.stop(f"converged: the training cost fell by no more than tol={self.tol:g} in "
                     f"{self.patience} record points (best {self.best:.6g})")
