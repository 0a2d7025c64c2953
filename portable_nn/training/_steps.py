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

from portable_nn.backend import Backend
from portable_nn.core import backward_layers, cost_from_logits, forward_layers, l2_penalty
from portable_nn.training import _chunked
from portable_nn.training._dask_train import DaskSteps
from portable_nn.training._options import TrainOptions
from portable_nn.training._step_spec import StepSpec

__all__ = ["Steps", "build_steps", "make_step"]

Step = Callable[..., tuple[Any, Any, Any]]


def make_step(xp: ModuleType, spec: StepSpec) -> Step:
    """Build ``step(params, state, X, Y, lr, masks, with_cost) -> (params, state, cost)``.

    A forward pass, the cost of that pass (a 0-d array, only when ``with_cost``; with the L2
    penalty), backprop and one update of the spec's optimizer:
    :func:`portable_nn.core.forward_layers` and :func:`~portable_nn.core.backward_layers`, the
    positional forms of ``forward`` and ``backward_fused``, on the spec's weights and biases
    looked up with names built here, once. ``spec`` is all the step reads. Plain gradient
    descent folds the learning rate into backprop (``scale=lr``): ``W - (lr dW)`` with one
    multiplication of the output error instead of one per parameter. Pure: no argument is modified.
    """
    activation, output, l2, layers = spec.hidden_activation, spec.output, spec.l2, spec.layers
    plain_gd = spec.optimizer == "gd"
    update = spec.make_optimizer().update
    weight_names = [f"W{layer}" for layer in range(1, layers + 1)]
    bias_names = [f"b{layer}" for layer in range(1, layers + 1)]
    names = [name for pair in zip(weight_names, bias_names, strict=True) for name in pair]
    grad_names = [f"d{name}" for name in names]

    def step(params: dict, state: dict, X: Any, Y: Any, lr: Any, masks: Any,
             with_cost: bool = False) -> tuple[dict, dict, Any]:
        weights = [params[name] for name in weight_names]
        activations, ZL = forward_layers(weights, [params[name] for name in bias_names], X,
                                         hidden_activation=activation, output=output,
                                         dropout_masks=masks, xp=xp)
        cost = _cost(params, ZL, Y, output, l2, xp) if with_cost else None
        grads = backward_layers(weights, activations, Y, dropout_masks=masks,
                                hidden_activation=activation, l2=l2,
                                scale=lr if plain_gd else 1.0, xp=xp)
        if plain_gd:
            stepped = zip(names, grads, strict=True)
            return {name: params[name] - grad for name, grad in stepped}, state, cost
        named = dict(zip(grad_names, grads, strict=True))
        new_params, new_state = update(params, named, state, lr, xp=xp)
        return new_params, new_state, cost

    return step


def _cost(params: dict, ZL: Any, Y: Any, output: str, l2: float, xp: ModuleType) -> Any:
    """The mean cost of a forward pass from its ``Z[L]``, with the L2 penalty when ``l2``."""
    cost = cost_from_logits(ZL, Y, output=output, xp=xp)
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
    """The run's :class:`Steps` for ``backend``, data ``X``/``Y`` and ``options``.

    The step itself is built from the run's :class:`StepSpec` alone (built here, once), which
    is also the compiled step's cache key; ``options`` give only how it is executed.
    """
    spec = StepSpec.from_options(options, layer_dims)
    if backend.ops.lazy:  # Dask: one task per column chunk, a tree sum on the workers
        if options.compile:
            backend.compile_steps(make_step(backend.xp, spec))  # raises
        dask = DaskSteps(backend, X, Y, spec, chunk_size=options.chunk_size)
        return Steps(dask.step, None, True, dask.X, dask.Y, dask.host_backend, dask)
    if options.chunk_size is not None:  # gradients summed over sample chunks
        batch_m = min(X.shape[1], options.batch_size or X.shape[1])
        step, block = _chunked.chunked_steps(backend, X, spec, chunk_size=options.chunk_size,
                                             compile=options.compile is True, batch_m=batch_m)
        return Steps(step, block, True, X, Y, backend)
    step = make_step(backend.xp, spec)
    if not options.compile:
        return Steps(step, None, False, X, Y, backend)
    compiled = backend.compile_steps(step, key=spec)
    return Steps(compiled.step, compiled.block, False, X, Y, backend)
