"""PyTorch modules out of a network's layers, and layers out of a ``torch.nn.Sequential``.

:func:`torch_sequential` builds ``Standardize`` (when the model standardises), then one
``nn.Linear`` per layer (``weight`` is ``W[l]``, ``(n_l, n_{l-1})``, and ``bias`` is
``b[l]`` flattened: the network's own layout) with the hidden activation's module between
them, and the output's module last (none for a linear output). :func:`sequential_layers`
reads such a Sequential back; both work on host (NumPy) arrays, which the caller moves.
This module imports PyTorch: the backend's public functions import it on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["Standardize", "sequential_layers", "torch_sequential"]

LEAKY_SLOPE = 0.01  # portable_nn's leaky ReLU (core.LEAKY_SLOPE)


class Standardize(torch.nn.Module):
    """``(x - mean) / std`` on samples as rows, as portable_nn standardises its inputs.

    ``mean`` and ``std`` are buffers of shape ``(n_x,)`` (kept in the state dict).

    Parameters
    ----------
    mean, std : torch.Tensor
        Per-feature mean and standard deviation, shape ``(n_x,)``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: Any, std: Any) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean))
        self.register_buffer("std", torch.as_tensor(std))

    def forward(self, x: Any) -> Any:
        """``(x - mean) / std``, ``x`` of shape ``(batch, n_x)``."""
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        """The number of features, for ``repr``."""
        return f"features={self.mean.shape[0]}"


def _activation_modules() -> dict[str, Any]:
    nn = torch.nn
    return {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
            "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE)}


def torch_sequential(weights: list[np.ndarray], biases: list[np.ndarray], *,
                     hidden_activation: str, output: str,
                     standardization: tuple[np.ndarray, np.ndarray] | None) -> Any:
    """A ``torch.nn.Sequential`` computing the network on samples as rows.

    Parameters
    ----------
    weights, biases : list of numpy.ndarray
        ``W[l]`` of shape ``(n_l, n_{l-1})`` and ``b[l]`` of shape ``(n_l, 1)``, one dtype.
    hidden_activation : str
        ``"tanh"``, ``"relu"``, ``"leaky_relu"`` or ``"sigmoid"``.
    output : str
        ``"sigmoid"`` (``nn.Sigmoid``), ``"softmax"`` (``nn.Softmax(dim=-1)``) or
        ``"linear"`` (no module).
    standardization : tuple of numpy.ndarray or None
        ``(mean, std)`` of shape ``(n_x, 1)``: a first ``Standardize`` module.

    Returns
    -------
    torch.nn.Sequential
        On the CPU, in the arrays' dtype, in evaluation mode.
    """
    nn = torch.nn
    modules: list[Any] = []
    if standardization is not None:
        mean, std = (torch.from_numpy(np.array(a).reshape(-1)) for a in standardization)
        modules.append(Standardize(mean, std))
    make_hidden = _activation_modules()[hidden_activation]
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        dtype = getattr(torch, str(W.dtype))
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(W)))
            linear.bias.copy_(torch.from_numpy(np.array(b).reshape(-1)))
        modules.append(linear)
        if layer < len(weights):
            modules.append(make_hidden())
    if output == "sigmoid":
        modules.append(nn.Sigmoid())
    elif output == "softmax":
        modules.append(nn.Softmax(dim=-1))
    return nn.Sequential(*modules).eval()


def sequential_layers(module: Any) -> dict[str, Any]:
    """The network a ``torch.nn.Sequential`` of Linear and activation modules computes.

    Accepted: an optional first ``Standardize`` (from :func:`torch_sequential`), then
    ``Linear`` modules with one kind of activation module between each pair (``Tanh``,
    ``ReLU``, ``LeakyReLU(0.01)``, ``Sigmoid``), then optionally ``Sigmoid`` or
    ``Softmax(dim=-1)`` (or ``dim=1``) as the output. ``Identity`` and ``Dropout`` modules
    (the identity at inference) are skipped.

    Returns
    -------
    dict
        ``weights`` and ``biases`` (NumPy, ``(n_l, n_{l-1})`` and ``(n_l, 1)``),
        ``hidden_activation``, ``output``, ``standardization`` (``(mean, std)`` of shape
        ``(n_x, 1)`` or None) and ``dtype`` (``"float32"`` or ``"float64"``).

    Raises
    ------
    TypeError
        When ``module`` is not a ``torch.nn.Sequential``.
    ValueError
        Naming the module (its index and type) that portable_nn's networks cannot express.
    """
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}")
    children = [(i, m) for i, m in enumerate(module)
                if not isinstance(m, (nn.Identity, nn.Dropout))]
    kinds = {nn.Tanh: "tanh", nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.LeakyReLU: "leaky_relu"}

    def refuse(index: int, child: Any, why: str) -> ValueError:
        return ValueError(f"from_torch: module {index} ({child!r}) {why}; portable_nn networks "
                          "are [Standardize,] Linear, activation, Linear, ..., Linear[, Sigmoid "
                          "or Softmax(dim=-1)] with one hidden activation among Tanh, ReLU, "
                          "LeakyReLU(0.01) and Sigmoid")

    standardization = None
    std_module = children[0][1] if children else None
    if isinstance(std_module, Standardize):
        children.pop(0)
        standardization = tuple(t.detach().cpu().numpy().reshape(-1, 1).copy()
                                for t in (std_module.mean, std_module.std))
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    hidden: str | None = None
    output = "linear"
    expect_linear = True
    for position, (index, child) in enumerate(children):
        last = position == len(children) - 1
        if expect_linear:
            if not isinstance(child, nn.Linear):
                raise refuse(index, child, "is where a Linear layer must be")
            W = child.weight.detach().cpu().numpy().copy()
            b = (child.bias.detach().cpu().numpy().reshape(-1, 1).copy()
                 if child.bias is not None else np.zeros((W.shape[0], 1), W.dtype))
            if weights and W.shape[1] != weights[-1].shape[0]:
                raise refuse(index, child, f"takes {W.shape[1]} inputs but the layer before "
                                           f"gives {weights[-1].shape[0]}")
            weights.append(W)
            biases.append(b)
            expect_linear = False
            continue
        kind = next((name for cls, name in kinds.items() if type(child) is cls), None)
        if last and isinstance(child, nn.Softmax):
            if child.dim not in (-1, 1):
                raise refuse(index, child, "normalises another axis than the features' (dim=-1)")
            output = "softmax"
            continue
        if last and kind == "sigmoid":
            output = "sigmoid"
            continue
        if kind is None:
            raise refuse(index, child, "is not an activation portable_nn has")
        if kind == "leaky_relu" and child.negative_slope != LEAKY_SLOPE:
            raise refuse(index, child, f"has negative_slope {child.negative_slope}, but "
                                       f"portable_nn's leaky ReLU has {LEAKY_SLOPE}")
        if hidden is not None and kind != hidden:
            raise refuse(index, child, f"differs from the first hidden activation, {hidden!r}")
        if last:
            raise refuse(index, child, "ends the network: a hidden activation must be followed "
                                       "by a Linear layer")
        hidden = kind
        expect_linear = True
    if not weights:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    dtypes = {str(a.dtype) for a in (*weights, *biases, *(standardization or ()))}
    if len(dtypes) != 1 or not dtypes <= {"float32", "float64"}:
        raise ValueError(f"from_torch: the parameters' dtypes are {sorted(dtypes)}; portable_nn "
                         "needs one of float32 and float64 throughout")
    if standardization is not None and standardization[0].shape[0] != weights[0].shape[1]:
        raise ValueError(f"from_torch: Standardize has {standardization[0].shape[0]} features "
                         f"but the first Linear takes {weights[0].shape[1]}")
    return {"weights": weights, "biases": biases, "hidden_activation": hidden or "tanh",
            "output": output, "standardization": standardization, "dtype": dtypes.pop()}
