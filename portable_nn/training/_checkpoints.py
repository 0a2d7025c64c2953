"""Training checkpoints: saving a run's model as it goes, and resuming a run from one.

:class:`Checkpointer` is the callback of ``train(..., checkpoint=path)``; :func:`resume_into`
puts a checkpoint's state into a fresh run's model (``train(..., resume=path)``), from the
file read once (:func:`~._persistence.read_model`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from portable_nn.files import interrupts_deferred
from portable_nn.training._callbacks import Callback, Run
from portable_nn.training._check_inputs import all_finite
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._model import Model, host_to_model, save_model
from portable_nn.training._persistence import ModelFile, read_model
from portable_nn.training._snapshot import TRAINED_FIELDS

__all__ = ["Checkpointer", "ModelFile", "read_model", "resume_into"]


class Checkpointer(Callback):
    """A callback saving a run's model every ``every`` iterations, and when the run ends.

    Saves at the record points ``i % every == 0`` (the model after ``i`` updates, whose cost
    was just found finite) and in ``on_end`` (the end of the run, an early stop or a Ctrl-C),
    never after a divergence: the last good checkpoint is kept.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file (rewritten atomically each time).
    every : int or None
        Save when the iteration count reaches a multiple of ``every``; ``None``: only at the end.
    m : int
        The number of training samples (recorded, and checked on resume).
    total : int
        ``num_iterations`` of the run (recorded).
    """

    def __init__(self, path: str | os.PathLike[str], every: int | None, m: int,
                 total: int) -> None:
        self.path, self.m, self.total = path, m, total
        self.every = every
        self.saved_at: int | None = None
        self.started_at: int | None = None

    def on_start(self, run: Run) -> None:
        """Note where the run starts: that state (initial, or resumed) is not saved again."""
        self.started_at = run.model.iterations

    def on_record(self, run: Run) -> None:
        """Save at every multiple of ``every`` (called there; nothing without ``every``)."""
        if self.every is not None and run.iteration != self.started_at:
            self.save(run.model, run.last_finite, run.learning_rate, run.saved)

    def on_end(self, run: Run) -> None:
        """Save what the run reached, unless it diverged or failed before this one started."""
        if run.outcome != "diverged" and self.started_at is not None:
            self.save(run.model, run.last_finite, run.learning_rate, run.saved)

    def save(self, model: Model, last_finite: float | None, learning_rate: Any,
             callback_state: Mapping[str, Any] | None = None) -> None:
        """Save ``model`` (params, optimizer state, costs, iterations) unless already saved.

        ``callback_state`` is the run's ``run.saved`` (early stopping's state), kept with it.

        Raises
        ------
        TrainingDivergedError
            When a parameter is NaN or infinite: the last good checkpoint is kept.
        """
        if self.saved_at == model.iterations:
            return
        xp = model.xp
        with interrupts_deferred():  # a second Ctrl-C waits until the checkpoint is written
            if not all_finite(model.params.values(), xp):
                raise TrainingDivergedError(model.iterations, last_finite, learning_rate)
            save_model(model, self.path, checkpoint={"m": self.m, "num_iterations": self.total},
                       callback_state=callback_state)
            self.saved_at = model.iterations


def resume_into(model: Model, saved: ModelFile, *, m: int, options: Any) -> None:
    """Replace ``model``'s state with the checkpoint ``saved``, after checking it fits the run.

    ``saved`` is the checkpoint file, read once by the run (:func:`read_model`), which also
    took its dtype.

    ``model`` is the freshly initialised model of the run (its backend, dtype, layer sizes and
    options); the checkpoint must have the same ``layer_dims``, activations, output and
    optimizer, the same number of samples ``m`` (when recorded), and at most
    ``num_iterations`` iterations.

    Raises
    ------
    ValueError
        Naming ``resume`` and what does not match.
    """
    name = saved.name
    meta = saved.meta
    if saved.layer_dims != model.layer_dims:
        raise ValueError(
            f"resume={name!r} holds a model with layer_dims {saved.layer_dims}, but X, hidden "
            f"and Y of this run give {model.layer_dims}"
        )
    for key in ("hidden_activation", "output"):
        if meta[key] != getattr(model, key):
            raise ValueError(f"resume={name!r} was trained with {key}={meta[key]!r}, but this "
                             f"run has {key}={getattr(model, key)!r}")
    optimizer = saved.snapshot.fields.config.get("optimizer", "gd")
    if optimizer != options.optimizer:
        raise ValueError(f"resume={name!r} was trained with optimizer={optimizer!r}, but this "
                         f"run has optimizer={options.optimizer!r}")
    recorded_m = (meta.get("checkpoint") or {}).get("m")
    if recorded_m is not None and recorded_m != m:
        raise ValueError(
            f"resume={name!r} was trained on {recorded_m} samples, but X has {m} columns; to "
            f"start a new run from its weights use init=pnn.load({name!r}).params"
        )
    if meta["iterations"] > options.num_iterations:
        raise ValueError(
            f"resume={name!r} has already done {meta['iterations']} iterations, more than "
            f"num_iterations={options.num_iterations}"
        )
    restored = host_to_model(saved.snapshot, model.backend_info)
    for field in TRAINED_FIELDS:  # params, state, costs, metrics, iterations, statistics
        value = getattr(restored, field)
        if value is not None:  # None (plain gd's state, no standardisation): the run's own
            setattr(model, field, value)
    # early stopping's best point and patience count: Run takes it as run.restored
    vars(model)["_restored_callback_state"] = saved.callback_state()
