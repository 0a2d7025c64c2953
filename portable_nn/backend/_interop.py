"""PyTorch modules in and out, importing PyTorch only when used (it is an optional library).

The functions of :mod:`portable_nn.backend._torch_modules` (which imports PyTorch at its
top, so that its ``Standardize`` module can be pickled with ``torch.save``), behind a lazy
import whose failure names the extra to install.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sequential_layers", "torch_sequential"]

TORCH_HINT = ("install PyTorch: pip install 'portable-nn[torch]' (from a clone: "
              "pip install -e '.[torch]')")


def _modules() -> Any:
    try:
        from portable_nn.backend import _torch_modules
    except ImportError as exc:
        raise ImportError(f"to_torch and from_torch need PyTorch: {TORCH_HINT}") from exc
    return _torch_modules


def torch_sequential(weights: list[Any], biases: list[Any], *, hidden_activation: str,
                     output: str, standardization: tuple[Any, Any] | None) -> Any:
    """A ``torch.nn.Sequential`` of the network (see ``_torch_modules.torch_sequential``).

    Parameters
    ----------
    weights, biases : list of numpy.ndarray
        ``W[l]`` ``(n_l, n_{l-1})`` and ``b[l]`` ``(n_l, 1)`` on the host, one dtype.
    hidden_activation, output : str
        The model's activation and output names.
    standardization : tuple or None
        ``(mean, std)`` of shape ``(n_x, 1)`` on the host: a first ``Standardize`` module.

    Returns
    -------
    torch.nn.Sequential
        ``[Standardize,] Linear, activation, ..., Linear[, Sigmoid or Softmax(dim=-1)]``.

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    """
    return _modules().torch_sequential(weights, biases, hidden_activation=hidden_activation,
                                       output=output, standardization=standardization)


def sequential_layers(module: Any) -> dict[str, Any]:
    """The layers of a ``torch.nn.Sequential`` as host arrays and names.

    Parameters
    ----------
    module : torch.nn.Sequential
        ``[Standardize,] Linear, activation, ..., Linear[, Sigmoid or Softmax(dim=-1)]``.

    Returns
    -------
    dict
        ``weights``, ``biases``, ``hidden_activation``, ``output``, ``standardization``,
        ``dtype`` (see ``_torch_modules.sequential_layers``).

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    TypeError, ValueError
        When ``module`` is not a Sequential, or has a module portable_nn cannot express.
    """
    return _modules().sequential_layers(module)
