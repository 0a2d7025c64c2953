"""scikit-learn estimators: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They need the ``sklearn`` extra (``pip install -e '.[sklearn]'``). Import them
explicitly (``from portable_nn.sklearn import NeuralNetClassifier``); ``import portable_nn``
does not load scikit-learn.
"""

from portable_nn.tools.sklearn import NeuralNetClassifier, NeuralNetRegressor

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]
