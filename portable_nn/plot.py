"""Plots of trained models: ``decision_boundary`` and ``costs`` (needs the ``plot`` extra).

Import it explicitly (``from portable_nn import plot``); ``import portable_nn`` does not load
matplotlib.
"""

from portable_nn.tools.plot import costs, decision_boundary

__all__ = ["costs", "decision_boundary"]
