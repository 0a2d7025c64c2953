"""scikit-learn estimators: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They need the ``sklearn`` extra (``pip install 'portable-nn[sklearn]'``; from a clone:
``pip install -e '.[sklearn]'``). Import them explicitly (``from portable_nn.sklearn import
NeuralNetClassifier``); ``import portable_nn`` does not load scikit-learn. Where skl2onnx is
installed, their converters are registered with it (when it is imported), so that
``skl2onnx.to_onnx`` converts pipelines holding them; ``register_onnx_converters()`` does it
at once.
"""

from portable_nn.tools.sklearn import (
    NeuralNetClassifier,
    NeuralNetRegressor,
    register_onnx_converters,
)

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "register_onnx_converters"]
