"""The step specification: everything a training step is built from, frozen, built once.

Every step builder (eager, compiled, chunked, Dask) takes a :class:`StepSpec` instead of the
training options, and a spec is the compiled-step cache key (with the chunk width of a chunked
step): an option the step reads but the key misses cannot exist, because a builder has only the
spec to read. :data:`NOT_READ_BY_STEP` lists the options that are not in it, and why;
``tests/test_step_spec.py`` fails for an option that is in neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portable_nn.core.optimizers import Optimizer, hyperparams_of, make_optimizer

__all__ = ["NOT_READ_BY_STEP", "StepSpec"]

#: The training options a step does not read, each with where it goes instead. ``beta1``,
#: ``beta2``, ``epsilon`` and ``weight_decay`` are read only by the optimizers that name them
#: (``hyperparams_of``): the spec holds the chosen optimizer's, no others.
NOT_READ_BY_STEP: dict[str, str] = {
    "learning_rate": "a per-call argument of the step (a schedule changes it every iteration)",
    "num_iterations": "the loop's length",
    "init": "the starting parameters",
    "backend": "the namespace the step runs on; compile_steps' key names the backend",
    "device": "where the arrays live; compile_steps' key names the device",
    "dtype": "the arrays' dtype; compile_steps' key names it",
    "cost_every": "when the loop asks the step for its cost (the with_cost argument)",
    "print_cost": "a callback",
    "batch_size": "which samples the feed hands the step",
    "progress": "a callback",
    "compile": "how the step is executed, not what it computes",
    "checkpoint": "a callback",
    "checkpoint_every": "a callback",
    "resume": "the starting parameters and state",
    "standardize": "the data the step is given",
    "chunk_size": "the chunked strategy's chunk width, in its cache key beside the spec",
    "validation": "a callback",
    "early_stopping": "a callback",
    "callbacks": "callbacks",
    "recipe": "the defaults of the other options, resolved before the spec is built",
    "tol": "the loop's convergence stop (a callback)",
    "n_iter_no_change": "the loop's convergence stop (a callback)",
}


@dataclass(frozen=True)
class StepSpec:
    """What a training step computes: the network, its cost, dropout and the optimizer.

    ``dropout_seed`` is the seed of the dropout masks (drawn from ``(seed, iteration[,
    chunk])``) when the run has dropout (``keep_prob < 1`` and hidden layers), else ``None``:
    runs without dropout share a compiled step whatever their seed. ``hyperparams`` are the
    chosen optimizer's, ``(name, value)`` pairs in the optimizer's order.
    """

    layer_dims: tuple[int, ...]
    hidden_activation: str
    output: str
    l2: float
    keep_prob: float
    dropout_seed: int | None
    optimizer: str
    hyperparams: tuple[tuple[str, float], ...]

    @classmethod
    def from_options(cls, options: Any, layer_dims: tuple[int, ...]) -> StepSpec:
        """The spec of a run with ``options`` (its resolved ``TrainOptions``) and ``layer_dims``.

        ``options`` is read by attribute (``hidden_activation``, ``output``, ``l2``,
        ``keep_prob``, ``seed``, ``optimizer`` and the optimizer's hyperparameters): the spec
        imports nothing of training/, so every execution strategy sits one floor above it.
        """
        layer_dims = tuple(int(n) for n in layer_dims)
        dropout = options.keep_prob < 1.0 and len(layer_dims) > 2
        hyper = tuple((name, getattr(options, name)) for name in hyperparams_of(options.optimizer))
        return cls(layer_dims=layer_dims, hidden_activation=options.hidden_activation,
                   output=options.output, l2=options.l2, keep_prob=options.keep_prob,
                   dropout_seed=options.seed if dropout else None, optimizer=options.optimizer,
                   hyperparams=hyper)

    @property
    def layers(self) -> int:
        """The number of weight layers ``L``."""
        return len(self.layer_dims) - 1

    @property
    def hidden(self) -> tuple[int, ...]:
        """The hidden layers' sizes."""
        return self.layer_dims[1:-1]

    def make_optimizer(self) -> Optimizer:
        """The optimizer's ``(init, update)`` pair, its hyperparameters closed over."""
        return make_optimizer(self.optimizer, **dict(self.hyperparams))
