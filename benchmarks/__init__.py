"""Benchmarks of portable_nn against a hand-written NumPy loop, PyTorch and scikit-learn.

Run ``python -m benchmarks`` (``--quick`` for a one-minute run, ``--json PATH`` to keep the
numbers). Nothing here is a test: timings are reported, never asserted.
"""
