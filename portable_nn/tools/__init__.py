"""User tools on top of the public API: the command line, plots and scikit-learn estimators.

Nothing here is imported by ``import portable_nn``: matplotlib and scikit-learn stay optional.
Use :mod:`portable_nn.plot`, :mod:`portable_nn.sklearn` and ``python -m portable_nn``.
"""
