"""The eager and the compiled strategies, and the one training step every backend runs.

:func:`make_step` builds the step: forward, the cost where asked, backprop and the optimizer's
update. :class:`EagerStrategy` calls it once per iteration; :class:`CompiledStrategy` calls
it compiled (``compile=True``), with a compiled block of cost-free iterations. Both draw the
dropout masks of iteration ``i`` from ``(seed, i)`` on the run's backend.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from portable_nn.backend import Backend
from portable_nn.core import backward_layers, cost_from_logits, forward_layers, l2_penalty
from portable_nn.training._step_spec import StepSpec
from portable_nn.training._strategy import Strategy

__all__ = ["CompiledStrategy", "EagerStrategy", "make_step"]

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


class EagerStrategy(Strategy):
    """The step as written, one call per iteration, on the run's backend.

    Dropout masks of iteration ``i`` come from ``(spec.dropout_seed, i)``
    (:func:`portable_nn.backend.mask_sampler`), one per hidden layer, as wide as the batch.
    """

    def __init__(self, backend: Backend, X: Any, Y: Any, spec: StepSpec, *,
                 compile: bool = False, chunk_size: Any = None, batch_size: Any = None) -> None:
        self.X, self.Y, self.backend = X, Y, backend
        self.hidden, self.keep_prob = spec.hidden, spec.keep_prob
        self.sample = None if spec.dropout_seed is None else backend.mask_sampler(
            spec.dropout_seed)
        self._step: Step = make_step(backend.xp, spec)

    def masks(self, width: int, iteration: int) -> dict[int, Any] | None:
        """Iteration ``iteration``'s dropout masks for a batch ``width`` samples wide."""
        if self.sample is None:
            return None
        drawn = self.sample(iteration, [(n, width) for n in self.hidden], self.keep_prob)
        return dict(enumerate(drawn, start=1))

    def step(self, params: dict, state: Any, X: Any, Y: Any, rate: Any, iteration: int,
             with_cost: bool = False) -> tuple[dict, Any, Any]:
        masks = None if self.sample is None else self.masks(X.shape[1], iteration)
        if with_cost:
            return self._step(params, state, X, Y, rate, masks, with_cost=True)
        return self._step(params, state, X, Y, rate, masks)


class CompiledStrategy(EagerStrategy):
    """The same step compiled for the backend (cached by the spec), with a compiled block."""

    def __init__(self, backend: Backend, X: Any, Y: Any, spec: StepSpec, *,
                 compile: bool = True, chunk_size: Any = None, batch_size: Any = None) -> None:
        super().__init__(backend, X, Y, spec)
        compiled = backend.compile_steps(self._step, key=spec)
        self._step = compiled.step
        self.block = compiled.block if spec.dropout_seed is None else None
