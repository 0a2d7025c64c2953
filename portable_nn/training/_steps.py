"""The training step of a run, and the compiled block of steps that may go with it.

:func:`make_step` builds the one step every backend runs: forward, the cost where asked,
backprop and the optimizer's update. :func:`build_steps` chooses how the run executes it:
eagerly, compiled (``compile=True``), summed over sample chunks (``chunk_size``), or as one
task per column chunk on Dask workers. Each of those lives in its own module; this one only
composes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from portable_nn.backend import Backend, compile_steps
from portable_nn.core import (
    backward_fused,
    cost_from_logits,
    forward,
    l2_penalty,
    optimizer_step,
)
from portable_nn.training import _chunked
from portable_nn.training._dask_train import DaskSteps
from portable_nn.training._options import TrainOptions

__all__ = ["Steps", "build_steps", "make_step"]

Step = Callable[..., tuple[Any, Any, Any]]


def make_step(xp: ModuleType, options: TrainOptions) -> Step:
    """Build ``step(params, state, X, Y, lr, masks, with_cost) -> (params, state, cost)``.

    A forward pass, the cost of that pass (a 0-d array, only when ``with_cost``; with the L2
    penalty), backprop and one optimizer update. Pure: no argument is modified. Plain gradient
    descent folds the learning rate into backprop (``scale=lr``): ``W - (lr dW)`` with one
    multiplication of the output error instead of one per parameter.
    """
    activation, output, l2 = options.hidden_activation, options.output, options.l2
    plain_gd = options.optimizer == "gd"
    hyper = {"beta1": options.beta1, "beta2": options.beta2, "epsilon": options.epsilon}

    def step(params: dict, state: dict, X: Any, Y: Any, lr: Any, masks: Any,
             with_cost: bool = False) -> tuple[dict, dict, Any]:
        _, cache = forward(params, X, hidden_activation=activation, output=output,
                           dropout_masks=masks, xp=xp)
        cost = _cost(params, cache, Y, output, l2, xp) if with_cost else None
        scale = lr if plain_gd else 1.0
        grads = backward_fused(params, cache, Y, hidden_activation=activation, output=output,
                               l2=l2, scale=scale, xp=xp)
        if plain_gd:
            return {key: value - grads[f"d{key}"] for key, value in params.items()}, state, cost
        new_params, new_state = optimizer_step(options.optimizer, params, grads, state, lr,
                                               **hyper, xp=xp)
        return new_params, new_state, cost

    return step


def _cost(params: dict, cache: dict, Y: Any, output: str, l2: float, xp: ModuleType) -> Any:
    """The mean cost of a forward pass from its ``Z[L]``, with the L2 penalty when ``l2``."""
    cost = cost_from_logits(cache[f"Z{len(params) // 2}"], Y, output=output, xp=xp)
    return cost + l2_penalty(params, l2, Y.shape[1], xp=xp) if l2 else cost


@dataclass
class Steps:
    """How a run executes its step.

    ``step(params, state, X, Y, lr, masks, with_cost)`` runs one iteration; ``block(params,
    state, X, Y, rates)`` runs ``len(rates)`` cost-free full-batch iterations compiled (or is
    None). With ``masks_from_iteration`` the step draws its own dropout masks per chunk and
    takes the iteration number as ``masks``. ``X`` and ``Y`` are the data the step reads (on
    Dask, rechunked), ``backend`` where the parameters live during the run (the host on Dask).
    """

    step: Step
    block: Callable[..., tuple[Any, Any]] | None
    masks_from_iteration: bool
    X: Any
    Y: Any
    backend: Backend
    dask: DaskSteps | None = None

    def start(self, model: Any) -> None:
        """Move the model's parameters and state to where the run keeps them (Dask: host)."""
        if self.dask is not None:
            model.params = self.dask.to_host(model.params)
            model.optimizer_state = self.dask.to_host(model.optimizer_state)

    def finish(self, model: Any) -> None:
        """Return the model's parameters and state to its backend (Dask: Dask arrays)."""
        if self.dask is not None:
            model.params = self.dask.back(model.params)
            model.optimizer_state = self.dask.back(model.optimizer_state)


def build_steps(backend: Backend, X: Any, Y: Any, options: TrainOptions,
                layer_dims: tuple[int, ...]) -> Steps:
    """The run's :class:`Steps` for ``backend``, data ``X``/``Y`` and ``options``."""
    if backend.name == "dask":  # one task per column chunk, a tree sum on the workers
        if options.compile:
            compile_steps(backend, make_step(backend.xp, options))  # raises: nothing compiles
        dask = DaskSteps(backend, X, Y, options, layer_dims[1:-1])
        return Steps(dask.step, None, True, dask.X, dask.Y, dask.host_backend, dask)
    if options.chunk_size is not None:  # gradients summed over sample chunks
        batch_m = min(X.shape[1], options.batch_size or X.shape[1])
        step, block = _chunked.chunked_steps(backend, X, options, layer_dims=layer_dims,
                                             batch_m=batch_m)
        return Steps(step, block, True, X, Y, backend)
    step = make_step(backend.xp, options)
    if not options.compile:
        return Steps(step, None, False, X, Y, backend)
    compiled = compile_steps(backend, step, key=options.step_key())
    return Steps(compiled.step, compiled.block, False, X, Y, backend)
