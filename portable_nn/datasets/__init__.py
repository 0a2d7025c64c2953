"""Built-in data sets, returned as NumPy arrays in the (features, samples) layout."""

from portable_nn.datasets._planar import planar

__all__ = ["planar"]
