"""Compiled training steps, for the backends that can compile the array-API step function.

The step function handed in is the same array-API code the eager loop runs; compiling only
changes how it is executed:

- JAX: ``jax.jit`` of the step, and ``jax.lax.scan`` over a block of full-batch iterations
  between two recorded costs (one dispatch per block instead of one per iteration);
- PyTorch: ``torch.compile`` of the step.

Other backends raise a clear error: CuPy CUDA-graph capture is not implemented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portable_nn.backend._selector import Backend

__all__ = ["CompiledSteps", "compile_steps"]

Step = Callable[..., tuple[Any, Any, Any]]


class CompiledSteps:
    """A compiled ``step`` and, where possible, a compiled ``block`` of cost-free steps.

    ``step(params, state, X, Y, lr, masks, with_cost)`` runs one iteration;
    ``block(params, state, X, Y, lrs)`` runs ``len(lrs)`` full-batch iterations without dropout
    and returns ``(params, state)``; it is ``None`` when the backend has no such loop.
    """

    def __init__(self, step: Step, block: Callable[..., tuple[Any, Any]] | None) -> None:
        self.step = step
        self.block = block


def compile_steps(backend: Backend, step: Step) -> CompiledSteps:
    """Compile ``step`` for ``backend``.

    Raises
    ------
    ValueError
        When ``backend`` cannot compile (NumPy, array-api-strict, CuPy, others).
    """
    if backend.name == "jax":
        return _jax_steps(backend, step)
    if backend.name == "torch":
        import torch

        return CompiledSteps(torch.compile(step, dynamic=False), None)
    raise ValueError(
        f"compile=True is not available for backend={backend.name!r}: only 'jax' (jax.jit) and "
        "'torch' (torch.compile) can compile the training step; use compile=False"
    )


def _jax_steps(backend: Backend, step: Step) -> CompiledSteps:
    import jax

    jitted = jax.jit(step, static_argnames=("with_cost",))

    def run_block(params: Any, state: Any, X: Any, Y: Any, lrs: Any) -> tuple[Any, Any]:
        def body(carry: tuple[Any, Any], lr: Any) -> tuple[tuple[Any, Any], None]:
            new_params, new_state, _ = step(carry[0], carry[1], X, Y, lr, None, with_cost=False)
            return (new_params, new_state), None

        (params, state), _ = jax.lax.scan(body, (params, state), lrs)
        return params, state

    compiled_block = jax.jit(run_block)

    def block(params: Any, state: Any, X: Any, Y: Any, lrs: list[float]) -> tuple[Any, Any]:
        rates = backend.xp.asarray(lrs, dtype=backend.dtype)
        return compiled_block(params, state, X, Y, rates)

    return CompiledSteps(jitted, block)
