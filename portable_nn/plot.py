"""Plots of trained models: ``decision_boundary`` and ``costs`` (needs the ``plot`` extra).

``describe_network`` says in words what a model's network is, as the titles show it.

Import it explicitly (``from portable_nn import plot``); ``import portable_nn`` does not load
matplotlib.
"""

from portable_nn.tools.plot import costs, decision_boundary, describe_network

__all__ = ["costs", "decision_boundary", "describe_network"]
