"""The array-API core: pure numerics, arrays in and arrays out, no array library named.

Activations and their derivatives, forward propagation, costs, backward propagation and
parameter updates. Every function takes the arrays it needs and an array namespace ``xp``
(inferred from *all* the arrays when omitted; arrays of different libraries are a
``TypeError``), so the same code runs on any array-API library. :func:`backward` is the
lesson's formulas line by line; :func:`backward_fused` is the training loop's faster form.
"""

from portable_nn.core._activations import (
    ACTIVATIONS,
    LEAKY_SLOPE,
    activation,
    activation_derivative,
)
from portable_nn.core._backward_fused import backward_fused, backward_layers
from portable_nn.core._chunks import chunk_gradients
from portable_nn.core._network import backward, forward, forward_layers, num_layers
from portable_nn.core._optimizers import OPTIMIZERS, init_optimizer_state, optimizer_step, update
from portable_nn.core._outputs import (
    OUTPUTS,
    compute_cost,
    cost_from_logits,
    cost_from_probabilities,
    l2_penalty,
    output_function,
)

__all__ = [
    "ACTIVATIONS",
    "LEAKY_SLOPE",
    "OPTIMIZERS",
    "OUTPUTS",
    "activation",
    "activation_derivative",
    "compute_cost",
    "backward",
    "backward_fused",
    "backward_layers",
    "forward_layers",
    "chunk_gradients",
    "cost_from_logits",
    "cost_from_probabilities",
    "forward",
    "init_optimizer_state",
    "l2_penalty",
    "num_layers",
    "optimizer_step",
    "output_function",
    "update",
]
